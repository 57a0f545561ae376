"""Rakuten RMS as the engine sees it: the adapter and the binder (``sync.adapters``).

It translates only: the engine's updates into ``inventories bulk-upsert`` rows, RMS
orders into ``OrderSnapshot``s, items into ``Listing``s, RMS's answers into the
engine's errors. Which orders to read and how many a store shows is the engine's.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from django.conf import settings
from django.utils.translation import gettext_lazy as _

from sync.adapters import (
    AuthResult,
    BindingField,
    BindingInvalid,
    CatalogPage,
    CredentialField,
    Listing,
    OrderLineSnapshot,
    OrderSnapshot,
    PollWindow,
    PushResult,
    StockUpdate,
    batch_updates,
)

from .client import RmsClient
from .errors import RmsAuthError, RmsBadRequest, RmsRequestInvalid
from .models import RakutenBinding, RakutenOrderConfirmation
from .types import (
    BULK_UPSERT_BATCH,
    ID_MAX_BYTES,
    QUANTITY_MAX,
    InventoryUpdate,
    Item,
    Order,
    OrderProgress,
    VariantKey,
)

if TYPE_CHECKING:
    from stores.models import Store
    from sync.models import Order as OrderRow

MSG_NOT_MAPPED = _("The SKU has no RMS manageNumber/variantId in this store.")
MSG_AUTH_OK = _("RMS accepted the credentials; the licence key expires on %(date)s.")
MSG_LICENSE_EXPIRED = _("The licence key has expired: issue a new one in RMS.")
MSG_ID_TOO_LONG = _("%(field)s “%(value)s” is longer than RMS's %(limit)d bytes.")
MSG_ID_CHARS = _("%(field)s “%(value)s” may hold only letters, digits, “-” and “_”.")
MSG_MERCHANT_TOO_LONG = _("merchant SKU id “%(value)s” is longer than %(limit)d characters.")

FINAL_PROGRESS = frozenset({500, 600, 700, 900})
SEARCH_WINDOW = dt.timedelta(days=62)
ITEMS_PAGE = 100
MERCHANT_SKU_MAX = 50
ID_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_")


def _nfkc(value: object) -> str:
    return unicodedata.normalize("NFKC", str(value or "")).strip()


class RmsBinder:
    """Registrations <-> (manageNumber, variantId, merchantDefinedSkuId) in ``RakutenBinding``."""

    fields: ClassVar[tuple[BindingField, ...]] = (
        BindingField("manage_number", _("item manage number"), ID_MAX_BYTES),
        BindingField("variant_id", _("variant id"), ID_MAX_BYTES),
        BindingField("merchant_sku_id", _("merchant SKU id"), MERCHANT_SKU_MAX),
    )

    def clean(self, keys: Mapping[str, str]) -> dict[str, str]:
        """manageNumber lowercased (RMS keeps it so), variantId as given; RMS's limits."""
        # NFKC: full-width letters typed in a spreadsheet become the ASCII RMS holds.
        manage_number = _nfkc(keys.get("manage_number")).lower()
        variant_id = _nfkc(keys.get("variant_id"))
        merchant_sku_id = _nfkc(keys.get("merchant_sku_id"))
        for field, value in (("manageNumber", manage_number), ("variantId", variant_id)):
            if len(value.encode()) > ID_MAX_BYTES:
                raise BindingInvalid(
                    str(MSG_ID_TOO_LONG % {"field": field, "value": value, "limit": ID_MAX_BYTES})
                )
            if value and not set(value) <= ID_CHARS:
                raise BindingInvalid(str(MSG_ID_CHARS % {"field": field, "value": value}))
        if len(merchant_sku_id) > MERCHANT_SKU_MAX:
            raise BindingInvalid(
                str(MSG_MERCHANT_TOO_LONG % {"value": merchant_sku_id, "limit": MERCHANT_SKU_MAX})
            )
        return {
            "manage_number": manage_number,
            "variant_id": variant_id,
            "merchant_sku_id": merchant_sku_id,
        }

    def holders(self, store: Store, identities: Sequence[tuple]) -> dict[tuple, str]:
        wanted = {identity for identity in identities if identity[1]}
        found: dict[tuple, str] = {}
        numbers = sorted({manage_number for manage_number, _ in wanted})
        for start in range(0, len(numbers), 500):
            rows = RakutenBinding.objects.filter(
                store=store, manage_number__in=numbers[start : start + 500]
            ).values_list("manage_number", "variant_id", "registration__sku_id")
            for manage_number, variant_id, sku_id in rows:
                if (manage_number, variant_id) in wanted:
                    found[(manage_number, variant_id)] = sku_id
        return found

    def identity(self, keys: Mapping[str, str]) -> tuple:
        return (str(keys.get("manage_number", "")).lower(), str(keys.get("variant_id", "")))

    def bind(self, registration_id: int, store: Store, keys: Mapping[str, str]) -> bool:
        wanted = {name: keys.get(name, "") for name in ("manage_number", "variant_id")}
        wanted["merchant_sku_id"] = keys.get("merchant_sku_id", "")
        binding = RakutenBinding.objects.filter(registration_id=registration_id).first()
        if binding is None:
            if not any(wanted.values()):
                return False
            RakutenBinding.objects.create(registration_id=registration_id, store=store, **wanted)
            return True
        if all(getattr(binding, name) == value for name, value in wanted.items()):
            return False
        for name, value in wanted.items():
            setattr(binding, name, value)
        binding.save(update_fields=list(wanted))
        return True

    def bind_many(self, store: Store, keys_by_registration: Mapping[int, Mapping[str, str]]) -> int:
        """The bulk form of ``bind`` (CSV import, SKU sync): one read, bulk writes."""
        existing = RakutenBinding.objects.in_bulk(list(keys_by_registration))
        create, update = [], []
        for registration_id, keys in keys_by_registration.items():
            binding = existing.get(registration_id)
            if binding is None:
                create.append(RakutenBinding(registration_id=registration_id, store=store, **keys))
            elif any(getattr(binding, name) != value for name, value in keys.items()):
                for name, value in keys.items():
                    setattr(binding, name, value)
                update.append(binding)
        RakutenBinding.objects.bulk_create(create, batch_size=2000)
        RakutenBinding.objects.bulk_update(
            update, ["manage_number", "variant_id", "merchant_sku_id"], batch_size=2000
        )
        return len(create) + len(update)

    def keys_of(self, registration_ids: Sequence[int]) -> dict[int, dict[str, str]]:
        found: dict[int, dict[str, str]] = {}
        for start in range(0, len(registration_ids), 500):
            rows = RakutenBinding.objects.filter(
                registration_id__in=registration_ids[start : start + 500]
            ).values_list("registration_id", "manage_number", "variant_id", "merchant_sku_id")
            for registration_id, manage_number, variant_id, merchant_sku_id in rows:
                found[registration_id] = {
                    "manage_number": manage_number,
                    "variant_id": variant_id,
                    "merchant_sku_id": merchant_sku_id,
                }
        return found

    def matcher(self, store: Store) -> Callable[[Mapping[str, str]], str | None]:
        """Order line -> our SKU (DESIGN.md, Polling): the registration by (manageNumber,
        variantId), else by merchantDefinedSkuId, else a registered SKU of that id."""
        from stores.models import StoreSku

        by_variant: dict[tuple[str, str], str] = {}
        by_merchant: dict[str, str] = {}
        rows = RakutenBinding.objects.filter(store=store).values_list(
            "registration__sku_id", "manage_number", "variant_id", "merchant_sku_id"
        )
        for sku_id, manage_number, variant_id, merchant_sku_id in rows:
            if manage_number and variant_id:
                by_variant[(manage_number.lower(), variant_id)] = sku_id
            if merchant_sku_id:
                by_merchant[merchant_sku_id] = sku_id
        registered = set(StoreSku.objects.filter(store=store).values_list("sku_id", flat=True))

        def match(listing: Mapping[str, str]) -> str | None:
            manage_number = listing.get("manage_number", "")
            variant_id = listing.get("variant_id", "")
            merchant_sku_id = listing.get("merchant_sku_id", "")
            found = by_variant.get((manage_number.lower(), variant_id))
            if found is None and merchant_sku_id:
                found = by_merchant.get(merchant_sku_id)
            if found is None:
                for candidate in (merchant_sku_id, variant_id, manage_number):
                    if candidate and candidate.lower() in registered:
                        return candidate.lower()
            return found

        return match

    def label(self, listing: Mapping[str, str]) -> str:
        text = f"{listing.get('manage_number', '')}/{listing.get('variant_id', '')}"
        if listing.get("merchant_sku_id"):
            text += f" ({listing['merchant_sku_id']})"
        return text


