from collections.abc import Callable, Iterator

import pytest

from rakuten.client import RmsClient
from rakuten.endpoints import DEFAULT_RATE_LIMITS
from rakuten.sandbox.server import SandboxServer
from rakuten.sandbox.state import Sandbox
from sync.ratelimit import RateLimiter

SECRET = "SP999001_testSecret"
KEY = "SL999001_testLicenceKey"
FAST = dict.fromkeys(DEFAULT_RATE_LIMITS, 50.0)

CATALOG = [
    {
        "manageNumber": "ce1111",
        "variants": [{"variantId": "CE1111", "quantity": 100}],
    },
    {
        "manageNumber": "Tshirt-Red",
        "title": "Tシャツ",
        "variants": [
            {"variantId": "Tshirt-RED-M", "quantity": 25, "merchantDefinedSkuId": "TRM"},
            {"variantId": "Tshirt-RED-L", "quantity": 12},
        ],
    },
    {
        "manageNumber": "towel",
        "variants": [{"variantId": "Towel-NAVY", "quantity": 3, "restockOnCancel": False}],
    },
]


@pytest.fixture
def sandbox() -> Sandbox:
    sandbox = Sandbox(rate_limits=FAST, hang_seconds=1.0, confirm_delay=0)
    sandbox.shop_add(shop_id="shop-a", service_secret=SECRET, license_key=KEY, items=CATALOG)
    return sandbox


@pytest.fixture
def sandbox_server(sandbox: Sandbox) -> Iterator[SandboxServer]:
    server = SandboxServer(sandbox).start()
    yield server
    server.stop()


@pytest.fixture
def make_client(sandbox_server: SandboxServer) -> Callable[..., RmsClient]:
    def make(**overrides) -> RmsClient:
        options = {
            "service_secret": SECRET,
            "license_key": KEY,
            "base_url": sandbox_server.url,
            "rate_limits": FAST,
            "backoff_base": 0.01,
            "timeout": (1.0, 2.0),
            "limiter": RateLimiter(),
        }
        options.update(overrides)
        return RmsClient(**options)

    return make


SHOPS = {
    "store-a": ("SP-a", "SL-a"),
    "store-b": ("SP-b", "SL-b"),
    "store-c": ("SP-c", "SL-c"),
}


class Engine:
    """Three stores in Inventory Sync, each pointed at its own shop in one sandbox."""

    def __init__(self, sandbox, url):
        from events.actors import Actor
        from skus.services import sku_create
        from stores.services import store_create
        from sync.registrations import store_sku_register

        self.sandbox = sandbox
        actor = Actor.cli("test")
        for store_id, (secret, key) in SHOPS.items():
            sandbox.shop_add(
                shop_id=store_id, service_secret=secret, license_key=key, items=CATALOG
            )
            store_create(
                store_id=store_id,
                store_name=store_id,
                api_config={"base_url": url},
                credentials={"service_secret": secret, "license_key": key},
                actor=actor,
            )
        for sku_id, stock in (("Tshirt-RED-M", 25), ("Tshirt-RED-L", 12), ("Towel-NAVY", 3)):
            sku_create(sku_id=sku_id, sku_name=sku_id, initial_stock=stock, actor=actor)
        for store_id in SHOPS:
            for manage_number, variant_id in (
                ("tshirt-red", "Tshirt-RED-M"),
                ("tshirt-red", "Tshirt-RED-L"),
                ("towel", "Towel-NAVY"),
            ):
                store_sku_register(
                    store_id=store_id,
                    sku_id=variant_id,
                    manage_number=manage_number,
                    variant_id=variant_id,
                    actor=actor,
                )
        # Registering made pushes due; start each test from a quiet outbox.
        from events.models import PendingPush

        PendingPush.objects.all().delete()
        import datetime as dt

        from django.utils import timezone

        from sync.models import PollState

        for store_id in SHOPS:
            PollState.objects.create(
                store_id=store_id, origin=timezone.now() - dt.timedelta(minutes=5)
            )

    def order(self, store_id, variant_id="Tshirt-RED-M", units=1, manage_number="tshirt-red"):
        return self.sandbox.order_place(
            store_id,
            [{"manageNumber": manage_number, "variantId": variant_id, "units": units}],
            allow_oversell=True,
        )

    def shown(self, store_id, variant_id="Tshirt-RED-M", manage_number="tshirt-red"):
        return self.sandbox.stock_of(store_id, manage_number, variant_id)


@pytest.fixture
def engine(sandbox_server, db):
    from sync.ratelimit import limiter

    limiter.reset()
    return Engine(sandbox_server.sandbox, sandbox_server.url)
