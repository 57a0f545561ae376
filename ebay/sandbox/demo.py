"""The demo seller and app: `ebay_sandbox --demo` serves them.

The seller's SKUs are the demo SKUs of the Rakuten and futureshop demos (rakuten/sandbox/
demo.py, futureshop/sandbox/demo.py, load_demo_data), case kept as eBay keeps it, with the
same starting stock, so one Inventory Sync SKU pool maps onto all three platforms. The two
T-shirt sizes are variations of one listing (one listing id, two offers); the mug has an
auction beside its fixed-price offer, which holds one unit (error 25759 below it); one
listing was made outside the Inventory API, so its orders carry no SKU. These credentials
only open the local sandbox; they are not eBay's.
"""

from __future__ import annotations

from typing import Any

from .state import Sandbox

SANDBOX_URL = "http://127.0.0.1:8767"
DEFAULT_ACCEPT_URL = "http://127.0.0.1:8000/ebay/callback/"

DEMO_SELLER = "demo-ebay"
# eBay's keyset shapes: "<App>-<App>-SBX-<hex>-<hex>", "SBX-<hex>", a RuName.
DEMO_CLIENT_ID = "InventSy-demo-SBX-1a2b3c4d5-6e7f8a9b"
DEMO_CLIENT_SECRET = "SBX-1a2b3c4d5e6f-7a8b-9c0d-1e2f-3a4b"  # noqa: S105 - local sandbox only
DEMO_RU_NAME = "Inventory_Sync-InventSy-demo-S-abcdefghi"
DEMO_TSHIRT_LISTING = "110553240512"
DEMO_LEGACY_LISTING = "110553240599"

DEMO_ITEMS: list[dict[str, Any]] = [
    {
        "sku": "CE1111",
        "title": "Test item",
        "quantity": 0,  # none until given some, as in the app
        "offers": [{"offerId": "7001000001", "availableQuantity": 0, "price": "12.00"}],
    },
    {
        "sku": "Tshirt-RED-M",
        "title": "T-shirt red M",
        "quantity": 25,
        "offers": [
            {
                "offerId": "7001000005",
                "availableQuantity": 25,
                "price": "24.00",
                "listingId": DEMO_TSHIRT_LISTING,
                "legacyVariationId": "410000000001",
            }
        ],
    },
    {
        "sku": "Tshirt-RED-L",
        "title": "T-shirt red L",
        "quantity": 12,
        "offers": [
            {
                "offerId": "7001000006",
                "availableQuantity": 12,
                "price": "24.00",
                "listingId": DEMO_TSHIRT_LISTING,
                "legacyVariationId": "410000000002",
            }
        ],
    },
    {
        "sku": "Mug-WHITE",
        "title": "Mug white 350 ml",
        "quantity": 40,
        "offers": [
            {"offerId": "7001000002", "availableQuantity": 39, "price": "15.00"},
            {"format": "AUCTION", "price": "5.00"},
        ],
    },
    {
        "sku": "Towel-NAVY",
        "title": "Imabari towel navy",
        "quantity": 3,
        "offers": [{"offerId": "7001000003", "availableQuantity": 3, "price": "30.00"}],
    },
    {
        "sku": "Bag-BLACK",
        "title": "Tote bag black",
        "quantity": 8,
        "offers": [{"offerId": "7001000004", "availableQuantity": 8, "price": "40.00"}],
    },
]


def demo_load(sandbox: Sandbox, accept_url: str | None = None) -> None:
    """Add the demo app and seller unless they are there (a state file may hold them).
    ``accept_url``, when given, is where the consent sends the seller back even if the app
    was saved with another (the demo's web server may have moved to another port)."""
    app = sandbox.apps.get(DEMO_CLIENT_ID)
    if app is None:
        sandbox.app_add(
            client_id=DEMO_CLIENT_ID,
            client_secret=DEMO_CLIENT_SECRET,
            ru_name=DEMO_RU_NAME,
            accept_url=accept_url or DEFAULT_ACCEPT_URL,
            decline_url=accept_url or DEFAULT_ACCEPT_URL,
            name="Inventory Sync (demo)",
        )
    elif accept_url:
        with sandbox.lock:
            app.accept_url = app.decline_url = accept_url
    if DEMO_SELLER not in sandbox.sellers:
        sandbox.seller_add(
            username=DEMO_SELLER,
            items=DEMO_ITEMS,
            legacy_listings={DEMO_LEGACY_LISTING: "Vintage poster (listed before the API)"},
        )
