"""The demo shop: `futureshop_sandbox --demo` serves it.

Its SKUs carry the merchant codes of the Rakuten demo (rakuten/sandbox/demo.py,
load_demo_data) as skuNo, with the same starting stock, so one Inventory Sync SKU pool maps
onto both platforms. These credentials only open the local sandbox; they are not futureshop's.
"""

from __future__ import annotations

from typing import Any

from .state import Sandbox

SANDBOX_URL = "http://127.0.0.1:8766"

DEMO_SHOP_KEY = "demo-fs"
DEMO_CLIENT_ID = "demo-fs-client"
DEMO_CLIENT_SECRET = "demo-fs-sandbox-secret"  # noqa: S105 - opens the local sandbox only

# A variation product has verticalNo "" and horizontalNo "01", "02"... as in the captures.
DEMO_PRODUCTS: list[dict[str, Any]] = [
    {
        "productNo": "ce1111",
        "name": "テスト商品 (test item)",
        "skus": [{"skuNo": "CE1111", "count": 0}],  # none until given some, as in the app
    },
    {
        "productNo": "tshirt-red",
        "name": "Tシャツ 赤",
        "skus": [
            {"skuNo": "Tshirt-RED-M", "horizontalNo": "01", "count": 25},
            {"skuNo": "Tshirt-RED-L", "horizontalNo": "02", "count": 12},
        ],
    },
    {"productNo": "mug", "name": "マグカップ 白", "skus": [{"skuNo": "Mug-WHITE", "count": 40}]},
    {"productNo": "towel", "name": "今治タオル 紺", "skus": [{"skuNo": "Towel-NAVY", "count": 3}]},
    {
        "productNo": "bag",
        "name": "トートバッグ 黒",
        "skus": [{"skuNo": "Bag-BLACK", "count": 8}],
    },
]


def demo_load(sandbox: Sandbox) -> None:
    """Add the demo shop unless it is there (a state file may already hold it)."""
    if DEMO_SHOP_KEY not in sandbox.shops:
        sandbox.shop_add(
            shop_key=DEMO_SHOP_KEY,
            client_id=DEMO_CLIENT_ID,
            client_secret=DEMO_CLIENT_SECRET,
            products=DEMO_PRODUCTS,
        )
