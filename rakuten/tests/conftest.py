from collections.abc import Callable, Iterator

import pytest

from rakuten.client import RmsClient
from rakuten.endpoints import DEFAULT_RATE_LIMITS
from rakuten.ratelimit import RateLimiter
from rakuten.sandbox.server import SandboxServer
from rakuten.sandbox.state import Sandbox

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
