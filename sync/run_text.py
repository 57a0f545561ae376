"""A run's counts as words a merchant reads ("3 orders found, 1 stock change recorded"),
in the page's language, instead of the engine's keys ("found 3, events 1").

Runs store their counts under short keys (``RunLog.add``); the keys stay as they are and
only their reading lives here, so an old run reads like a new one."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext, ngettext_lazy, pgettext
from django.utils.translation import gettext_lazy as _

# The order counts are read in: what a run found before what it did, problems last.
KEY_ORDER = [
    "rows",
    "found",
    "orders",
    "unchanged",
    "events",
    "items",
    "variants",
    "fetched",
    "stored",
    "checked",
    "pushed",
    "confirmed",
    "created",
    "create",
    "update",
    "stock",
    "no change",
    "registered",
    "remapped",
    "verified",
    "to_verify",
    "late_writes_repaired",
    "repaired",
    "differ",
    "drift",
    "deferred",
    "held",
    "held_test_mode",
    "not_found",
    "quarantined",
    "unmatched_lines",
    "skipped",
    "error",
    "failed",
]

PHRASES: dict[str, Promise] = {
    "rows": ngettext_lazy("%(count)d row read", "%(count)d rows read", "count"),
    "found": ngettext_lazy("%(count)d order found", "%(count)d orders found", "count"),
    "orders": ngettext_lazy("%(count)d order changed", "%(count)d orders changed", "count"),
    "unchanged": ngettext_lazy("%(count)d order unchanged", "%(count)d orders unchanged", "count"),
    "events": ngettext_lazy(
        "%(count)d stock change recorded", "%(count)d stock changes recorded", "count"
    ),
    "items": ngettext_lazy(
        "%(count)d catalogue item read", "%(count)d catalogue items read", "count"
    ),
    "variants": ngettext_lazy("%(count)d variant read", "%(count)d variants read", "count"),
    "fetched": ngettext_lazy(
        "%(count)d record fetched from the platform",
        "%(count)d records fetched from the platform",
        "count",
    ),
    "stored": ngettext_lazy("%(count)d record saved", "%(count)d records saved", "count"),
    "checked": ngettext_lazy("%(count)d SKU checked", "%(count)d SKUs checked", "count"),
    "pushed": ngettext_lazy("%(count)d SKU pushed", "%(count)d SKUs pushed", "count"),
    "confirmed": ngettext_lazy("%(count)d order confirmed", "%(count)d orders confirmed", "count"),
    "created": ngettext_lazy("%(count)d SKU created", "%(count)d SKUs created", "count"),
    "create": ngettext_lazy("%(count)d SKU created", "%(count)d SKUs created", "count"),
    "update": ngettext_lazy("%(count)d SKU updated", "%(count)d SKUs updated", "count"),
    "stock": ngettext_lazy("%(count)d stock level set", "%(count)d stock levels set", "count"),
    "no change": ngettext_lazy(
        "%(count)d row without change", "%(count)d rows without change", "count"
    ),
    "registered": ngettext_lazy(
        "%(count)d registration added", "%(count)d registrations added", "count"
    ),
    "remapped": ngettext_lazy(
        "%(count)d registration moved to another listing",
        "%(count)d registrations moved to another listing",
        "count",
    ),
    "verified": ngettext_lazy(
        "%(count)d SKU read back and confirmed", "%(count)d SKUs read back and confirmed", "count"
    ),
    "to_verify": ngettext_lazy(
        "%(count)d SKU to read back after a timeout",
        "%(count)d SKUs to read back after a timeout",
        "count",
    ),
    "late_writes_repaired": ngettext_lazy(
        "%(count)d late write repaired", "%(count)d late writes repaired", "count"
    ),
    "repaired": ngettext_lazy("%(count)d SKU pushed again", "%(count)d SKUs pushed again", "count"),
    "differ": ngettext_lazy(
        "%(count)d SKU shows a different stock in the store",
        "%(count)d SKUs show a different stock in the store",
        "count",
    ),
    "drift": ngettext_lazy(
        "%(count)d SKU differs from what we pushed",
        "%(count)d SKUs differ from what we pushed",
        "count",
    ),
    "deferred": ngettext_lazy(
        "%(count)d SKU left for a later try", "%(count)d SKUs left for a later try", "count"
    ),
    "held": ngettext_lazy(
        "%(count)d SKU held until the platform allows more changes",
        "%(count)d SKUs held until the platform allows more changes",
        "count",
    ),
    "held_test_mode": ngettext_lazy(
        "%(count)d production SKU held back (test mode)",
        "%(count)d production SKUs held back (test mode)",
        "count",
    ),
    "not_found": ngettext_lazy(
        "%(count)d order no longer on the platform",
        "%(count)d orders no longer on the platform",
        "count",
    ),
    "quarantined": ngettext_lazy(
        "%(count)d order set aside", "%(count)d orders set aside", "count"
    ),
    "unmatched_lines": ngettext_lazy(
        "%(count)d order line matches no SKU", "%(count)d order lines match no SKU", "count"
    ),
    "skipped": ngettext_lazy("%(count)d skipped", "%(count)d skipped", "count"),
    "error": ngettext_lazy("%(count)d row with an error", "%(count)d rows with an error", "count"),
    "failed": ngettext_lazy("%(count)d SKU failed", "%(count)d SKUs failed", "count"),
}

# Where a key means something else for a kind of run.
KIND_PHRASES: dict[tuple[str, str], Promise] = {
    ("confirm", "failed"): ngettext_lazy(
        "%(count)d order not confirmed", "%(count)d orders not confirmed", "count"
    ),
    ("catalog", "failed"): ngettext_lazy(
        "%(count)d record not read", "%(count)d records not read", "count"
    ),
}


def count_phrase(kind: str, key: str, count: int) -> str:
    """One count in words: ``("push", "pushed", 2)`` -> "2 SKUs pushed"."""
    phrase = KIND_PHRASES.get((kind, key)) or PHRASES.get(key)
    if phrase is None:
        return f"{key.replace('_', ' ')}: {count}"
    return str(phrase % {"count": count})


def counts_sentence(kind: str, counts: Mapping[str, int]) -> str:
    """Every count of a run in words, in a reading order; "" for a run that counted nothing."""
    order = {key: index for index, key in enumerate(KEY_ORDER)}
    keys = sorted(counts, key=lambda key: (order.get(key, len(order)), key))
    separator = pgettext("between the counts of a run", ", ")
    return separator.join(count_phrase(kind, key, int(counts[key] or 0)) for key in keys)


# --- a run's log lines, read in the reader's language ---------------------------------

# The template of a run's last line: its status, its counts and its error, each read at
# display time (the status's label, the counts in words, the error as the platform gave it).
FINISHED_LINE = "run.finished"
FINISHED_WITH_COUNTS = _("%(status)s (%(counts)s)")
FINISHED_WITH_ERROR = _("%(status)s: %(error)s")
FINISHED_WITH_BOTH = _("%(status)s (%(counts)s): %(error)s")


def _finished_text(params: Mapping[str, Any]) -> str:
    from .models import SyncRun

    status = params.get("status", "")
    label = str(SyncRun.Status(status).label) if status in SyncRun.Status.values else status
    counts = counts_sentence(params.get("kind", ""), params.get("counts") or {})
    error = params.get("error", "")
    if counts and error:
        return str(FINISHED_WITH_BOTH % {"status": label, "counts": counts, "error": error})
    if counts:
        return str(FINISHED_WITH_COUNTS % {"status": label, "counts": counts})
    if error:
        return str(FINISHED_WITH_ERROR % {"status": label, "error": error})
    return label


def line_text(template: str, params: Any, message: str) -> str:
    """A log line in the active language: its template translated and filled with its
    values; the English text it was written as when it has no template or the
    translation does not fit its values."""
    if not template:
        return message
    try:
        if template == FINISHED_LINE:
            return _finished_text(params)
        text = gettext(template)
        if params:
            text = text % (tuple(params) if isinstance(params, list) else params)
        return text
    except (KeyError, TypeError, ValueError):
        return message
