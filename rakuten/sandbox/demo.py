"""The demo shops: the sandbox serves them, `load_demo_data` points stores at them.

These credentials only open the local sandbox; they are not Rakuten's.
"""

from __future__ import annotations

from typing import Any

from .state import Sandbox

SANDBOX_URL = "http://127.0.0.1:8765"

# (store id, service secret, licence key)
DEMO_SHOPS = [
    ("demo-tokyo", "SP100001_sandboxTokyoSecret", "SL100001_sandboxTokyoKey"),
    ("demo-osaka", "SP100002_sandboxOsakaSecret", "SL100002_sandboxOsakaKey"),
    ("demo-outlet", "SP100003_sandboxOutletSecret", "SL100003_sandboxOutletKey"),
]

# What every demo shop lists. Stock matches the demo SKUs' starting stock (load_demo_data),
# so a fresh demo opens with every store showing the pool; the test product ce1111 has none
# until someone gives it some ("Reset test data"). Bag-BLACK is listed in RMS but not yet
# known to Inventory Sync (SKU sync finds it).
DEMO_CATALOG: list[dict[str, Any]] = [
    {
        "manageNumber": "ce1111",
        "itemNumber": "CE1111",
        "title": "テスト商品 (test item)",
        "variants": [{"variantId": "CE1111", "quantity": 0}],
    },
    {
        "manageNumber": "tshirt-red",
        "itemNumber": "TSHIRT-RED",
        "title": "Tシャツ 赤",
        "variants": [
            {"variantId": "Tshirt-RED-M", "quantity": 25},
            {"variantId": "Tshirt-RED-L", "quantity": 12},
        ],
    },
    {
        "manageNumber": "mug",
        "itemNumber": "MUG",
        "title": "マグカップ 白",
        "variants": [{"variantId": "Mug-WHITE", "quantity": 40}],
    },
    {
        "manageNumber": "towel",
        "itemNumber": "TOWEL",
        "title": "今治タオル 紺",
        "variants": [{"variantId": "Towel-NAVY", "quantity": 3, "restockOnCancel": False}],
    },
    {
        # A set in Inventory Sync (2 mugs and a towel): it can sell min(40 // 2, 3) = 3.
        "manageNumber": "gift",
        "itemNumber": "GIFT",
        "title": "ギフトセット（マグ2個・タオル1枚）",
        "variants": [{"variantId": "Gift-MUG-TOWEL", "quantity": 3}],
    },
    {
        "manageNumber": "bag",
        "itemNumber": "BAG",
        "title": "トートバッグ 黒",
        "variants": [{"variantId": "Bag-BLACK", "quantity": 8}],
    },
]


# What a demo store keeps back from its shop (its safety stock in load_demo_data): the
# shop starts with that much less of each variant, as Inventory Sync tells it.
DEMO_SAFETY_STOCK = {"demo-outlet": 2}


def demo_catalog(shop_id: str) -> list[dict[str, Any]]:
    """The demo catalogue as one shop lists it (less what its store keeps back)."""
    held = DEMO_SAFETY_STOCK.get(shop_id, 0)
    return [
        {
            **item,
            "variants": [
                {**variant, "quantity": max(variant["quantity"] - held, 0)}
                for variant in item["variants"]
            ],
        }
        for item in DEMO_CATALOG
    ]


def demo_load(sandbox: Sandbox) -> None:
    """Add the demo shops that are not there (a state file may already hold them)."""
    for shop_id, secret, key in DEMO_SHOPS:
        if shop_id not in sandbox.shops:
            sandbox.shop_add(
                shop_id=shop_id,
                service_secret=secret,
                license_key=key,
                items=demo_catalog(shop_id),
            )
