"""Is the deployment healthy? ``/healthz`` (a load balancer, an uptime monitor) and
``manage.py healthcheck`` (cron) answer the same JSON.

Failing (503, exit 1): the database does not answer; the broker does not (Redis when
``REDIS_URL`` is set, else django-q2's table in the database); a schedule of
``sync.schedules.SCHEDULES`` is missing (nothing would poll or push); an active store's last
successful poll is older than ``HEALTH_POLL_STALE_MINUTES`` (or twice the store's own poll
interval, whichever is longer). Reported only: each store's last successful push (a store
with nothing to tell is not pushed), the failed pushes waiting for staff, the tasks queued
and the django-q2 clusters running.

No login, so nothing secret: no address, password or error text (those go to the log;
the answer names the kind of error only).
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.models import OuterRef, Subquery
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from events.models import PendingPush
from stores.models import Store
from sync.models import SyncRun
from sync.schedules import SCHEDULES
from sync.tasks import poll_interval

logger = logging.getLogger("inventory_site.health")

# Redis must answer within this; a load balancer's probe waits for the whole answer.
REDIS_TIMEOUT_SECONDS = 2.0
NOT_CHECKED = "not checked: the database does not answer"


def _error(component: str, exc: Exception) -> dict[str, Any]:
    logger.warning("health: %s failed: %s: %s", component, type(exc).__name__, exc)
    return {"ok": False, "error": type(exc).__name__}


def database_check() -> dict[str, Any]:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:
        return _error("database", exc)
    return {"ok": True, "vendor": connection.vendor}


def broker_check() -> dict[str, Any]:
    """Redis answers a PING (and says how many tasks wait), or django-q2's ORM broker table
    can be read."""
    from django_q.conf import Conf

    if settings.REDIS_URL:
        import redis

        client = redis.Redis.from_url(
            settings.REDIS_URL,
            socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
            socket_timeout=REDIS_TIMEOUT_SECONDS,
        )
        try:
            client.ping()
            queued = client.llen(Conf.CLUSTER_NAME)
        except Exception as exc:
            return {**_error("broker", exc), "kind": "redis"}
        finally:
            client.close()
        return {"ok": True, "kind": "redis", "queued": queued}
    from django_q.models import OrmQ

    try:
        queued = OrmQ.objects.using(Conf.ORM).filter(key=Conf.CLUSTER_NAME).count()
    except Exception as exc:
        return {**_error("broker", exc), "kind": "orm"}
    return {"ok": True, "kind": "orm", "queued": queued}


def clusters_running() -> int | None:
    """django-q2 clusters that reported to the broker's cache lately (None: unknown)."""
    try:
        from django_q.status import Stat

        return len(Stat.get_all())
    except Exception as exc:
        logger.warning("health: cluster status unknown: %s: %s", type(exc).__name__, exc)
        return None


def schedules_check() -> dict[str, Any]:
    from django_q.models import Schedule

    expected = [spec.name for spec in SCHEDULES]
    present = set(Schedule.objects.filter(name__in=expected).values_list("name", flat=True))
    missing = [name for name in expected if name not in present]
    return {"ok": not missing, "expected": len(expected), "missing": missing}


def _last_success(kind: str) -> Subquery:
    # The newest run first along the index (store, kind, -started_at).
    return Subquery(
        SyncRun.objects.filter(store=OuterRef("pk"), kind=kind, status=SyncRun.Status.SUCCEEDED)
        .order_by("-started_at")
        .values("finished_at")[:1]
    )


def _age(now: dt.datetime, then: dt.datetime | None) -> int | None:
    return None if then is None else max(0, int((now - then).total_seconds()))


def stores_check(now: dt.datetime) -> dict[str, Any]:
    """Each active store's last successful poll and push, in seconds; a store is stale when
    its last successful poll (or, never polled, its creation) is older than the threshold."""
    threshold = settings.HEALTH_POLL_STALE_MINUTES
    stores = (
        Store.objects.filter(
            status=Store.Status.ACTIVE, platform_type__in=list(settings.INVENTORY_PLATFORMS)
        )
        .annotate(
            last_poll=_last_success(SyncRun.Kind.POLL),
            last_push=_last_success(SyncRun.Kind.PUSH),
        )
        .order_by("store_id")
    )
    each: dict[str, dict[str, Any]] = {}
    stale = []
    for store in stores:
        limit = max(dt.timedelta(minutes=threshold), 2 * poll_interval(store))
        since = store.last_poll or store.created_at
        entry = {
            "last_poll_age_seconds": _age(now, store.last_poll),
            "last_push_age_seconds": _age(now, store.last_push),
            "poll_stale_after_seconds": int(limit.total_seconds()) if threshold else None,
        }
        if threshold and now - since > limit:
            entry["poll_stale"] = True
            stale.append(store.store_id)
        each[store.store_id] = entry
    return {
        "ok": not stale,
        "poll_stale_minutes": threshold,
        "stale": stale,
        "stores": each,
    }


def health_report(now: dt.datetime | None = None) -> dict[str, Any]:
    """Every check, and ``status`` "ok" or "failing" with the components that fail."""
    now = now or timezone.now()
    report: dict[str, Any] = {"database": database_check(), "broker": broker_check()}
    if report["database"]["ok"]:
        for name, check in (("schedules", schedules_check), ("stores", lambda: stores_check(now))):
            try:
                report[name] = check()
            except Exception as exc:
                report[name] = _error(name, exc)
        try:
            failed = PendingPush.objects.filter(status=PendingPush.Status.FAILED).count()
            report["failed_pushes"] = {"ok": True, "count": failed}
        except Exception as exc:
            report["failed_pushes"] = _error("failed_pushes", exc)
    else:
        for name in ("schedules", "stores", "failed_pushes"):
            report[name] = {"ok": None, "error": NOT_CHECKED}
    report["workers"] = {"clusters": clusters_running()}
    failing = [
        name
        for name, check in report.items()
        if isinstance(check, dict) and check.get("ok") is False
    ]
    return {
        "status": "failing" if failing else "ok",
        "failing": failing,
        "checked_at": now.isoformat(),
        **report,
    }


@never_cache
@require_safe
def healthz(request: HttpRequest) -> JsonResponse:
    """200 with the report when healthy, 503 with the same report when not."""
    report = health_report()
    return JsonResponse(report, status=200 if report["status"] == "ok" else 503)
