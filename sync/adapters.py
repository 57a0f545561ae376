"""Where the engine ends and a platform begins.

An adapter translates and nothing more: our dataclasses in, platform calls out, the
platform's answers back as our dataclasses and errors (``sync.errors``). Every question
of *what* — how many to tell a store, whether an order takes stock, when to retry — is
answered by the engine, never here. One adapter module per platform implements these
Protocols (``rakuten.adapter.RmsAdapter``) and is named in
``settings.INVENTORY_PLATFORMS``; ``sync.registry.adapter_for(store)`` builds it.

Registrations are addressed by the id of their ``StoreSku`` row; the platform's own
ids live in the platform's binding table, which only its ``Binder`` reads and writes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, runtime_checkable

from django.utils.functional import Promise

# A label: a str, or a lazy translation that becomes one in the language of the request.
StrOrPromise = str | Promise

if TYPE_CHECKING:
    from stores.models import Store


# --- what crosses the boundary ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StockUpdate:
    """Tell the store to show ``quantity`` (absolute) for one registration."""

    registration_id: int
    sku_id: str
    quantity: int


@dataclass(frozen=True, slots=True)
class PushResult:
    """What the platform took and what it refused (registration id -> its reason)."""

    accepted: tuple[int, ...]
    refused: Mapping[int, str] = field(default_factory=dict)
    # Accepted, but an earlier attempt of the same write timed out or failed on the
    # platform's side: that attempt may still be applied late, over a newer value.
    uncertain: tuple[int, ...] = ()
    # Refused for now by a failure on the platform's side (eBay's 25001): tried again later
    # with backoff, like a call that failed, but for these rows only.
    retry: Mapping[int, str] = field(default_factory=dict)
    # Not sent: the platform's own budget would refuse them (eBay's revisions a listing a
    # day); kept pending until ``held_until`` without counting an attempt.
    held: Mapping[int, str] = field(default_factory=dict)
    held_until: dt.datetime | None = None


@dataclass(frozen=True, slots=True)
class AuthResult:
    """The platform accepted the credentials; ``expires_at`` when it says when they end."""

    message: str
    expires_at: dt.datetime | None = None


@dataclass(frozen=True, slots=True)
class OrderLineSnapshot:
    """One line of an order as the platform shows it now.

    ``listing`` holds the platform's keys of what was sold, as its binder reads them;
    ``counts`` is False for a line the platform deleted (it takes 0 units)."""

    listing: Mapping[str, str]
    units: int
    counts: bool = True
    # The platform's own id of the line (RMS itemDetailId): lines are matched to what the
    # engine saw before by it, not by position (a platform may reorder lines).
    line_id: str = ""


@dataclass(frozen=True, slots=True)
class OrderSnapshot:
    """What one order holds now. The engine converges the ledger to it.

    ``final``: no longer re-read on every poll (only by a sweep). ``cancelled``: every
    line takes 0. ``confirmed``: the merchant has accepted it (ORDER_CONFIRMED, once).
    ``missing``: the platform no longer knows the order (nothing is applied)."""

    number: str
    status: str
    ordered_at: dt.datetime | None = None
    lines: tuple[OrderLineSnapshot, ...] = ()
    final: bool = False
    cancelled: bool = False
    confirmed: bool = False
    missing: bool = False
    # Platform-only facts an adapter's ``order_applied`` hook needs (e.g. RMS's progress).
    extra: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class PollWindow:
    """What a poll asks of an ``OrderSource``.

    Orders placed in [start, end], plus every order in ``open_orders`` (seen, not final:
    cancellations and changes may only show on the order itself). Orders the search finds
    that ``known_final`` names are not read again unless ``sweep``."""

    start: dt.datetime
    end: dt.datetime
    sweep: bool
    open_orders: tuple[str, ...]
    known_final: Callable[[Sequence[str]], set[str]]
    on_found: Callable[[int, int], None] | None = None
    # When the oldest open order was placed (None: none is open): a platform whose search
    # shows each order's state can search from there instead of reading each open order.
    open_since: dt.datetime | None = None
    # What the engine has applied of each order named (orders it never applied are left
    # out): a platform compares its search answer with it and reads in detail only the
    # orders that changed. Always what was applied, so nothing skipped is ever lost.
    applied: Callable[[Sequence[str]], dict[str, AppliedOrder]] | None = None
    # The platform status each open order was last applied with (None: not given), for a
    # platform that finds what changed by searching per status (RMS), and the open orders
    # due to be read again whatever a search says (``SYNC_POLL_REREAD_TIERS``: a change no
    # search shows is caught within that time) with the orders set aside.
    open_status: Mapping[str, str] | None = None
    due: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class AppliedOrder:
    """An order as the engine last applied it: the platform's status and each line's
    listing keys with its units (deleted lines left out)."""

    status: str
    lines: tuple[tuple[Mapping[str, str], int], ...]


@dataclass(frozen=True, slots=True)
class Listing:
    """One sellable thing in a store's catalogue (an RMS variant, a futureshop SKU …).

    ``keys`` are the binding's keys; ``sku_code`` the merchant's code for it (case kept);
    ``quantity`` what the store shows, when it says."""

    keys: Mapping[str, str]
    sku_code: str
    title: str = ""
    quantity: int | None = None


@dataclass(frozen=True, slots=True)
class CatalogPage:
    """A page of the catalogue: ``entries`` of the platform's own (items, products) and
    the listings they hold. The engine checks for a cancel between pages."""

    entries: int
    listings: tuple[Listing, ...]


@dataclass(frozen=True, slots=True)
class BindingField:
    """One platform key a registration carries (for forms, CSV columns and the API)."""

    name: str
    label: StrOrPromise  # lazy: shown in the language of each request
    max_length: int
    required: bool = False


@dataclass(frozen=True, slots=True)
class CredentialField:
    """One secret a store of the platform needs (encrypted at rest, write-only in forms)."""

    name: str
    label: StrOrPromise
    # Why a value would be refused (the store form shows it), or None; None: any value.
    check: Callable[[str], str | None] | None = None


@dataclass(frozen=True, slots=True)
class AccountState:
    """A platform account a store is connected to in a browser (eBay's consent), as the
    store page and the dashboard show it: what it is, and the action that (re)connects it
    (a POST to ``action_url``). ``needs_action``: the store cannot sync until it is done."""

    connected: bool
    message: StrOrPromise
    action_url: str
    action_label: StrOrPromise
    needs_action: bool = False


@dataclass(frozen=True, slots=True)
class StoreAction:
    """A platform's own job a store page offers (a POST to ``url``; needs ``run_sync``)."""

    label: StrOrPromise
    url: str
    help: StrOrPromise = ""


def batch_updates(updates: Sequence[StockUpdate], size: int) -> Iterator[Sequence[StockUpdate]]:
    """``size`` updates per call, in their order (a platform that counts rows)."""
    for start in range(0, len(updates), size):
        yield updates[start : start + size]


class BindingInvalid(ValueError):
    """Platform keys that the platform would refuse; the message says which and why."""


# --- the Protocols -------------------------------------------------------------------------


@runtime_checkable
class Binder(Protocol):
    """Our registrations <-> the platform's keys, over the platform's binding table."""

    fields: ClassVar[tuple[BindingField, ...]]

    def clean(self, keys: Mapping[str, str]) -> dict[str, str]:
        """Normalise keys (case as the platform wants it) or raise ``BindingInvalid``."""
        ...

    def holders(self, store: Store, identities: Sequence[tuple]) -> dict[tuple, str]:
        """Which SKU of the store holds each listing identity already (one query)."""
        ...

    def identity(self, keys: Mapping[str, str]) -> tuple:
        """The keys that name one listing in the store (two registrations never share it)."""
        ...

    def bind(self, registration_id: int, store: Store, keys: Mapping[str, str]) -> bool:
        """Write the keys of one registration; True when they changed."""
        ...

    def keys_of(self, registration_ids: Sequence[int]) -> dict[int, dict[str, str]]:
        """The keys of each bound registration (registrations without keys are left out)."""
        ...

    def bind_many(self, store: Store, keys_by_registration: Mapping[int, Mapping[str, str]]) -> int:
        """``bind`` for many registrations at once (CSV import, SKU sync); how many changed."""
        ...

    def matcher(self, store: Store) -> Callable[[Mapping[str, str]], str | None]:
        """A function from an order line's listing keys to our SKU id (None: no match),
        built once per poll."""
        ...

    def label(self, listing: Mapping[str, str]) -> str:
        """A short human-readable form of listing keys (admin, logs)."""
        ...


@runtime_checkable
class StockTarget(Protocol):
    """A store that can be told how many to show (every platform)."""

    batch_size: ClassVar[int]
    quantity_max: ClassVar[int]
    unbound_message: ClassVar[str]

    def batches(self, updates: Sequence[StockUpdate]) -> Iterator[Sequence[StockUpdate]]:
        """Split the due updates (most urgent first) into the calls ``push_stock`` takes:
        ``batch_updates`` (rows of ``batch_size``) unless the platform counts otherwise
        (futureshop: ``batch_size`` products, each with all its SKUs)."""
        ...

    def push_stock(self, updates: Sequence[StockUpdate]) -> PushResult:
        """Send one batch (at most ``batch_size``). Rows the platform refuses are returned in
        ``refused``; an error that concerns the whole call raises a ``PlatformError``."""
        ...

    def stock_of(self, registration_ids: Sequence[int]) -> dict[int, int | None]:
        """What the store shows for each registration (None: the store does not know it)."""
        ...

    def auth_test(self) -> AuthResult:
        """Check the credentials; raise ``PlatformAuthError`` with a message staff can act on."""
        ...


@runtime_checkable
class OrderSource(Protocol):
    """A store whose orders the engine polls."""

    def orders_changed(self, window: PollWindow) -> Iterator[OrderSnapshot]:
        """Yield what each order in the window holds now. Never touches the ledger."""
        ...


@runtime_checkable
class CatalogSource(Protocol):
    """A store whose catalogue the engine can read into SKUs and registrations."""

    def listings(self, *, on_total: Callable[[int], None] | None = None) -> Iterator[CatalogPage]:
        """Yield the catalogue page by page; ``on_total`` gets the count of entries once known."""
        ...


class Adapter(StockTarget, Protocol):
    """What ``INVENTORY_PLATFORMS`` names: built for one store, with its binder."""

    platform: ClassVar[str]
    # The platform's own API hosts: a store's credentials are sent nowhere else.
    api_hosts: ClassVar[tuple[str, ...]]
    binder: ClassVar[Binder]
    credential_fields: ClassVar[tuple[CredentialField, ...]]

    @classmethod
    def for_store(cls, store: Store) -> Adapter: ...

    # A platform's own follow-up work on orders (RMS: order confirmation), shown on the
    # failed-sync page and the dashboard. A platform without any returns nothing.
    @classmethod
    def followups_failed(cls, store_ids: Sequence[str] | None = None) -> Any:
        """A queryset of failed follow-ups (``store_id``, ``pk``, ``attempts``, ``error``)."""
        ...

    @classmethod
    def followups_retry(
        cls, ids: Sequence[int] | None = None, *, store_id: str | None = None
    ) -> int: ...

    @classmethod
    def followups_start(cls, store_id: str | None = None) -> list[str]:
        """Queue the follow-ups that are due; the store ids queued."""
        ...


class NoFollowups:
    """The follow-ups of a platform that has none (futureshop, eBay): nothing failed,
    nothing to retry or start."""

    @classmethod
    def followups_failed(cls, store_ids: Sequence[str] | None = None) -> Any:
        from stores.models import StoreSku

        return StoreSku.objects.none()

    @classmethod
    def followups_retry(
        cls, ids: Sequence[int] | None = None, *, store_id: str | None = None
    ) -> int:
        return 0

    @classmethod
    def followups_start(cls, store_id: str | None = None) -> list[str]:
        return []
