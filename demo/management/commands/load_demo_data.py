import secrets
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction

from ebay.sandbox import demo as ebay_demo
from events.actors import Actor
from futureshop.sandbox import demo as futureshop_demo
from rakuten.sandbox.demo import DEMO_SAFETY_STOCK, DEMO_SHOPS, SANDBOX_URL
from skus.models import Sku
from skus.services import set_define, sku_create
from stores.models import AllocationRule, Store, StoreSku
from stores.services import allocation_rule_save, store_create, store_update
from sync.push import push_request
from sync.registrations import store_sku_register

# (store id, name, shop URL, safety stock): the sandbox's shops start as these are told.
DEMO_STORES = [
    ("demo-tokyo", "Demo Tokyo shop", "demo-tokyo.rakuten.co.jp", 0),
    ("demo-osaka", "Demo Osaka shop", "demo-osaka.rakuten.co.jp", 0),
    ("demo-outlet", "Demo Outlet", "demo-outlet.rakuten.co.jp", DEMO_SAFETY_STOCK["demo-outlet"]),
]
# The sandbox's demo shops (`rakuten_sandbox --demo`) answer to these credentials.
SANDBOX_CREDENTIALS = {shop_id: (secret, key) for shop_id, secret, key in DEMO_SHOPS}
# (SKU id as the merchant writes it, name, initial stock, item manage number)
DEMO_SKUS = [
    ("Tshirt-RED-M", "T-shirt red M", 25, "tshirt-red"),
    ("Tshirt-RED-L", "T-shirt red L", 12, "tshirt-red"),
    ("Mug-WHITE", "Mug white 350 ml", 40, "mug"),
    ("Towel-NAVY", "Imabari towel navy", 3, "towel"),
]

# A set (bundle) the Rakuten shops sell: (id, name, item manage number, components).
DEMO_SETS = [
    (
        "Gift-MUG-TOWEL",
        "Gift set: 2 mugs and a towel",
        "gift",
        [("Mug-WHITE", 2), ("Towel-NAVY", 1)],
    ),
]
# An allocation rule: the Tokyo shop shows 0 once fewer than 2 are left (the last unit
# stays for the other shops). It changes nothing the demo starts with.
DEMO_RULES = [("demo-tokyo", "zero_below", 2, "the last unit stays for the other shops")]

# One futureshop store beside the Rakuten ones, pointed at `futureshop_sandbox --demo`.
FUTURESHOP_STORE = ("demo-futureshop", "Demo futureshop store")
# And one eBay store, pointed at `ebay_sandbox --demo` (connected by `ebay_demo_connect`).
EBAY_STORE = ("demo-ebay", "Demo eBay store")


