"""eBay as the engine sees it: the adapter and the binder (``sync.adapters``).

It translates only: the engine's updates into bulkUpdatePriceQuantity entries (the item's
quantity and each offer's available quantity set to the same ABSOLUTE value), eBay orders into
``OrderSnapshot``s, inventory items and their offers into ``Listing``s, eBay's answers into
the engine's errors. eBay's revision budget (about 250 a listing a day) is kept here: a
change that would exceed it is held, not sent.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, ClassVar

from django.conf import settings
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from sync.adapters import (
    AccountState,
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
    StoreAction,
    batch_updates,
)

from .client import EbayClient, sku_problem
from .errors import EbayAuthError
from .models import EbayBinding, EbayConnection, EbayRevision
from .types import BULK_UPDATE_MAX, QUANTITY_MAX, SKU_MAX, Order, QuantityUpdate

if TYPE_CHECKING:
    from stores.models import Store

MSG_NOT_MAPPED = _("The SKU has no eBay SKU in this store.")
MSG_AUTH_OK = _("eBay accepted the connection; the seller's consent ends on %(date)s.")
MSG_AUTH_OK_UNDATED = _("eBay accepted the connection.")
MSG_OFFER_IDS = _("Offer ids are eBay's numbers, separated by commas: “%(value)s” is not one.")
MSG_MARKETPLACE_TOO_LONG = _(
    "The eBay marketplace “%(value)s” is longer than %(limit)d characters (eBay's are like "
    "EBAY_US)."
)
MSG_BUDGET = _(
    "eBay allows about %(limit)d revisions of a listing a day; offer %(offer)s has had "
    "%(count)d today. The change waits until %(until)s (UTC)."
)
MSG_ENTRY = _("eBay refused the quantity of %(sku)s: %(errors)s")

MSG_NOT_CONNECTED = _("Not connected to an eBay account yet: nothing syncs until it is.")
MSG_CONNECT = _("Connect eBay account")
MSG_RECONNECT = _("eBay refused the connection (%(error)s): connect the eBay account again.")
MSG_RECONNECT_BUTTON = _("Reconnect eBay account")
MSG_CONNECTED = _(
    "Connected to eBay on %(date)s by %(user)s; the seller's consent ends on %(ends)s."
)

MSG_READ_INVENTORY = _("Read eBay inventory")
MSG_READ_INVENTORY_HELP = _("Every inventory item of the seller, 200 a page (no prices kept).")
MSG_READ_OFFERS = _("Read eBay offers")
MSG_READ_OFFERS_HELP = _(
    "The offers of every SKU the inventory read found; published ones become the offers pushes set."
)

OFFER_ID = re.compile(r"^[0-9A-Za-z_-]{1,40}$")
MARKETPLACE_MAX = 32  # EbayBinding.marketplace_id
KEYS = ("ebay_sku", "offer_ids", "marketplace_id")
CANCELED = "CANCELED"
FULFILLED = "FULFILLED"


def _clean(value: object) -> str:
    return unicodedata.normalize("NFKC", str(value or "")).strip()


def _offer_ids(text: str) -> list[str]:
    return [part for part in re.split(r"[\s,]+", text) if part]


class EbayBinder:
    """Registrations <-> (eBay SKU, offer ids, marketplace) in ``EbayBinding``. eBay SKUs
    keep their case (eBay holds them so); ours are lower case."""

    fields: ClassVar[tuple[BindingField, ...]] = (
        BindingField("ebay_sku", _("eBay SKU"), SKU_MAX, required=True),
        BindingField("offer_ids", _("eBay offer ids"), 400),
        BindingField("marketplace_id", _("eBay marketplace"), MARKETPLACE_MAX),
    )

    def clean(self, keys: Mapping[str, str]) -> dict[str, str]:
        sku = _clean(keys.get("ebay_sku"))
        if sku and (problem := sku_problem(sku)):
            raise BindingInvalid(problem)
        offers = _offer_ids(_clean(keys.get("offer_ids")))
        for offer in offers:
            if not OFFER_ID.match(offer):
                raise BindingInvalid(str(MSG_OFFER_IDS % {"value": offer}))
        marketplace = _clean(keys.get("marketplace_id"))
        if len(marketplace) > MARKETPLACE_MAX:
            raise BindingInvalid(
                str(
                    MSG_MARKETPLACE_TOO_LONG % {"value": marketplace[:60], "limit": MARKETPLACE_MAX}
                )
            )
        return {
            "ebay_sku": sku,
            "offer_ids": ",".join(dict.fromkeys(offers)),
            "marketplace_id": marketplace,
        }

    def identity(self, keys: Mapping[str, str]) -> tuple:
        return (str(keys.get("ebay_sku", "")),)

    def holders(self, store: Store, identities: Sequence[tuple]) -> dict[tuple, str]:
        wanted = sorted({identity[0] for identity in identities if identity[0]})
        found: dict[tuple, str] = {}
        for start in range(0, len(wanted), 500):
            for sku, sku_id in EbayBinding.objects.filter(
                store=store, ebay_sku__in=wanted[start : start + 500]
            ).values_list("ebay_sku", "registration__sku_id"):
                found[(sku,)] = sku_id
        return found

    def bind(self, registration_id: int, store: Store, keys: Mapping[str, str]) -> bool:
        return bool(self.bind_many(store, {registration_id: keys}))

    def bind_many(self, store: Store, keys_by_registration: Mapping[int, Mapping[str, str]]) -> int:
        existing = EbayBinding.objects.in_bulk(list(keys_by_registration))
        create, update = [], []
        for registration_id, keys in keys_by_registration.items():
            values = {
                "ebay_sku": keys.get("ebay_sku", ""),
                "offer_ids": _offer_ids(keys.get("offer_ids", "")),
                "marketplace_id": keys.get("marketplace_id", ""),
            }
            binding = existing.get(registration_id)
            if binding is None:
                if values["ebay_sku"]:
                    create.append(
                        EbayBinding(registration_id=registration_id, store=store, **values)
                    )
            elif any(getattr(binding, name) != value for name, value in values.items()):
                for name, value in values.items():
                    setattr(binding, name, value)
                update.append(binding)
        EbayBinding.objects.bulk_create(create, batch_size=2000)
        EbayBinding.objects.bulk_update(update, list(KEYS), batch_size=2000)
        return len(create) + len(update)

    def keys_of(self, registration_ids: Sequence[int]) -> dict[int, dict[str, str]]:
        found: dict[int, dict[str, str]] = {}
        for start in range(0, len(registration_ids), 500):
            for registration_id, sku, offers, marketplace in (
                EbayBinding.objects.filter(
                    registration_id__in=registration_ids[start : start + 500]
                )
                .exclude(ebay_sku="")
                .values_list("registration_id", "ebay_sku", "offer_ids", "marketplace_id")
            ):
                found[registration_id] = {
                    "ebay_sku": sku,
                    "offer_ids": ",".join(offers),
                    "marketplace_id": marketplace,
                }
        return found

    def matcher(self, store: Store) -> Callable[[Mapping[str, str]], str | None]:
        """Order line -> our SKU: the binding by eBay SKU (exact), else a registered SKU of
        that id (ours are lower case)."""
        from stores.models import StoreSku

        by_sku = dict(
            EbayBinding.objects.filter(store=store)
            .exclude(ebay_sku="")
            .values_list("ebay_sku", "registration__sku_id")
        )
        registered = set(StoreSku.objects.filter(store=store).values_list("sku_id", flat=True))

        def match(listing: Mapping[str, str]) -> str | None:
            sku = listing.get("ebay_sku", "")
            if not sku:
                return None
            found = by_sku.get(sku)
            if found is None and sku.lower() in registered:
                return sku.lower()
            return found

        return match

    def label(self, listing: Mapping[str, str]) -> str:
        sku = listing.get("ebay_sku", "")
        if sku:
            return sku
        return f"item {listing.get('legacy_item_id', '')} {listing.get('legacy_variation_id', '')}"


def order_snapshot(order: Order) -> OrderSnapshot:
    """An eBay order as the engine converges the ledger to it: CANCELED returns every unit,
    FULFILLED ends it; a line without a SKU is kept and matches nothing."""
    cancelled = order.cancel_state == CANCELED
    return OrderSnapshot(
        number=order.order_id,
        status=f"{order.fulfillment_status}/{order.cancel_state}"[:32],
        ordered_at=order.created,
        lines=tuple(
            OrderLineSnapshot(
                listing={
                    "ebay_sku": line.sku[:SKU_MAX],
                    "legacy_item_id": line.legacy_item_id[:40],
                    "legacy_variation_id": line.legacy_variation_id[:40],
                },
                units=max(line.quantity, 0),
                line_id=line.line_item_id[:64],
            )
            for line in order.lines
        ),
        final=cancelled or order.fulfillment_status == FULFILLED,
        cancelled=cancelled,
        # eBay has no acceptance step (an order is placed paid): no ORDER_CONFIRMED.
        confirmed=False,
    )


def _utc_day() -> dt.date:
    return timezone.now().astimezone(dt.UTC).date()


class EbayAdapter(NoFollowups):
    """One eBay seller account, through ``EbayClient``."""

    platform: ClassVar[str] = "ebay"
    api_hosts: ClassVar[tuple[str, ...]] = ("api.ebay.com", "auth.ebay.com")
    binder: ClassVar[EbayBinder] = EbayBinder()
    credential_fields: ClassVar[tuple[CredentialField, ...]] = (
        CredentialField("client_id", _("eBay app client id (App ID)")),
        CredentialField("client_secret", _("eBay app client secret (Cert ID)")),
        CredentialField("ru_name", _("eBay RuName (redirect URL name)")),
    )
    batch_size: ClassVar[int] = BULK_UPDATE_MAX
    quantity_max: ClassVar[int] = QUANTITY_MAX
    unbound_message: ClassVar[str] = MSG_NOT_MAPPED

    def __init__(self, store: Store, client: EbayClient) -> None:
        self.store = store
        self.client = client

    @classmethod
    def for_store(cls, store: Store) -> EbayAdapter:
        return cls(store, EbayClient.for_store(store))

    # --- StockTarget -----------------------------------------------------------------------

    def batches(self, updates: Sequence[StockUpdate]) -> Iterator[Sequence[StockUpdate]]:
        return batch_updates(updates, self.batch_size)

    def _budget(self, offers: Mapping[int, list[str]]) -> dict[int, str]:
        """The registrations whose offers have used up today's revisions (with why)."""
        limit = settings.EBAY_REVISIONS_PER_DAY
        every = sorted({offer for ids in offers.values() for offer in ids})
        used = dict(
            EbayRevision.objects.filter(
                store=self.store, day=_utc_day(), offer_id__in=every
            ).values_list("offer_id", "count")
        )
        tomorrow = dt.datetime.combine(_utc_day() + dt.timedelta(days=1), dt.time())
        held = {}
        for registration_id, ids in offers.items():
            for offer in ids:
                if used.get(offer, 0) >= limit:
                    held[registration_id] = str(
                        MSG_BUDGET
                        % {
                            "limit": limit,
                            "offer": offer,
                            "count": used[offer],
                            "until": f"{tomorrow:%Y-%m-%d %H:%M}",
                        }
                    )
                    break
        return held

    def _count_revisions(self, offer_ids: Sequence[str]) -> None:
        day = _utc_day()
        existing = set(
            EbayRevision.objects.filter(
                store=self.store, day=day, offer_id__in=list(offer_ids)
            ).values_list("offer_id", flat=True)
        )
        EbayRevision.objects.filter(store=self.store, day=day, offer_id__in=existing).update(
            count=F("count") + 1
        )
        EbayRevision.objects.bulk_create(
            [
                EbayRevision(store=self.store, offer_id=offer, day=day, count=1)
                for offer in offer_ids
                if offer not in existing
            ],
            ignore_conflicts=True,
        )

    def push_stock(self, updates: Sequence[StockUpdate]) -> PushResult:
        """One bulkUpdatePriceQuantity of at most 25 SKUs. A refused entry fails alone
        (25001, eBay's own failure, is tried again later); a listing out of today's
        revisions is held until the next UTC day."""
        keys = self.binder.keys_of([update.registration_id for update in updates])
        refused: dict[int, str] = {}
        offers = {
            update.registration_id: _offer_ids(keys[update.registration_id]["offer_ids"])
            for update in updates
            if update.registration_id in keys
        }
        held = self._budget(offers)
        sendable = []
        for update in updates:
            if update.registration_id not in keys:
                refused[update.registration_id] = str(MSG_NOT_MAPPED)
            elif update.registration_id not in held:
                sendable.append(update)
        if not sendable:
            return PushResult(accepted=(), refused=refused, held=held, held_until=self._tomorrow())
        by_sku = {keys[u.registration_id]["ebay_sku"]: u for u in sendable}
        results = self.client.bulk_update(
            [
                QuantityUpdate(sku, update.quantity, tuple(offers[update.registration_id]))
                for sku, update in by_sku.items()
            ]
        )
        failed: dict[str, list] = {}
        for result in results:
            if not result.ok:
                failed.setdefault(result.sku, []).append(result)
        retry: dict[int, str] = {}
        accepted = []
        for sku, update in by_sku.items():
            if sku not in failed:
                accepted.append(update.registration_id)
                continue
            errors = "; ".join(
                "; ".join(str(e) for e in r.errors) or f"HTTP {r.status_code}" for r in failed[sku]
            )
            message = str(MSG_ENTRY % {"sku": sku, "errors": errors})
            # Only eBay's own failure (25001) is worth sending again as it is.
            if all(r.retryable for r in failed[sku]):
                retry[update.registration_id] = message
            else:
                refused[update.registration_id] = message
        self._count_revisions([offer for rid in accepted for offer in offers.get(rid, [])])
        uncertain = tuple(accepted) if self.client.last_uncertain else ()
        return PushResult(
            accepted=tuple(accepted),
            refused=refused,
            uncertain=uncertain,
            retry=retry,
            held=held,
            held_until=self._tomorrow() if held else None,
        )

    @staticmethod
    def _tomorrow() -> dt.datetime:
        return dt.datetime.combine(_utc_day() + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC)

    def stock_of(self, registration_ids: Sequence[int]) -> dict[int, int | None]:
        keys = self.binder.keys_of(list(registration_ids))
        items = self.client.inventory_items(sorted({k["ebay_sku"] for k in keys.values()}))
        return {
            registration_id: (
                items[keys[registration_id]["ebay_sku"]].quantity
                if registration_id in keys and keys[registration_id]["ebay_sku"] in items
                else None
            )
            for registration_id in registration_ids
        }

    def auth_test(self) -> AuthResult:
        """A refresh of the seller's token: eBay accepts the app keys and the consent."""
        try:
            self.client.token(fresh=True)
        except EbayAuthError as exc:
            if exc.reconnect:
                EbayConnection.objects.filter(store=self.store).update(
                    reconnect=True, last_error=str(exc)[:2000]
                )
            raise
        connection = EbayConnection.objects.filter(store=self.store).first()
        ends = connection.refresh_expires_at if connection else None
        if ends is None:
            return AuthResult(message=str(MSG_AUTH_OK_UNDATED))
        return AuthResult(message=str(MSG_AUTH_OK % {"date": f"{ends:%Y-%m-%d}"}), expires_at=ends)

    # --- OrderSource ------------------------------------------------------------------------

    def orders_changed(self, window: PollWindow) -> Iterator[OrderSnapshot]:
        """getOrders by lastmodifieddate from the window's start (the engine's cursor less
        its overlap): only orders that changed. An order placed before the window that the
        engine never applied was placed before the first poll (its stock is in the pool we
        started from) and is left alone. The open orders the engine says are due are read by
        id, 50 a call (the safety net for a change eBay did not stamp)."""
        changed = {order.order_id: order for order in self.client.orders_modified(window.start)}
        old = [
            number
            for number, order in changed.items()
            if order.created is None or order.created < window.start
        ]
        known = set(window.applied(old)) if old and window.applied else set()
        wanted = {
            number: order
            for number, order in changed.items()
            if number not in old or number in known
        }
        due = [number for number in window.due if number not in wanted]
        if window.on_found is not None:
            window.on_found(len(changed), len(wanted) + len(due))
        for order in wanted.values():
            yield order_snapshot(order)
        if due:
            found = self.client.orders_by_id(due)
            for number in due:
                if number in found:
                    yield order_snapshot(found[number])
                else:
                    yield OrderSnapshot(number=number, status="", missing=True)

    # --- CatalogSource ----------------------------------------------------------------------

    def listings(self, *, on_total: Callable[[int], None] | None = None) -> Iterator[CatalogPage]:
        """getInventoryItems (200 a page, following ``next``) and each SKU's offers."""
        told = False
        for _url, page, _next in self.client.inventory_pages():
            if not told and on_total is not None and page.total is not None:
                on_total(page.total)
                told = True
            listings = []
            for item in page.entries:
                offers = [o for o in self.client.offers(item.sku) if o.published]
                listings.append(
                    Listing(
                        keys={
                            "ebay_sku": item.sku,
                            "offer_ids": ",".join(o.offer_id for o in offers),
                            "marketplace_id": offers[0].marketplace_id if offers else "",
                        },
                        sku_code=item.sku,
                        title=item.title or item.sku,
                        quantity=item.quantity,
                    )
                )
            yield CatalogPage(entries=len(page.entries), listings=tuple(listings))

    # --- the seller account the store is connected to ---------------------------------------

    @classmethod
    def account(cls, store: Store) -> AccountState:
        """Connected or not, and the button that (re)connects it (eBay's consent page)."""
        return cls.accounts([store])[store.store_id]

    @classmethod
    def accounts(cls, stores: Sequence[Store]) -> dict[str, AccountState]:
        """Each store's account state, by store id: one query however many stores (the
        dashboard shows every store's)."""
        connections = {
            connection.store_id: connection
            for connection in EbayConnection.objects.filter(store__in=list(stores))
        }
        return {
            store.store_id: cls._account_state(store, connections.get(store.store_id))
            for store in stores
        }

    @classmethod
    def _account_state(cls, store: Store, connection: EbayConnection | None) -> AccountState:
        from django.urls import reverse

        url = reverse("ebay:connect", args=[store.store_id])
        if connection is None or not connection.connected_at:
            return AccountState(
                connected=False,
                message=MSG_NOT_CONNECTED,
                action_url=url,
                action_label=MSG_CONNECT,
                needs_action=True,
            )
        if connection.reconnect:
            return AccountState(
                connected=False,
                message=MSG_RECONNECT % {"error": connection.last_error or "-"},
                action_url=url,
                action_label=MSG_RECONNECT_BUTTON,
                needs_action=True,
            )
        ends = connection.refresh_expires_at
        message = MSG_CONNECTED % {
            "date": f"{timezone.localtime(connection.connected_at):%Y-%m-%d}",
            "user": connection.connected_by,
            "ends": f"{timezone.localtime(ends):%Y-%m-%d}" if ends else "?",
        }
        return AccountState(
            connected=True,
            message=message,
            action_url=url,
            action_label=MSG_RECONNECT_BUTTON,
            needs_action=connection.refresh_ends_soon,
        )

    @classmethod
    def actions(cls, store: Store) -> list[StoreAction]:
        """The seed's inventory and offers reads, each a run with its live log."""
        from django.urls import reverse

        return [
            StoreAction(
                MSG_READ_INVENTORY,
                reverse("ebay:catalog", args=[store.store_id, "inventory"]),
                MSG_READ_INVENTORY_HELP,
            ),
            StoreAction(
                MSG_READ_OFFERS,
                reverse("ebay:catalog", args=[store.store_id, "offers"]),
                MSG_READ_OFFERS_HELP,
            ),
        ]