def order_snapshot(order: Order) -> OrderSnapshot:
    """An RMS order as the engine converges the ledger to it (DESIGN.md, status mapping)."""
    progress = order.progress
    return OrderSnapshot(
        number=order.order_number,
        status=str(progress),
        ordered_at=order.ordered_at,
        lines=tuple(
            OrderLineSnapshot(
                listing={
                    "manage_number": line.manage_number[:64],
                    "variant_id": line.variant_id[:64],
                    "merchant_sku_id": (line.merchant_sku_id or "")[:96],
                },
                units=max(line.units, 0),
                counts=not line.deleted,
                line_id=line.item_detail_id or "",
            )
            for line in order.lines
        ),
        final=progress in FINAL_PROGRESS,
        cancelled=progress == OrderProgress.CANCELLED,
        confirmed=OrderProgress.AWAITING_SHIPMENT <= progress < OrderProgress.CANCELLED,
        extra={"progress": progress},
    )


class RmsAdapter:
    """One store's RMS, through ``RmsClient`` (the only code that speaks HTTP to RMS)."""

    platform: ClassVar[str] = "rakuten"
    api_hosts: ClassVar[tuple[str, ...]] = ("api.rms.rakuten.co.jp",)
    binder: ClassVar[RmsBinder] = RmsBinder()
    credential_fields: ClassVar[tuple[CredentialField, ...]] = (
        CredentialField("service_secret", _("RMS service secret")),
        CredentialField("license_key", _("RMS licence key")),
    )
    batch_size: ClassVar[int] = BULK_UPSERT_BATCH
    quantity_max: ClassVar[int] = QUANTITY_MAX
    unbound_message: ClassVar[str] = MSG_NOT_MAPPED

    def __init__(self, store: Store, client: RmsClient) -> None:
        self.store = store
        self.client = client

    @classmethod
    def for_store(cls, store: Store) -> RmsAdapter:
        return cls(store, RmsClient.for_store(store))

    # --- StockTarget -----------------------------------------------------------------------

    def batches(self, updates: Sequence[StockUpdate]) -> Iterator[Sequence[StockUpdate]]:
        return batch_updates(updates, self.batch_size)  # bulk-upsert: rows per call

    def push_stock(self, updates: Sequence[StockUpdate]) -> PushResult:
        """ABSOLUTE quantities in one bulk-upsert. RMS refuses a whole call for a bad row
        and names the rows: those are refused, and the rest is sent again."""
        keys = self.binder.keys_of([update.registration_id for update in updates])
        refused: dict[int, str] = {}
        batch = []
        for update in updates:
            key = keys.get(update.registration_id, {})
            if key.get("manage_number") and key.get("variant_id"):
                batch.append(update)
            else:
                refused[update.registration_id] = str(MSG_NOT_MAPPED)
        uncertain = False
        while batch:
            rows = [
                InventoryUpdate(
                    keys[update.registration_id]["manage_number"],
                    keys[update.registration_id]["variant_id"],
                    update.quantity,
                )
                for update in batch
            ]
            try:
                uncertain = self.client.inventory_bulk_upsert(rows)
                break
            except (RmsBadRequest, RmsRequestInvalid) as exc:
                bad = {d.row: str(d) for d in exc.details if d.row is not None}
                if not bad:
                    raise
                for index, update in enumerate(batch):
                    if index in bad:
                        refused[update.registration_id] = bad[index]
                batch = [update for index, update in enumerate(batch) if index not in bad]
        accepted = tuple(update.registration_id for update in batch)
        return PushResult(
            accepted=accepted, refused=refused, uncertain=accepted if uncertain else ()
        )

    def stock_of(self, registration_ids: Sequence[int]) -> dict[int, int | None]:
        keys = self.binder.keys_of(list(registration_ids))
        wanted = {
            registration_id: (key["manage_number"].lower(), key["variant_id"])
            for registration_id, key in keys.items()
            if key["manage_number"] and key["variant_id"]
        }
        records = self.client.inventory_bulk_get([VariantKey(*key) for key in wanted.values()])
        shown = {(r.manage_number.lower(), r.variant_id): r.quantity for r in records}
        return {
            registration_id: shown.get(wanted[registration_id])
            if registration_id in wanted
            else None
            for registration_id in registration_ids
        }

    def auth_test(self) -> AuthResult:
        """RMS's licence-key expiry call (the seed's auth test)."""
        try:
            expiry = self.client.license_expiry()
        except RmsAuthError as exc:
            if exc.license_expired:
                raise RmsAuthError(
                    f"{MSG_LICENSE_EXPIRED} ({exc})", endpoint=exc.endpoint, status=exc.status
                ) from exc
            raise
        return AuthResult(
            message=str(MSG_AUTH_OK % {"date": f"{expiry.expires_at:%Y-%m-%d}"}),
            expires_at=expiry.expires_at,
        )

    # --- OrderSource ------------------------------------------------------------------------

    def _search(
        self,
        start: dt.datetime,
        end: dt.datetime,
        now: dt.datetime,
        *,
        date_type: int = 1,
        statuses: Sequence[int] | None = None,
    ) -> list[str]:
        """Every order number in [start, end] (63-day windows); halves a window RMS would
        truncate (15,000 a search)."""
        start = max(start, now - dt.timedelta(days=729))
        found: list[str] = []
        while start < end:
            stop = min(start + SEARCH_WINDOW, end)
            found += self._search_window(start, stop, now, date_type, statuses)
            start = stop
        return found

    def _search_window(
        self,
        start: dt.datetime,
        end: dt.datetime,
        now: dt.datetime,
        date_type: int,
        statuses: Sequence[int] | None,
    ) -> list[str]:
        result = self.client.search_orders(
            start, end, now=now, date_type=date_type, statuses=statuses
        )
        if not result.truncated or end - start <= dt.timedelta(minutes=1):
            return result.order_numbers
        middle = start + (end - start) / 2
        return self._search_window(start, middle, now, date_type, statuses) + (
            self._search_window(middle, end, now, date_type, statuses)
        )

    def _searches(
        self, window: PollWindow, known: Mapping[str, str]
    ) -> list[Callable[[], list[str]]]:
        """The searches that show which open orders moved (each returns the numbers to read):
        a status group over the open orders' span (an applied order that entered or left it),
        the cancelled statuses over orders placed in the last hours (older cancellations
        come back with the re-read tiers: late, so they can only under-report stock, never
        oversell), and each date type over the poll window (shipping date: shipped since)."""

        def group(statuses: Sequence[int], start: dt.datetime) -> Callable[[], list[str]]:
            names = {str(status) for status in statuses}

            def moved() -> list[str]:
                members = set(self._search(start, window.end, window.end, statuses=statuses))
                return [
                    number
                    for number, status in known.items()
                    if (number in members) != (status in names)
                ]

            return moved

        def stamped(date_type: int) -> Callable[[], list[str]]:
            def moved() -> list[str]:
                found = self._search(window.start, window.end, window.end, date_type=date_type)
                return [number for number in found if number in known]

            return moved

        searches: list[Callable[[], list[str]]] = []
        if window.open_since is not None:
            searches += [
                group(statuses, window.open_since)
                for statuses in settings.RAKUTEN_POLL_STATUS_GROUPS
            ]
        cancelled = settings.RAKUTEN_POLL_CANCELLED_STATUSES
        if cancelled:
            since = window.end - dt.timedelta(hours=settings.RAKUTEN_POLL_CANCELLED_HOURS)
            searches.append(group(cancelled, max(since, window.start - dt.timedelta(days=729))))
        searches += [stamped(date_type) for date_type in settings.RAKUTEN_POLL_DATE_TYPES]
        return searches

    def _read(self, numbers: Sequence[str]) -> Iterator[OrderSnapshot]:
        result = self.client.get_orders(list(numbers))
        for number in result.not_found:
            yield OrderSnapshot(number=number, status="", missing=True)
        for order in result.orders:
            yield order_snapshot(order)

    def orders_changed(self, window: PollWindow) -> Iterator[OrderSnapshot]:
        """searchOrder by order date over the window for new orders, then getOrder (100 a
        call) for the new ones and the open ones that changed: those the searches by status
        and date type show as moved, those at an always-read status and those the engine
        says are due (``RAKUTEN_POLL_*``). The orders known to be wanted before any search
        (due, always read) are read between the searches: each endpoint has its own
        1 call/s, so a poll takes about the larger of the two, not their sum. A sweep, or a
        poll without the engine's ``open_status``, reads every open order."""
        known = window.open_status
        if window.sweep or known is None or not settings.RAKUTEN_POLL_SEARCH_CHANGES:
            found = self._search(window.start, window.end, window.end)
            final: set[str] = set() if window.sweep else window.known_final(found)
            wanted = list(
                dict.fromkeys([*(n for n in found if n not in final), *window.open_orders])
            )
            if window.on_found is not None:
                window.on_found(len(found), len(wanted))
            for offset in range(0, len(wanted), 100):
                yield from self._read(wanted[offset : offset + 100])
            return
        always = {str(status) for status in settings.RAKUTEN_POLL_ALWAYS_READ}
        early = list(
            dict.fromkeys([*(n for n, status in known.items() if status in always), *window.due])
        )
        read: set[str] = set()
        found: list[str] = []
        moved: list[str] = []

        def new_orders() -> list[str]:
            found.extend(self._search(window.start, window.end, window.end))
            return []  # read below, once it is known which are final

        searches = [new_orders, *self._searches(window, known)]
        batches = [early[offset : offset + 100] for offset in range(0, len(early), 100)]
        for step in range(max(len(searches), len(batches))):
            if step < len(searches):
                moved += searches[step]()
            if step < len(batches):
                read.update(batches[step])
                yield from self._read(batches[step])
        fresh = [number for number in found if number not in known]
        final = window.known_final(fresh)
        wanted = [
            number
            for number in dict.fromkeys(
                [*(number for number in fresh if number not in final), *moved]
            )
            if number not in read
        ]
        if window.on_found is not None:
            window.on_found(len(found), len(read) + len(wanted))
        for offset in range(0, len(wanted), 100):
            yield from self._read(wanted[offset : offset + 100])

    def order_applied(self, order: OrderRow, snapshot: OrderSnapshot) -> None:
        """A new order (100) of a store that confirms orders is due for confirmOrder."""
        if (
            self.store.api_config.get("confirm_orders")
            and snapshot.extra.get("progress") == OrderProgress.AWAITING_CONFIRMATION
        ):
            RakutenOrderConfirmation.objects.get_or_create(
                order=order, defaults={"store": self.store, "next_at": order.last_seen_at}
            )

    # --- CatalogSource ----------------------------------------------------------------------

    def _page(self, items: list[Item]) -> CatalogPage:
        variants = [(item, v) for item in items if not item.deleted for v in item.variants]
        stock = {
            (record.manage_number.lower(), record.variant_id): record.quantity
            for record in self.client.inventory_bulk_get(
                [VariantKey(item.manage_number, v.variant_id) for item, v in variants]
            )
        }
        listings = []
        for item, variant in variants:
            code = variant.merchant_sku_id or variant.variant_id or item.manage_number
            listings.append(
                Listing(
                    keys={
                        "manage_number": item.manage_number.lower(),
                        "variant_id": variant.variant_id,
                        "merchant_sku_id": variant.merchant_sku_id or "",
                    },
                    sku_code=code,
                    title=item.title or code,
                    quantity=stock.get((item.manage_number.lower(), variant.variant_id)),
                )
            )
        return CatalogPage(entries=len(items), listings=tuple(listings))

    def listings(self, *, on_total: Callable[[int], None] | None = None) -> Iterator[CatalogPage]:
        """items/search over the whole catalogue, 100 items a page, with their stock."""
        page: list[Item] = []
        for item in self.client.items_search(on_total=on_total):
            page.append(item)
            if len(page) == ITEMS_PAGE:
                yield self._page(page)
                page = []
        if page:
            yield self._page(page)

    # --- what the engine's pages show of RMS's own follow-up work ---------------------------

    @classmethod
    def followups_failed(cls, store_ids: Sequence[str] | None = None) -> Any:
        """Order confirmations that gave up (the failed-sync page and the dashboard)."""
        rows = RakutenOrderConfirmation.objects.filter(
            status=RakutenOrderConfirmation.Status.FAILED
        ).select_related("order")
        if store_ids is not None:
            rows = rows.filter(store_id__in=list(store_ids))
        return rows

    @classmethod
    def followups_retry(
        cls, ids: Sequence[int] | None = None, *, store_id: str | None = None
    ) -> int:
        from .confirmations import confirmations_retry

        return confirmations_retry(order_ids=ids, store_id=store_id)

    @classmethod
    def followups_start(cls, store_id: str | None = None) -> list[str]:
        """Queue the confirmations that are due (after a poll, a retry, every minute)."""
        from django_q.tasks import async_task

        from .confirmations import stores_with_due_confirmations

        stores = stores_with_due_confirmations()
        if store_id is not None:
            stores = [s for s in stores if s == store_id]
        for due in stores:
            async_task("rakuten.tasks.confirm_store", due)
        return stores
