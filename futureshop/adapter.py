"""futureshop as the engine sees it: the adapter and the binder (``sync.adapters``).

It translates only: the engine's updates into inventory-update entries (a product's SKUs
in one entry, ABSOLUTE counts), futureshop orders into ``OrderSnapshot``s, the inventory
search into ``Listing``s, futureshop's answers into the engine's errors.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, ClassVar

from django.conf import settings
from django.utils.translation import gettext_lazy as _

from sync.adapters import (
    AppliedOrder,
    AuthResult,
    BindingField,
    BindingInvalid,
    CatalogPage,
    CredentialField,
    Listing,
    NoFollowups,
    OrderLineSnapshot,
    OrderSnapshot,
    PollWindow,
    PushResult,
    StockUpdate,
)

from .client import FutureshopClient, api_domain_problem
from .models import FutureshopBinding
from .types import (
    BRANCH_NO_MAX_BYTES,
    COUNT_MAX,
    PRODUCT_NO_MAX_BYTES,
    PRODUCTS_PER_REQUEST,
    Order,
    SearchedOrder,
)
from .types import StockUpdate as FutureshopUpdate

if TYPE_CHECKING:
    from stores.models import Store

MSG_NOT_MAPPED = _("The SKU has no futureshop product number and branch numbers in this store.")
MSG_AUTH_OK = _("futureshop accepted the credentials.")
MSG_TOO_LONG = _("%(field)s “%(value)s” is longer than futureshop's %(limit)d bytes.")

SEARCH_WINDOW = dt.timedelta(days=31)
PRODUCTS_PER_PAGE = 100
KEYS = ("product_no", "sku_no", "vertical_no", "horizontal_no")


def _clean(value: object) -> str:
    return unicodedata.normalize("NFKC", str(value or "")).strip()


class FutureshopBinder:
    """Registrations <-> (productNo, skuNo, verticalNo, horizontalNo) in FutureshopBinding."""

    fields: ClassVar[tuple[BindingField, ...]] = (
        BindingField("product_no", _("product number"), PRODUCT_NO_MAX_BYTES),
        BindingField("sku_no", _("SKU number"), 100),
        BindingField("vertical_no", _("branch number (vertical)"), BRANCH_NO_MAX_BYTES),
        BindingField("horizontal_no", _("branch number (horizontal)"), BRANCH_NO_MAX_BYTES),
    )

    def clean(self, keys: Mapping[str, str]) -> dict[str, str]:
        cleaned = {name: _clean(keys.get(name)) for name in KEYS}
        for field in self.fields:
            value = cleaned[field.name]
            if len(value.encode()) > field.max_length:
                raise BindingInvalid(
                    str(
                        MSG_TOO_LONG
                        % {"field": field.label, "value": value, "limit": field.max_length}
                    )
                )
        return cleaned

    def identity(self, keys: Mapping[str, str]) -> tuple:
        return (
            str(keys.get("product_no", "")),
            str(keys.get("vertical_no", "")),
            str(keys.get("horizontal_no", "")),
        )

    def holders(self, store: Store, identities: Sequence[tuple]) -> dict[tuple, str]:
        wanted = {identity for identity in identities if identity[0]}
        found: dict[tuple, str] = {}
        products = sorted({identity[0] for identity in wanted})
        for start in range(0, len(products), 500):
            rows = FutureshopBinding.objects.filter(
                store=store, product_no__in=products[start : start + 500]
            ).values_list("product_no", "vertical_no", "horizontal_no", "registration__sku_id")
            for product_no, vertical_no, horizontal_no, sku_id in rows:
                if (product_no, vertical_no, horizontal_no) in wanted:
                    found[(product_no, vertical_no, horizontal_no)] = sku_id
        return found

    def bind(self, registration_id: int, store: Store, keys: Mapping[str, str]) -> bool:
        return bool(self.bind_many(store, {registration_id: keys}))

    def bind_many(self, store: Store, keys_by_registration: Mapping[int, Mapping[str, str]]) -> int:
        existing = FutureshopBinding.objects.in_bulk(list(keys_by_registration))
        create, update = [], []
        for registration_id, keys in keys_by_registration.items():
            values = {name: keys.get(name, "") for name in KEYS}
            binding = existing.get(registration_id)
            if binding is None:
                if any(values.values()):
                    create.append(
                        FutureshopBinding(registration_id=registration_id, store=store, **values)
                    )
            elif any(getattr(binding, name) != value for name, value in values.items()):
                for name, value in values.items():
                    setattr(binding, name, value)
                update.append(binding)
        FutureshopBinding.objects.bulk_create(create, batch_size=2000)
        FutureshopBinding.objects.bulk_update(update, list(KEYS), batch_size=2000)
        return len(create) + len(update)

    def keys_of(self, registration_ids: Sequence[int]) -> dict[int, dict[str, str]]:
        found: dict[int, dict[str, str]] = {}
        for start in range(0, len(registration_ids), 500):
            for row in FutureshopBinding.objects.filter(
                registration_id__in=registration_ids[start : start + 500]
            ).values("registration_id", *KEYS):
                found[row.pop("registration_id")] = row
        return found

    def matcher(self, store: Store) -> Callable[[Mapping[str, str]], str | None]:
        """Order line -> our SKU: the binding by (productNo, skuNo), else by skuNo, else a
        registered SKU of that id."""
        from stores.models import StoreSku

        by_product_sku: dict[tuple[str, str], str] = {}
        by_sku_no: dict[str, str] = {}
        for product_no, sku_no, sku_id in FutureshopBinding.objects.filter(store=store).values_list(
            "product_no", "sku_no", "registration__sku_id"
        ):
            if sku_no:
                by_product_sku[(product_no, sku_no)] = sku_id
                by_sku_no.setdefault(sku_no, sku_id)
        registered = set(StoreSku.objects.filter(store=store).values_list("sku_id", flat=True))

        def match(listing: Mapping[str, str]) -> str | None:
            product_no, sku_no = listing.get("product_no", ""), listing.get("sku_no", "")
            found = by_product_sku.get((product_no, sku_no)) or by_sku_no.get(sku_no)
            if found is None and sku_no and sku_no.lower() in registered:
                return sku_no.lower()
            return found

        return match

    def label(self, listing: Mapping[str, str]) -> str:
        return f"{listing.get('product_no', '')}/{listing.get('sku_no', '')}"


def _unchanged(searched: SearchedOrder, applied: AppliedOrder | None) -> bool:
    """The search shows the order as the engine applied it: same status, same SKUs with
    the same counts (the search names SKUs by skuNo only)."""
    if applied is None or applied.status != searched.status:
        return False
    return Counter(
        (str(listing.get("sku_no", "")), units) for listing, units in applied.lines
    ) == Counter((sku_no, max(count, 0)) for sku_no, count in searched.lines)


def order_snapshot(order: Order) -> OrderSnapshot:
    cancelled = order.status in settings.FUTURESHOP_CANCELLED_STATUSES
    return OrderSnapshot(
        number=order.order_no,
        status=order.status,
        ordered_at=order.ordered_at,
        lines=tuple(
            OrderLineSnapshot(
                listing={"product_no": line.product_no, "sku_no": line.sku_no},
                units=max(line.count, 0),
                line_id=line.line_key[:64],
            )
            for line in order.lines
        ),
        final=cancelled or order.status in settings.FUTURESHOP_FINAL_STATUSES,
        cancelled=cancelled,
    )


class FutureshopAdapter(NoFollowups):
    """One futureshop store, through ``FutureshopClient``."""

    platform: ClassVar[str] = "futureshop"
    # The API domain is issued per store (a credential); a base_url override must be a
    # sandbox host (INVENTORY_SANDBOX_HOSTS).
    api_hosts: ClassVar[tuple[str, ...]] = ()
    binder: ClassVar[FutureshopBinder] = FutureshopBinder()
    credential_fields: ClassVar[tuple[CredentialField, ...]] = (
        CredentialField("api_domain", _("futureshop API domain"), check=api_domain_problem),
        CredentialField("shop_key", _("futureshop shop key")),
        CredentialField("client_id", _("futureshop client id")),
        CredentialField("client_secret", _("futureshop client secret")),
    )
    # One update request per batch: at most 100 products, each with all its due SKUs.
    batch_size: ClassVar[int] = PRODUCTS_PER_REQUEST
    quantity_max: ClassVar[int] = COUNT_MAX
    unbound_message: ClassVar[str] = MSG_NOT_MAPPED

    def __init__(self, store: Store, client: FutureshopClient) -> None:
        self.store = store
        self.client = client
        self._keys: dict[int, dict[str, str]] = {}  # read once by ``batches``

    @classmethod
    def for_store(cls, store: Store) -> FutureshopAdapter:
        return cls(store, FutureshopClient.for_store(store))

    # --- StockTarget -----------------------------------------------------------------------

    def batches(self, updates: Sequence[StockUpdate]) -> Iterator[Sequence[StockUpdate]]:
        """``batch_size`` products per call, each with every due SKU of it (one entry per
        product, as futureshop wants); products in the order of their most urgent SKU.
        Unbound rows go in the first call (``push_stock`` refuses them without a call)."""
        self._keys = self.binder.keys_of([update.registration_id for update in updates])
        by_product: dict[str, list[StockUpdate]] = {}
        for update in updates:
            product_no = self._keys.get(update.registration_id, {}).get("product_no", "")
            by_product.setdefault(product_no, []).append(update)
        unbound = by_product.pop("", [])
        products = list(by_product.values())
        if not products:
            yield unbound
        for start in range(0, len(products), self.batch_size):
            chunk = products[start : start + self.batch_size]
            yield [*(unbound if start == 0 else ()), *(u for group in chunk for u in group)]

    def push_stock(self, updates: Sequence[StockUpdate]) -> PushResult:
        ids = [update.registration_id for update in updates]
        cached = self._keys
        keys = cached if all(i in cached for i in ids) else self.binder.keys_of(ids)
        refused: dict[int, str] = {}
        sendable: list[tuple[StockUpdate, dict[str, str]]] = []
        for update in updates:
            key = keys.get(update.registration_id, {})
            if key.get("product_no"):
                sendable.append((update, key))
            else:
                refused[update.registration_id] = str(MSG_NOT_MAPPED)
        if not sendable:
            return PushResult(accepted=(), refused=refused)
        result = self.client.inventory_update(
            [
                FutureshopUpdate(
                    key["product_no"], key["vertical_no"], key["horizontal_no"], update.quantity
                )
                for update, key in sendable
            ]
        )
        failed = result.failed_products
        accepted = []
        for update, key in sendable:
            if key["product_no"] in failed:
                refused[update.registration_id] = failed[key["product_no"]]
            else:
                accepted.append(update.registration_id)
        return PushResult(
            accepted=tuple(accepted),
            refused=refused,
            uncertain=tuple(accepted) if result.uncertain else (),
        )

    def stock_of(self, registration_ids: Sequence[int]) -> dict[int, int | None]:
        keys = self.binder.keys_of(list(registration_ids))
        products = sorted({key["product_no"] for key in keys.values() if key["product_no"]})
        shown = {
            (entry.product_no, entry.vertical_no, entry.horizontal_no): entry.count
            for entry in (self.client.inventory_search(products) if products else ())
        }
        return {
            registration_id: shown.get(self.binder.identity(keys[registration_id]))
            if registration_id in keys
            else None
            for registration_id in registration_ids
        }

    def auth_test(self) -> AuthResult:
        self.client.token()
        return AuthResult(message=str(MSG_AUTH_OK))

    # --- OrderSource ------------------------------------------------------------------------

    def orders_changed(self, window: PollWindow) -> Iterator[OrderSnapshot]:
        """The orders placed in the window and every open order, by the order search
        (100 orders a call, 31 days a search, from the oldest open order on): each one
        the engine never applied, or whose status or lines the search shows changed, is
        read in detail (one call each); the others are as applied and are not read. An
        open order the search no longer shows is read in detail too. ``sweep`` reads every
        order found."""
        start = window.start
        if window.open_since is not None and not window.sweep:
            start = min(start, window.open_since)
        searched: dict[str, SearchedOrder] = {}
        while start < window.end:
            end = min(start + SEARCH_WINDOW, window.end)
            searched.update((o.order_no, o) for o in self.client.shipping_orders(start, end))
            start = end
        found = list(searched)
        final: set[str] = set() if window.sweep else window.known_final(found)
        candidates = list(
            dict.fromkeys([*(n for n in found if n not in final), *window.open_orders])
        )
        applied = window.applied(candidates) if window.applied and not window.sweep else {}
        wanted = [
            number
            for number in candidates
            if number not in searched or not _unchanged(searched[number], applied.get(number))
        ]
        if window.on_found is not None:
            window.on_found(len(found), len(wanted))
        for number in wanted:
            order = self.client.order_get(number)
            if order is None:
                yield OrderSnapshot(number=number, status="", missing=True)
            else:
                yield order_snapshot(order)

    # --- CatalogSource ----------------------------------------------------------------------

    def listings(self, *, on_total: Callable[[int], None] | None = None) -> Iterator[CatalogPage]:
        """The inventory search over the whole catalogue, a page per 100 products."""
        page: dict[str, list[Listing]] = defaultdict(list)
        for entry in self.client.inventory_search(None, on_total=on_total):
            if entry.product_no not in page and len(page) == PRODUCTS_PER_PAGE:
                yield CatalogPage(
                    entries=len(page), listings=tuple(x for xs in page.values() for x in xs)
                )
                page = defaultdict(list)
            code = entry.sku_no or f"{entry.product_no}-{entry.vertical_no}-{entry.horizontal_no}"
            page[entry.product_no].append(
                Listing(
                    keys={
                        "product_no": entry.product_no,
                        "sku_no": entry.sku_no,
                        "vertical_no": entry.vertical_no,
                        "horizontal_no": entry.horizontal_no,
                    },
                    sku_code=code,
                    title=code,
                    quantity=entry.count,
                )
            )
        if page:
            yield CatalogPage(
                entries=len(page), listings=tuple(x for xs in page.values() for x in xs)
            )
