"""django-q2 entry points of the ledger: each calls one service."""

from __future__ import annotations

from events.actors import Actor
from events.services import ledger_check_run

# Who the nightly schedule's checks are recorded as.
NIGHTLY = "nightly schedule"


def ledger_check(requested_by: str = NIGHTLY) -> str:
    """Check every snapshot against the sum of its events and store the result (nightly,
    and when staff press "check now" on the reconciliation page)."""
    check = ledger_check_run(actor=Actor.system(requested_by))
    return f"{check.status}: {check.drift_count} of {check.skus_checked} SKUs drift"
