"""The SQL of the ledger's hot path, kept apart from the rules in services.

Recording an event is the most frequent write of the system and the one
writers of the same SKU queue for, so it is a few hand-written statements
instead of ORM calls: on PostgreSQL one statement (data-modifying CTEs)
moves the snapshot under its row lock, inserts the event and marks the
outbox; elsewhere the same three steps run one after another in the
caller's transaction. Both leave exactly the same rows.
"""

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from typing import Any

from django.db import connection
from django.utils import timezone

from events.models import InventoryEvent, InventorySnapshot

# Coalescing: a row already waiting stays as it is (one row, however many
# events; a row in backoff keeps its next attempt time, the platform is
# failing); a row being pushed or failed becomes due again, a failed one with
# a fresh count of attempts. The pusher reads the snapshot when it pushes.
_OUTBOX_INSERT = """
INSERT INTO pending_push (store_id, sku_id, status, attempts, next_attempt_at, last_error,
                          requested_at, created_at, updated_at)
SELECT store_sku.store_id, store_sku.sku_id, 'pending', 0, %s, '', %s, %s, %s
FROM store_sku JOIN stores ON stores.store_id = store_sku.store_id
WHERE store_sku.sku_id = %s AND stores.status = 'active' {where}
ON CONFLICT (store_id, sku_id) DO UPDATE SET
    status = 'pending',
    requested_at = excluded.requested_at,
    updated_at = excluded.updated_at,
    attempts = CASE WHEN pending_push.status = 'failed' THEN 0 ELSE pending_push.attempts END,
    next_attempt_at = CASE
        WHEN pending_push.status = 'failed' OR pending_push.attempts = 0
        THEN excluded.next_attempt_at ELSE pending_push.next_attempt_at END
WHERE pending_push.status <> 'pending'
"""

_SNAPSHOT_UPDATE = (
    "UPDATE inventory_snapshots SET internal_available = internal_available + %s, "
    "last_event_id = %s, updated_at = %s WHERE sku_id = %s{guard} RETURNING internal_available"
)
_GUARD = " AND internal_available + %s >= 0"

_LOOKUP = (
    "SELECT s.allow_oversell, "
    "(SELECT e.event_id FROM inventory_events e WHERE e.token = %s), "
    "(SELECT 1 FROM stores st WHERE st.store_id = %s) "
    "FROM sku_master s WHERE s.sku_id = %s"
)


@contextmanager
def _cursor() -> Iterator[Any]:
    """A cursor for the hot path. On PostgreSQL it binds parameters on the
    server and its statements are prepared (``_execute``), so the server
    plans each once per connection instead of every time (Django binds on
    the client); errors still come out as Django's (IntegrityError ...)."""
    if connection.vendor != "postgresql":
        with connection.cursor() as cursor:
            yield cursor
        return
    import psycopg

    connection.ensure_connection()
    with connection.wrap_database_errors, psycopg.Cursor(connection.connection) as cursor:
        yield cursor


def _execute(cursor: Any, sql: str, params: list[Any]) -> None:
    if connection.vendor == "postgresql":
        cursor.execute(sql, params, prepare=True)
    else:
        cursor.execute(sql, params)


@dataclass(frozen=True)
class Lookup:
    allow_oversell: bool
    existing_event_id: Any
    store_exists: bool


def lookup(*, sku_id: str, token: str, store_id: str | None) -> Lookup | None:
    """One round trip: the SKU's oversell rule, the event already recorded
    under ``token`` if any, and whether ``store_id`` exists. None: no SKU."""
    with _cursor() as cursor:
        _execute(cursor, _LOOKUP, [token, store_id, sku_id])
        row = cursor.fetchone()
    if row is None:
        return None
    return Lookup(allow_oversell=bool(row[0]), existing_event_id=row[1], store_exists=bool(row[2]))


def _prep(model: type, name: str, value: Any) -> Any:
    return model._meta.get_field(name).get_db_prep_save(value, connection)