class Command(BaseCommand):
    help = (
        "Load demo stores (pointed at the RMS, futureshop and eBay sandboxes), SKUs and an "
        "admin user. Idempotent: a second run points the stores at the sandboxes' URLs given "
        "now and makes every store be told the stock again."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--username", default="admin")
        parser.add_argument(
            "--password", help="Admin password (default: a new random one, printed)."
        )
        parser.add_argument(
            "--rakuten-url", default=SANDBOX_URL, help="Where `rakuten_sandbox --demo` serves."
        )
        parser.add_argument(
            "--futureshop-url",
            default=futureshop_demo.SANDBOX_URL,
            help="Where `futureshop_sandbox --demo` serves.",
        )
        parser.add_argument(
            "--ebay-url", default=ebay_demo.SANDBOX_URL, help="Where `ebay_sandbox --demo` serves."
        )

    def handle(
        self,
        *args: Any,
        username: str,
        password: str | None,
        rakuten_url: str,
        futureshop_url: str,
        ebay_url: str,
        **options: Any,
    ) -> None:
        actor = Actor.cli("demo")
        urls = {
            Store.Platform.RAKUTEN: rakuten_url.rstrip("/"),
            Store.Platform.FUTURESHOP: futureshop_url.rstrip("/"),
            Store.Platform.EBAY: ebay_url.rstrip("/"),
        }
        with transaction.atomic():
            for store_id, name, shop_url, safety in DEMO_STORES:
                if not Store.objects.filter(pk=store_id).exists():
                    store_create(
                        store_id=store_id,
                        store_name=name,
                        api_config={
                            "base_url": urls[Store.Platform.RAKUTEN],
                            "shop_url": shop_url,
                            # Poll every minute so the demo shows orders moving quickly.
                            "poll_interval_minutes": 1,
                        },
                        safety_stock=safety,
                        credentials={
                            "service_secret": SANDBOX_CREDENTIALS[store_id][0],
                            "license_key": SANDBOX_CREDENTIALS[store_id][1],
                        },
                        actor=actor,
                    )
            for raw_id, name, stock, _manage_number in DEMO_SKUS:
                if not Sku.objects.filter(pk=raw_id).exists():
                    sku_create(sku_id=raw_id, sku_name=name, initial_stock=stock, actor=actor)
            for raw_id, name, _manage_number, components in DEMO_SETS:
                if not Sku.objects.filter(pk=raw_id).exists():
                    sku_create(sku_id=raw_id, sku_name=name, low_stock_threshold=1, actor=actor)
                    set_define(sku_id=raw_id, components=components, actor=actor)
            for store_id, kind, value, note in DEMO_RULES:
                if not AllocationRule.objects.filter(store_id=store_id, kind=kind).exists():
                    allocation_rule_save(
                        actor=actor, store_id=store_id, kind=kind, value=value, note=note
                    )
            skus = [
                ("CE1111", "ce1111"),
                *[(raw, mn) for raw, _, _, mn in DEMO_SKUS],
                *[(raw, mn) for raw, _, mn, _ in DEMO_SETS],
            ]
            for store_id, *_ in DEMO_STORES:
                for raw_id, manage_number in skus:
                    if not StoreSku.objects.filter(store_id=store_id, sku_id=raw_id).exists():
                        store_sku_register(
                            store_id=store_id,
                            sku_id=raw_id,
                            manage_number=manage_number,
                            variant_id=raw_id,
                            merchant_sku_id=raw_id,
                            actor=actor,
                        )
            self._futureshop(actor, urls[Store.Platform.FUTURESHOP])
            self._ebay(actor, urls[Store.Platform.EBAY])
            self._point_at(actor, urls)
        password = password or secrets.token_urlsafe(12)
        user, _created = get_user_model().objects.get_or_create(
            username=username, defaults={"is_staff": True, "is_superuser": True}
        )
        user.is_staff = user.is_superuser = True
        user.set_password(password)
        user.save()
        self.stdout.write(self.style.SUCCESS("Demo data ready."))
        self.stdout.write(f"  admin user: {username}\n  password:   {password}")

    def _point_at(self, actor: Actor, urls: dict[str, str]) -> None:
        """Every demo store at its sandbox's URL (the ports may differ from the last run),
        and told every SKU's stock again: a sandbox's saved state may not be what the pool
        holds (another port, a state file from an older database), and the demo must open
        with every store showing the pool."""
        store_ids = [
            *(store_id for store_id, *_ in DEMO_STORES),
            FUTURESHOP_STORE[0],
            EBAY_STORE[0],
        ]
        for store in Store.objects.filter(pk__in=store_ids):
            url = urls[store.platform_type]
            if store.api_config.get("base_url") != url:
                store_update(
                    store_id=store.store_id,
                    actor=actor,
                    api_config={**store.api_config, "base_url": url},
                )
            push_request(store_id=store.store_id)

    def _futureshop(self, actor: Actor, url: str) -> None:
        """The futureshop store, registered for every demo SKU its demo shop sells."""
        store_id, name = FUTURESHOP_STORE
        if not Store.objects.filter(pk=store_id).exists():
            store_create(
                store_id=store_id,
                store_name=name,
                platform_type=Store.Platform.FUTURESHOP,
                api_config={"base_url": url, "poll_interval_minutes": 1},
                credentials={
                    "api_domain": "sandbox.futureshop.invalid",
                    "shop_key": futureshop_demo.DEMO_SHOP_KEY,
                    "client_id": futureshop_demo.DEMO_CLIENT_ID,
                    "client_secret": futureshop_demo.DEMO_CLIENT_SECRET,
                },
                actor=actor,
            )
        for product in futureshop_demo.DEMO_PRODUCTS:
            for sku in product["skus"]:
                sku_no = sku["skuNo"]
                if not Sku.objects.filter(pk=sku_no).exists():
                    continue  # the shop sells it; a SKU sync brings it in
                if StoreSku.objects.filter(store_id=store_id, sku_id=sku_no).exists():
                    continue
                store_sku_register(
                    store_id=store_id,
                    sku_id=sku_no,
                    product_no=product["productNo"],
                    sku_no=sku_no,
                    vertical_no=sku.get("verticalNo", ""),
                    horizontal_no=sku.get("horizontalNo", ""),
                    actor=actor,
                )

    def _ebay(self, actor: Actor, url: str) -> None:
        """The eBay store, registered for every demo SKU its demo seller sells, bound to
        each SKU's fixed-price offers (the auction of the mug is not told a quantity)."""
        store_id, name = EBAY_STORE
        if not Store.objects.filter(pk=store_id).exists():
            store_create(
                store_id=store_id,
                store_name=name,
                platform_type=Store.Platform.EBAY,
                api_config={"base_url": url, "poll_interval_minutes": 1},
                credentials={
                    "client_id": ebay_demo.DEMO_CLIENT_ID,
                    "client_secret": ebay_demo.DEMO_CLIENT_SECRET,
                    "ru_name": ebay_demo.DEMO_RU_NAME,
                },
                actor=actor,
            )
        for item in ebay_demo.DEMO_ITEMS:
            code = item["sku"]
            if not Sku.objects.filter(pk=code.lower()).exists():
                continue
            if StoreSku.objects.filter(store_id=store_id, sku_id=code.lower()).exists():
                continue
            offers = [o["offerId"] for o in item["offers"] if o.get("format") != "AUCTION"]
            store_sku_register(
                store_id=store_id,
                sku_id=code,
                ebay_sku=code,
                offer_ids=",".join(offers),
                actor=actor,
            )
