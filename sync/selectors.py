"""Reads for the staff pages: store health for the dashboard (with its small charts), a
store's recent runs, and the failed pushes with what they mean.

Every figure of the dashboard is one aggregate over all stores (never a query per store
per figure), so the page costs the same few queries for 3 stores or 300."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import (
    Case,
    Count,
    IntegerField,
    Max,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.fields.json import KT
from django.db.models.functions import Cast, TruncHour
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from events.models import AuditAction, AuditLog, InventoryEvent, PendingPush
from stores.models import Store, StoreSku

from .adapters import AccountState
from .charts import HourlyChart, hourly_chart, hours_back
from .error_messages import Explanation, explain
from .models import Order, OrderLine, QuarantinedOrder, SyncRun
from .registry import platforms, store_accounts

LICENCE_WARNING = dt.timedelta(days=14)
# A change waiting longer than this to reach a store is worth a look.
PUSH_LAG_WARNING = dt.timedelta(minutes=15)
CHART_HOURS = 24
# Counts a push run has only when it had something to send (or to read back).
PUSH_WORK_KEYS = ("pushed", "failed", "deferred", "held", "verified", "to_verify")
ENDED_BADLY = (SyncRun.Status.FAILED, SyncRun.Status.INTERRUPTED)
FAILURE_STATUSES = (SyncRun.Status.FAILED, SyncRun.Status.PARTIAL, SyncRun.Status.INTERRUPTED)
# The failed-push page lists this many (the oldest failures first would hide new ones).
FAILED_SHOWN = 500

# Why a store is not all right, shortest first (the dashboard's health column).
PROBLEM_POLL = _("last order poll failed")
PROBLEM_PUSH = _("last push failed")
PROBLEM_CREDENTIALS = _("credentials refused or unreadable")
PROBLEM_ACCOUNT = _("account needs connecting")
PROBLEM_FAILED_PUSHES = _("pushes failed")
PROBLEM_FAILED_CONFIRMATIONS = _("order confirmations failed")
PROBLEM_QUARANTINE = _("orders set aside")
PROBLEM_UNMATCHED = _("order lines match no SKU")
PROBLEM_LICENCE = _("licence expires soon")
PROBLEM_LAG = _("changes wait to be pushed")
PROBLEM_DRIFT = _("store shows other quantities")
PROBLEM_NOT_TESTED = _("credentials not tested")

HEALTH_OK = "ok"
HEALTH_ATTENTION = "attention"
HEALTH_FAILING = "failing"
HEALTH_LABELS = {
    HEALTH_OK: _("all right"),
    HEALTH_ATTENTION: _("needs attention"),
    HEALTH_FAILING: _("failing"),
}


def push_idle() -> Q:
    """Push runs that had nothing to send (the every-minute push of a quiet store) or
    found the store busy: the run lists fold them."""
    worked = Q()
    for key in PUSH_WORK_KEYS:
        worked |= Q(counts__has_key=key)
    return Q(kind=SyncRun.Kind.PUSH) & (
        Q(status=SyncRun.Status.SKIPPED) | (Q(status=SyncRun.Status.SUCCEEDED) & ~worked)
    )


@dataclass
class StoreHealth:
    store: Store
    last_poll: SyncRun | None
    last_push: SyncRun | None
    pending_pushes: int
    failed_pushes: int
    failed_confirmations: int
    unmatched_lines: int
    drift: int | None
    repaired: int = 0
    quarantined: int = 0
    # A platform account connected in a browser (eBay), when the store has one.
    account: AccountState | None = None
    oversold: int = 0
    # The oldest change still waiting to reach the store.
    oldest_pending_at: dt.datetime | None = None
    orders_chart: HourlyChart | None = None
    pushes_chart: HourlyChart | None = None
    failures_chart: HourlyChart | None = None

    @property
    def licence_warning(self) -> bool:
        expires = self.store.license_expires_at
        return expires is not None and expires - timezone.now() <= LICENCE_WARNING

    @property
    def push_lag(self) -> dt.timedelta | None:
        if self.oldest_pending_at is None:
            return None
        return max(timezone.now() - self.oldest_pending_at, dt.timedelta(0))

    @property
    def lag_warning(self) -> bool:
        lag = self.push_lag
        return lag is not None and lag >= PUSH_LAG_WARNING

    @property
    def poll_error(self) -> Explanation | None:
        return _run_problem(self.last_poll, self.store.store_id)

    @property
    def push_error(self) -> Explanation | None:
        return _run_problem(self.last_push, self.store.store_id)

    @property
    def problems(self) -> list[tuple[str, str]]:
        """(level, reason) for everything not all right, the failing ones first."""
        failing = [
            (self.poll_error is not None, PROBLEM_POLL),
            (self.push_error is not None, PROBLEM_PUSH),
            (
                bool(self.store.last_auth_error) or not self.store.credentials_readable,
                PROBLEM_CREDENTIALS,
            ),
            (self.account is not None and self.account.needs_action, PROBLEM_ACCOUNT),
            (self.failed_pushes > 0, PROBLEM_FAILED_PUSHES),
        ]
        attention = [
            (self.failed_confirmations > 0, PROBLEM_FAILED_CONFIRMATIONS),
            (self.quarantined > 0, PROBLEM_QUARANTINE),
            (self.unmatched_lines > 0, PROBLEM_UNMATCHED),
            (self.licence_warning, PROBLEM_LICENCE),
            (self.lag_warning, PROBLEM_LAG),
            (bool(self.drift), PROBLEM_DRIFT),
            (
                self.store.last_auth_test_at is None and self.account is None,
                PROBLEM_NOT_TESTED,
            ),
        ]
        return [(HEALTH_FAILING, str(reason)) for hit, reason in failing if hit] + [
            (HEALTH_ATTENTION, str(reason)) for hit, reason in attention if hit
        ]

    @property
    def health(self) -> str:
        levels = {level for level, _reason in self.problems}
        if HEALTH_FAILING in levels:
            return HEALTH_FAILING
        return HEALTH_ATTENTION if levels else HEALTH_OK

    @property
    def health_label(self) -> str:
        return str(HEALTH_LABELS[self.health])


def _run_problem(run: SyncRun | None, store_id: str) -> Explanation | None:
    if run is None or run.status not in ENDED_BADLY:
        return None
    return explain(run.error, store_id=store_id)


def _newest_run(kind: str) -> Subquery:
    runs = SyncRun.objects.filter(store_id=OuterRef("pk"), kind=kind).exclude(
        status=SyncRun.Status.SKIPPED
    )
    if kind == SyncRun.Kind.PUSH:
        runs = runs.exclude(push_idle())
    return Subquery(runs.order_by("-started_at", "-pk").values("pk")[:1])


def latest_runs_of(stores: QuerySet[Store], kinds: Iterable[str]) -> dict[str, dict[str, SyncRun]]:
    """The newest run of each kind per store (a push that had nothing to send does not
    count): one query for the ids (each an index scan of the store's runs of that kind),
    one for the runs, however many stores."""
    kinds = list(kinds)
    rows = stores.order_by().annotate(**{f"run_{kind}": _newest_run(kind) for kind in kinds})
    wanted: dict[int, str] = {}
    for row in rows.values("pk", *[f"run_{kind}" for kind in kinds]):
        for kind in kinds:
            if row[f"run_{kind}"] is not None:
                wanted[row[f"run_{kind}"]] = kind
    found: dict[str, dict[str, SyncRun]] = {kind: {} for kind in kinds}
    for run in SyncRun.objects.filter(pk__in=list(wanted)):
        found[wanted[run.pk]][run.store_id] = run
    return found


def latest_runs(kind: str, store_ids: list[str]) -> dict[str, SyncRun]:
    """The newest run of a kind per store."""
    return latest_runs_of(Store.objects.filter(pk__in=store_ids), [kind])[kind]


def _hourly(rows: Iterable[dict], value: str) -> dict[str, dict[dt.datetime, int]]:
    series: dict[str, dict[dt.datetime, int]] = defaultdict(dict)
    for row in rows:
        if row["hour"] is not None:
            series[row["store_id"]][row["hour"]] = int(row[value] or 0)
    return series


def activity_by_hour(since: dt.datetime) -> dict[str, dict[str, dict[dt.datetime, int]]]:
    """Per store and hour since ``since``: orders placed, SKUs pushed and runs that failed
    (one aggregate query each)."""
    orders = (
        Order.objects.filter(ordered_at__gte=since)
        .order_by()
        .annotate(hour=TruncHour("ordered_at"))
        .values("store_id", "hour")
        .annotate(n=Count("id"))
    )
    pushes = (
        SyncRun.objects.filter(
            kind=SyncRun.Kind.PUSH, started_at__gte=since, counts__has_key="pushed"
        )
        .order_by()
        .annotate(hour=TruncHour("started_at"))
        .values("store_id", "hour")
        .annotate(n=Sum(Cast(KT("counts__pushed"), IntegerField())))
    )
    failures = (
        SyncRun.objects.filter(started_at__gte=since, status__in=FAILURE_STATUSES)
        .order_by()
        .annotate(hour=TruncHour("started_at"))
        .values("store_id", "hour")
        .annotate(n=Count("id"))
    )
    return {
        "orders": _hourly(orders, "n"),
        "pushes": _hourly(pushes, "n"),
        "failures": _hourly(failures, "n"),
    }


def _per_store(rows: QuerySet, key: str = "store_id") -> dict[str, int]:
    return dict(rows.order_by().values(key).annotate(n=Count("pk")).values_list(key, "n"))


def store_health(now: dt.datetime | None = None) -> list[StoreHealth]:
    now = now or timezone.now()
    waiting = ~Q(status=PendingPush.Status.FAILED)
    pushes = {
        row["store_id"]: row
        for row in PendingPush.objects.order_by()
        .values("store_id")
        .annotate(
            pending=Count("id", filter=waiting),
            failed=Count("id", filter=Q(status=PendingPush.Status.FAILED)),
            oldest=Min("requested_at", filter=waiting),
        )
    }
    confirmations: dict[str, int] = defaultdict(int)
    for platform in platforms().values():
        for store_id, count in _per_store(platform.followups_failed()).items():
            confirmations[store_id] += count
    unmatched = _per_store(OrderLine.objects.filter(sku__isnull=True), "order__store_id")
    quarantined = _per_store(QuarantinedOrder.objects.filter(status=QuarantinedOrder.Status.OPEN))
    oversold = _per_store(InventoryEvent.objects.filter(oversold=True, store__isnull=False))
    stores = list(Store.objects.order_by("store_id"))
    latest = latest_runs_of(
        Store.objects.all(), [SyncRun.Kind.POLL, SyncRun.Kind.PUSH, SyncRun.Kind.RECONCILE]
    )
    polls, push_runs, reconciles = (
        latest[SyncRun.Kind.POLL],
        latest[SyncRun.Kind.PUSH],
        latest[SyncRun.Kind.RECONCILE],
    )
    hours = hours_back(now, CHART_HOURS)
    activity = activity_by_hour(hours[0])
    accounts = store_accounts(stores)
    rows = []
    for store in stores:
        sid = store.store_id
        reconcile = reconciles.get(sid)
        rows.append(
            StoreHealth(
                store=store,
                last_poll=polls.get(sid),
                last_push=push_runs.get(sid),
                pending_pushes=pushes.get(sid, {}).get("pending", 0),
                failed_pushes=pushes.get(sid, {}).get("failed", 0),
                oldest_pending_at=pushes.get(sid, {}).get("oldest"),
                failed_confirmations=confirmations.get(sid, 0),
                unmatched_lines=unmatched.get(sid, 0),
                quarantined=quarantined.get(sid, 0),
                oversold=oversold.get(sid, 0),
                repaired=reconcile.counts.get("repaired", 0) if reconcile else 0,
                drift=reconcile.counts.get("drift") if reconcile else None,
                account=accounts.get(sid),
                orders_chart=hourly_chart(activity["orders"].get(sid, {}), hours),
                pushes_chart=hourly_chart(activity["pushes"].get(sid, {}), hours),
                failures_chart=hourly_chart(activity["failures"].get(sid, {}), hours),
            )
        )
    return rows


def oversell_count() -> int:
    return InventoryEvent.objects.filter(oversold=True).count()


def store_rows() -> QuerySet[Store]:
    """Every store with how many SKUs it has registered, for the store list."""
    return Store.objects.annotate(registered=Count("registrations")).order_by("store_id")


# --- a store's recent runs, the quiet pushes folded ------------------------------------


@dataclass(frozen=True)
class IdleFold:
    """Push runs in a row that had nothing to send, shown as one line."""

    count: int
    first: dt.datetime
    last: dt.datetime
    last_run_id: int

    is_fold = True


def store_runs_recent(store: Store, limit: int = 10) -> list[SyncRun | IdleFold]:
    """The store's newest ``limit`` runs that did something, newest first, with the push
    runs that had nothing to send between them folded into one line each (two queries:
    the runs, and the idle ones counted per gap)."""
    runs = list(
        SyncRun.objects.filter(store=store)
        .exclude(push_idle())
        .order_by("-started_at", "-pk")[:limit]
    )
    idle = SyncRun.objects.filter(store=store).filter(push_idle())
    if len(runs) == limit:
        idle = idle.filter(started_at__gte=runs[-1].started_at)
    # The gap each idle run falls in: 0 before the newest run shown, 1 after it, …
    gap = Case(
        *[When(started_at__gt=run.started_at, then=Value(index)) for index, run in enumerate(runs)],
        default=Value(len(runs)),
        output_field=IntegerField(),
    )
    rows = (
        idle.order_by()
        .annotate(gap=gap)
        .values("gap")
        .annotate(n=Count("pk"), first=Min("started_at"), last=Max("started_at"), last_id=Max("pk"))
    )
    folds = {
        row["gap"]: IdleFold(
            count=row["n"], first=row["first"], last=row["last"], last_run_id=row["last_id"]
        )
        for row in rows
        if row["n"]  # a constant gap (no run shown) makes it one row even over no run
    }
    shown: list[SyncRun | IdleFold] = []
    for index, run in enumerate(runs):
        if index in folds:
            shown.append(folds[index])
        shown.append(run)
    if len(runs) in folds and len(runs) < limit:
        shown.append(folds[len(runs)])
    return shown


# --- failed pushes, read for a merchant --------------------------------------------------


@dataclass
class FailedPush:
    row: PendingPush
    registration_id: int | None
    explanation: Explanation
    # A retry by staff that this failure came after (when, by whom).
    retried_at: dt.datetime | None = None
    retried_by: str = ""
    attempts: int = 0


def _retries(oldest: dt.datetime) -> list[dict]:
    """Staff's retries since ``oldest``, newest first (the audit log keeps which rows)."""
    return list(
        AuditLog.objects.filter(action=AuditAction.FAILED_RETRY, created_at__gte=oldest)
        .order_by("-created_at")
        .values("created_at", "user", "details")[:200]
    )


def _retry_before(row: PendingPush, retries: list[dict]) -> dict | None:
    """The newest retry that named this row (or every row) while it existed, before it
    failed this time: the row failed again after it."""
    for retry in retries:
        when = retry["created_at"]
        if not row.created_at <= when <= row.updated_at:
            continue
        pushes = (retry["details"] or {}).get("pushes")
        if pushes == "all" or (isinstance(pushes, list) and row.pk in pushes):
            return retry
    return None


def failed_pushes(*, store_id: str | None = None, limit: int = FAILED_SHOWN) -> list[FailedPush]:
    """Failed pushes (newest failure first), each with its registration (the page links
    it), what its error means, and the staff retry it failed again after (two queries)."""
    rows = (
        PendingPush.objects.filter(status=PendingPush.Status.FAILED)
        .select_related("store", "sku")
        .annotate(
            registration_id=Subquery(
                StoreSku.objects.filter(
                    store_id=OuterRef("store_id"), sku_id=OuterRef("sku_id")
                ).values("pk")[:1]
            )
        )
        .order_by("-updated_at", "store_id", "sku_id")
    )
    if store_id:
        rows = rows.filter(store_id=store_id)
    rows = list(rows[:limit])
    retries = _retries(min(row.created_at for row in rows)) if rows else []
    found = []
    for row in rows:
        explanation = explain(
            row.last_error,
            store_id=row.store_id,
            sku_id=row.sku_id,
            registration_id=row.registration_id,
        )
        retry = _retry_before(row, retries)
        # A row the platform refused was sent once even where the count says 0 (the push
        # records refusals without counting them); a row never bound was never sent.
        attempts = row.attempts
        if attempts == 0 and explanation.kind != "not_linked":
            attempts = 1
        found.append(
            FailedPush(
                row=row,
                registration_id=row.registration_id,
                explanation=explanation,
                retried_at=retry["created_at"] if retry else None,
                retried_by=retry["user"] if retry else "",
                attempts=attempts,
            )
        )
    return found