def outbox_mark(*, sku_id: str, store_id: str | None = None) -> None:
    """Make a push of ``sku_id`` due in each active store it is registered in
    (only ``store_id`` if given), in the caller's transaction."""
    now = _prep(InventoryEvent, "created_at", timezone.now())
    params: list[Any] = [now, now, now, now, sku_id]
    where = ""
    if store_id is not None:
        where = "AND store_sku.store_id = %s"
        params.append(store_id)
    with connection.cursor() as cursor:
        cursor.execute(_OUTBOX_INSERT.format(where=where), params)


def ensure_snapshot(sku_id: str) -> None:
    InventorySnapshot.objects.bulk_create(
        [InventorySnapshot(sku_id=sku_id, internal_available=0)], ignore_conflicts=True
    )


@cache
def _event_fields() -> list[Any]:
    """The event's fields other than the two the snapshot decides."""
    return [
        f
        for f in InventoryEvent._meta.concrete_fields
        if f.attname not in ("balance_after", "oversold")
    ]


@cache
def _statements(vendor: str, guard: bool) -> tuple[str, str]:
    """(snapshot update, event insert) for a vendor; on PostgreSQL the first
    is the whole write as one statement and the second is unused. Built from
    constants and the model's column names only, never from input."""
    fields = _event_fields()
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    snapshot_sql = _SNAPSHOT_UPDATE.format(guard=_GUARD if guard else "")
    if vendor != "postgresql":
        values = ", ".join(["%s"] * (len(fields) + 2))
        insert = f"INSERT INTO inventory_events ({columns}, balance_after, oversold) "
        return snapshot_sql, insert + f"VALUES ({values})"
    values = ", ".join(["%s"] * len(fields))
    outbox_sql = _OUTBOX_INSERT.format(where="AND %s <> 0 AND EXISTS (SELECT 1 FROM ev)")
    statement = (
        f"WITH snap AS ({snapshot_sql}), "  # noqa: S608 (column names from the model)
        f"ev AS (INSERT INTO inventory_events ({columns}, balance_after, oversold) "
        f"SELECT {values}, snap.internal_available, (%s AND snap.internal_available < 0) "
        f"FROM snap RETURNING balance_after, oversold), "
        f"push AS ({outbox_sql}) "
        "SELECT balance_after, oversold FROM ev"
    )
    return statement, ""


def apply(
    *,
    sku_id: str,
    amount: int,
    guard: bool,
    flag_oversell: bool,
    values: dict[str, Any],
) -> InventoryEvent | None:
    """Move the snapshot by ``amount`` under its row lock, insert the event
    with the balance it leaves, and mark the outbox when stock changed.

    ``guard``: refuse (write nothing, return None) if the balance would go
    below zero. ``flag_oversell``: mark the event oversold if the balance
    ends below zero. Also None when the SKU has no snapshot row yet.
    """
    event = InventoryEvent(event_id=uuid.uuid4(), sku_id=sku_id, quantity=amount, **values)
    event.created_at = timezone.now()
    fields = _event_fields()
    event_params = [f.get_db_prep_save(getattr(event, f.attname), connection) for f in fields]
    snapshot_params: list[Any] = [
        amount,
        _prep(InventorySnapshot, "last_event", event.event_id),
        _prep(InventorySnapshot, "updated_at", event.created_at),
        sku_id,
    ]
    if guard:
        snapshot_params.append(amount)
    first_sql, insert_sql = _statements(connection.vendor, guard)

    with _cursor() as cursor:
        if connection.vendor == "postgresql":
            now = _prep(InventoryEvent, "created_at", event.created_at)
            outbox_params = [now, now, now, now, sku_id, amount]
            _execute(
                cursor, first_sql, [*snapshot_params, *event_params, flag_oversell, *outbox_params]
            )
            row = cursor.fetchone()
            if row is None:
                return None
            event.balance_after, event.oversold = row
        else:
            cursor.execute(first_sql, snapshot_params)
            row = cursor.fetchone()
            if row is None:
                return None
            event.balance_after = row[0]
            event.oversold = flag_oversell and event.balance_after < 0
            cursor.execute(insert_sql, [*event_params, event.balance_after, event.oversold])
            if amount != 0:
                outbox_mark(sku_id=sku_id)
    event._state.adding = False
    event._state.db = connection.alias
    return event
