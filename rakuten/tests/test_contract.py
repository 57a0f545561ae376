"""RmsAdapter passes the adapter contract (sync/tests/contract.py) against the RMS sandbox."""

from __future__ import annotations

import pytest
from django.conf import settings

from events.actors import Actor
from rakuten.models import RakutenBinding
from sync.registrations import store_sku_register
from sync.tests.contract import AdapterContract, FaultKind, Operation

from .conftest import Engine

pytestmark = pytest.mark.django_db

ENDPOINT_OF: dict[str, str] = {
    "push": "inventory.bulk_upsert",
    "orders": "order.search",
    "stock": "inventory.bulk_get",
    "auth": "license.expiry",
}
CONTRACT_ITEM = "contract"


class RmsWorld:
    """The conftest's three stores, each its own shop in one RMS sandbox (``Engine``)."""

    def __init__(self, engine: Engine) -> None:
        self.sandbox = engine.sandbox
        self.store_ids = ("store-a", "store-b", "store-c")
        self.sku_ids = ("tshirt-red-m", "tshirt-red-l", "towel-navy")
        # The RMS keys of each SKU's variant, as registered (the same in every shop).
        self.keys: dict[str, tuple[str, str]] = {
            "tshirt-red-m": ("tshirt-red", "Tshirt-RED-M"),
            "tshirt-red-l": ("tshirt-red", "Tshirt-RED-L"),
            "towel-navy": ("towel", "Towel-NAVY"),
        }

    def register(self, store_id: str, sku_id: str, n: int) -> None:
        variant_id = f"Contract-{n:03d}"
        self.sandbox.item_add(
            store_id,
            {"manageNumber": CONTRACT_ITEM, "variants": [{"variantId": variant_id, "quantity": 0}]},
        )
        store_sku_register(
            store_id=store_id,
            sku_id=sku_id,
            manage_number=CONTRACT_ITEM,
            variant_id=variant_id,
            actor=Actor.cli("contract"),
        )
        self.keys[sku_id.lower()] = (CONTRACT_ITEM, variant_id)

    def shown(self, store_id: str, sku_id: str) -> int | None:
        return self.sandbox.stock_of(store_id, *self.keys[sku_id])

    def set_shown(self, store_id: str, sku_id: str, quantity: int) -> None:
        self.sandbox.stock_set(store_id, *self.keys[sku_id], quantity)

    def place_order(self, store_id: str, sku_id: str, units: int) -> str:
        manage_number, variant_id = self.keys[sku_id]
        order = self.sandbox.order_place(
            store_id,
            [{"manageNumber": manage_number, "variantId": variant_id, "units": units}],
            allow_oversell=True,
        )
        return order.order_number

    def cancel_order(self, store_id: str, number: str) -> None:
        self.sandbox.order_progress(store_id, number, 900)

    def change_units(self, store_id: str, number: str, sku_id: str, units: int) -> None:
        order = self.sandbox.order(store_id, number)
        (index,) = [
            index
            for index, line in enumerate(order.lines)
            if (line.manage_number, line.variant_id) == self.keys[sku_id] and not line.deleted
        ]
        self.sandbox.order_units(store_id, number, index, units)

    def fault(self, store_id: str, kind: FaultKind, count: int, operation: Operation) -> None:
        # RmsClient retries 429 and 5xx itself (RAKUTEN_MAX_RETRIES), never a 401.
        calls = count if kind == "401" else count * (settings.RAKUTEN_MAX_RETRIES + 1)
        self.sandbox.fault_add(
            ENDPOINT_OF[operation],
            kind,
            calls,
            shop_id=store_id,
            retry_after=0.01 if kind == "429" else None,  # the default (1 s) slows the retries
        )

    def refuse_next_push_row(self, store_id: str, sku_id: str) -> str:
        # A variant id RMS refuses (written past the binder's checks, as an old row could be).
        variant_id = self.keys[sku_id][1]
        RakutenBinding.objects.filter(
            registration__store_id=store_id, registration__sku_id=sku_id
        ).update(variant_id=variant_id.replace("-", " "))
        return "IE0002"

    def calls(self, store_id: str, operation: Operation) -> int:
        return len(self.sandbox.calls_matching(shop_id=store_id, endpoint=ENDPOINT_OF[operation]))

    def garbage_success(self, store_id: str) -> None:
        self.sandbox.fault_add("inventory.bulk_upsert", "malformed", 100, shop_id=store_id)

    def late_write(self, store_id: str) -> float:
        # The sandbox applies a "hang" call after holding it back, longer than the client's
        # read timeout in the tests (2 s): the client retries meanwhile.
        self.sandbox.hang_seconds = 3.0
        self.sandbox.fault_add("inventory.bulk_upsert", "hang", 1, shop_id=store_id)
        return self.sandbox.hang_seconds

    def clear_faults(self) -> None:
        self.sandbox.faults.clear()


class TestRmsContract(AdapterContract):
    @pytest.fixture
    def world(self, engine: Engine) -> RmsWorld:
        return RmsWorld(engine)
