"""The SQL of the ledger's hot path, kept apart from the rules in services.

Recording an event is the most frequent write of the system and the one
writers of the same SKU queue for, so it is a few hand-written statements
instead of ORM calls: on PostgreSQL one prepared statement (data-modifying
CTEs) moves the snapshot under its row lock, inserts the event and marks the
outbox, in autocommit when the caller has no transaction (the statement is
one, and the only round trip); elsewhere the same three steps run one after
another in a transaction. Both leave exactly the same rows.
"""

import uuid
from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass
from functools import cache
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connection, connections, transaction
from django.utils import timezone

from events.models import InventoryEvent, InventorySnapshot

# Coalescing: a row already waiting stays as it is (one row, however many
# events; a row in backoff keeps its next attempt time, the platform is
# failing); a row being pushed or failed becomes due again, a failed one with
# a fresh count of attempts; a row only waiting to read back an earlier write
# becomes due now. The pusher reads the snapshot when it pushes.
OUTBOX_UPSERT = """
INSERT INTO pending_push (store_id, sku_id, status, attempts, next_attempt_at, last_error,
                          requested_at, created_at, updated_at)
SELECT store_sku.store_id, store_sku.sku_id, 'pending', 0, %s, '', %s, %s, %s
FROM store_sku JOIN stores ON stores.store_id = store_sku.store_id
WHERE {skus} AND stores.status = 'active' {where}
ON CONFLICT (store_id, sku_id) DO UPDATE SET
    status = 'pending',
    requested_at = excluded.requested_at,
    updated_at = excluded.updated_at,
    attempts = CASE WHEN pending_push.status = 'failed' THEN 0 ELSE pending_push.attempts END,
    next_attempt_at = CASE
        WHEN pending_push.status = 'failed' OR pending_push.attempts = 0
        THEN excluded.next_attempt_at ELSE pending_push.next_attempt_at END
WHERE pending_push.status <> 'pending'
   -- A row waiting only to read back an earlier write (no failure behind it) is due now.
   OR (pending_push.verify_after IS NOT NULL AND pending_push.attempts = 0
       AND pending_push.next_attempt_at > excluded.next_attempt_at)
"""

# Which registrations a change of one SKU makes due: the SKU's own, and those of every set
# (bundle) it is a component of (a set's stock is what its components allow). On
# PostgreSQL the ids are gathered first (an InitPlan) and the registrations found by index.
_ONE_SKU = {
    "postgresql": "store_sku.sku_id = ANY(ARRAY(SELECT %s::varchar UNION ALL "
    "SELECT c.set_id FROM sku_components c WHERE c.component_id = %s))",
    "other": "store_sku.sku_id IN (SELECT %s UNION ALL "
    "SELECT c.set_id FROM sku_components c WHERE c.component_id = %s)",
}
_MANY_SKUS_PG = (
    "store_sku.sku_id = ANY(ARRAY(SELECT unnest(%s::varchar[]) UNION "
    "SELECT c.set_id FROM sku_components c WHERE c.component_id = ANY(%s::varchar[])))"
)


def _outbox_sql(target: str, where: str = "") -> str:
    return OUTBOX_UPSERT.format(skus=target, where=where)


def outbox_upsert_one_sql(vendor: str = "postgresql") -> str:
    """The outbox statement for one SKU (parameters: the time four times, the SKU twice),
    for a caller sending it without Django (``bench_ledger``'s raw baseline)."""
    return _outbox_sql(_ONE_SKU["postgresql" if vendor == "postgresql" else "other"])


def _vendor_key() -> str:
    return "postgresql" if connection.vendor == "postgresql" else "other"


_SNAPSHOT_UPDATE = (
    "UPDATE inventory_snapshots SET internal_available = internal_available + %s, "
    "last_event_id = %s, updated_at = %s WHERE sku_id = %s{guard} RETURNING internal_available"
)
_GUARD = " AND internal_available + %s >= 0"

_LOOKUP = (
    "SELECT s.allow_oversell, "
    "(SELECT e.event_id FROM inventory_events e WHERE e.token = %s), "
    "(SELECT 1 FROM stores st WHERE st.store_id = %s), "
    "(SELECT 1 FROM sku_components c WHERE c.set_id = s.sku_id LIMIT 1) "
    "FROM sku_master s WHERE s.sku_id = %s"
)


# Django opens psycopg connections with preparing off (prepare_threshold None), and
# psycopg then ignores prepare=True as well: the ledger's statements were parsed and
# planned on every call. With a threshold no query reaches, exactly the statements
# that ask (prepare=True, ours) are prepared; every other query runs as before.
_PREPARE_ONLY_WHEN_ASKED = 2**62


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

    with connection.wrap_database_errors, psycopg.Cursor(_preparing(connection)) as cursor:
        yield cursor


def _preparing(db: Any) -> Any:
    """The psycopg connection of ``db``, preparing the statements that ask for it."""
    db.ensure_connection()
    raw = db.connection
    if raw.prepare_threshold is None:
        raw.prepare_threshold = _PREPARE_ONLY_WHEN_ASKED
    return raw


def write_transaction() -> AbstractContextManager[Any]:
    """The transaction ``apply`` runs in: the caller's if there is one (no
    savepoint), else one of its own. On PostgreSQL in autocommit that needs
    nothing: the write is one statement, a transaction by itself, so no BEGIN
    and COMMIT round trips, and the server releases the snapshot's row lock as
    the statement ends, not a round trip later (writers of a SKU queue for it)."""
    db = connections[DEFAULT_DB_ALIAS]
    if db.vendor == "postgresql" and not db.in_atomic_block and db.get_autocommit():
        return nullcontext()
    return transaction.atomic(savepoint=False)


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
    is_set: bool = False


def lookup(*, sku_id: str, token: str, store_id: str | None) -> Lookup | None:
    """One round trip: the SKU's oversell rule, the event already recorded
    under ``token`` if any, and whether ``store_id`` exists. None: no SKU."""
    with _cursor() as cursor:
        _execute(cursor, _LOOKUP, [token, store_id, sku_id])
        row = cursor.fetchone()
    if row is None:
        return None
    return Lookup(
        allow_oversell=bool(row[0]),
        existing_event_id=row[1],
        store_exists=bool(row[2]),
        is_set=bool(row[3]),
    )


def _prep(model: type, name: str, value: Any) -> Any:
    return model._meta.get_field(name).get_db_prep_save(value, connection)


def outbox_mark(*, sku_id: str, store_id: str | None = None) -> None:
    """Make a push of ``sku_id`` due in each active store it is registered in
    (only ``store_id`` if given), in the caller's transaction."""
    now = _prep(InventoryEvent, "created_at", timezone.now())
    params: list[Any] = [now, now, now, now, sku_id, sku_id]
    where = ""
    if store_id is not None:
        where = "AND store_sku.store_id = %s"
        params.append(store_id)
    with connection.cursor() as cursor:
        cursor.execute(_outbox_sql(_ONE_SKU[_vendor_key()], where), params)


_PG_TYPES = {
    "CharField": "text",
    "LowercaseCharField": "text",
    "TextField": "text",
    "IntegerField": "integer",
    "PositiveIntegerField": "integer",
    "BooleanField": "boolean",
    "DateTimeField": "timestamp with time zone",
    "UUIDField": "uuid",
}


def _pg_type(field: Any) -> str:
    while field.is_relation:
        field = field.target_field
    return _PG_TYPES[field.get_internal_type()]


def bulk_update_rows(model: Any, fields: list[str], rows: list[tuple[Any, ...]]) -> None:
    """UPDATE many rows at once: rows are (pk, value per field).

    Django's bulk_update builds a CASE per field in Python, which dominates a
    100,000-row import. On PostgreSQL this joins one array per column
    (`unnest`), 10,000 rows a statement; elsewhere a VALUES list, 500 a statement."""
    meta = model._meta
    model_fields = [meta.get_field(name) for name in fields]
    every = [meta.pk, *model_fields]
    prepared = [
        [field.get_db_prep_save(value, connection) for field, value in zip(every, row, strict=True)]
        for row in rows
    ]
    table, key = meta.db_table, meta.pk.column
    sets = ", ".join(f"{field.column} = v.c{i}" for i, field in enumerate(model_fields, start=1))
    names = ", ".join(f"c{i}" for i in range(len(every)))
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            arrays = ", ".join(f"%s::{_pg_type(field)}[]" for field in every)
            sql = (
                f"UPDATE {table} SET {sets} FROM unnest({arrays}) AS v({names}) "  # noqa: S608 - names from the model
                f"WHERE {table}.{key} = v.c0"
            )
            for start in range(0, len(prepared), 10_000):
                chunk = prepared[start : start + 10_000]
                cursor.execute(sql, [list(column) for column in zip(*chunk, strict=True)])
            return
        width = len(every)
        for start in range(0, len(prepared), 500):
            chunk = prepared[start : start + 500]
            values = ", ".join(["(" + ", ".join(["%s"] * width) + ")"] * len(chunk))
            cursor.execute(
                f"WITH v({names}) AS (VALUES {values}) "  # noqa: S608 - names from the model
                f"UPDATE {table} SET {sets} FROM v WHERE {table}.{key} = v.c0",
                [value for row in chunk for value in row],
            )


def events_insert(events: list[InventoryEvent]) -> None:
    """Insert many events: COPY on PostgreSQL, bulk_create elsewhere."""
    rows_insert(InventoryEvent, events)


def rows_insert(model: Any, instances: Iterable[Any]) -> None:
    """Insert many new rows as they are (no save(), no signals, every value set by the
    caller): COPY on PostgreSQL, bulk_create elsewhere. Auto primary keys are left to
    the database."""
    if connection.vendor != "postgresql":
        model.objects.bulk_create(instances, batch_size=2000)
        return
    from psycopg.types.json import Jsonb

    fields = [
        field
        for field in model._meta.concrete_fields
        if not (field.primary_key and field.get_internal_type().endswith("AutoField"))
    ]
    columns = ", ".join(connection.ops.quote_name(field.column) for field in fields)
    names = [field.attname for field in fields]
    json_fields = {field.attname for field in fields if field.get_internal_type() == "JSONField"}
    with (
        connection.cursor() as cursor,
        cursor.cursor.copy(f"COPY {model._meta.db_table} ({columns}) FROM STDIN") as copy,
    ):
        for instance in instances:
            copy.write_row(
                [
                    Jsonb(getattr(instance, name))
                    if name in json_fields
                    else getattr(instance, name)
                    for name in names
                ]
            )


def outbox_mark_many(sku_ids: list[str]) -> None:
    """Make a push due of each SKU in every active store it is registered in."""
    now = _prep(InventoryEvent, "created_at", timezone.now())
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            for start in range(0, len(sku_ids), 10_000):
                chunk = sku_ids[start : start + 10_000]
                cursor.execute(_outbox_sql(_MANY_SKUS_PG), [now, now, now, now, chunk, chunk])
            return
        for start in range(0, len(sku_ids), 400):
            chunk = sku_ids[start : start + 400]
            marks = ", ".join(["%s"] * len(chunk))
            # Only placeholders are joined in, never a value.
            target = (
                f"store_sku.sku_id IN ({marks}) OR store_sku.sku_id IN (SELECT c.set_id "  # noqa: S608
                f"FROM sku_components c WHERE c.component_id IN ({marks}))"
            )
            cursor.execute(_outbox_sql(f"({target})"), [now, now, now, now, *chunk, *chunk])


def outbox_mark_store(*, store_id: str) -> None:
    """Make a push due of every SKU registered in an active store, in one statement."""
    now = _prep(InventoryEvent, "created_at", timezone.now())
    with connection.cursor() as cursor:
        cursor.execute(_outbox_sql("store_sku.store_id = %s"), [now, now, now, now, store_id])


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


_PG_WRITE = """
WITH sku AS (
    SELECT s.allow_oversell FROM sku_master s
    WHERE s.sku_id = %s
      AND NOT EXISTS (SELECT 1 FROM inventory_events e WHERE e.token = %s)
      AND NOT EXISTS (SELECT 1 FROM sku_components c WHERE c.set_id = s.sku_id)
      AND (%s::varchar IS NULL OR EXISTS (SELECT 1 FROM stores st WHERE st.store_id = %s::varchar))
), snap AS (
    UPDATE inventory_snapshots
    SET internal_available = internal_available + %s, last_event_id = %s,
        updated_at = clock_timestamp()
    FROM sku
    WHERE inventory_snapshots.sku_id = %s
      AND (%s OR sku.allow_oversell OR inventory_snapshots.internal_available + %s >= 0)
    RETURNING inventory_snapshots.internal_available, sku.allow_oversell,
              inventory_snapshots.updated_at AS locked_at
), ev AS (
    INSERT INTO inventory_events ({columns}, balance_after, oversold)
    SELECT {values}, snap.internal_available,
           (%s AND NOT snap.allow_oversell AND snap.internal_available < 0)
    FROM snap RETURNING balance_after, oversold, created_at
), push AS ({outbox})
SELECT balance_after, oversold, created_at FROM ev
"""


@cache
def _statements(vendor: str, guard: bool) -> tuple[str, str]:
    """The write for a vendor, built from constants and the model's column
    names only, never from input. PostgreSQL: the whole write as one
    statement (the second string is unused). Others: the snapshot update and
    the event insert, run one after another."""
    fields = _event_fields()
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    if vendor == "postgresql":
        outbox = _outbox_sql(
            _ONE_SKU["postgresql"], where="AND %s <> 0 AND EXISTS (SELECT 1 FROM ev)"
        )
        # The event's time is taken once the snapshot's row lock is held (clock_timestamp
        # in the UPDATE), so a SKU's timeline in time order is the order its balances
        # chain in, however many writers queued for the lock.
        values = ", ".join("snap.locked_at" if f.attname == "created_at" else "%s" for f in fields)
        return _PG_WRITE.format(columns=columns, values=values, outbox=outbox), ""
    snapshot_sql = _SNAPSHOT_UPDATE.format(guard=_GUARD if guard else "")
    values = ", ".join(["%s"] * (len(fields) + 2))
    insert = f"INSERT INTO inventory_events ({columns}, balance_after, oversold) "
    return snapshot_sql, insert + f"VALUES ({values})"


@cache
def _pg_bound_columns() -> tuple[tuple[str, Any, bool], ...]:
    """The event columns the PostgreSQL statement binds, in its order: (attname,
    field, whether a str or None goes to the database as it is). The time is the
    statement's own (``snap.locked_at``)."""
    bound = []
    for field in _event_fields():
        if field.attname == "created_at":
            continue
        target = field.target_field if field.is_relation else field
        plain_text = target.get_internal_type() in ("CharField", "TextField")
        bound.append((field.attname, field, plain_text))
    return tuple(bound)


@cache
def _event_attnames() -> tuple[str, ...]:
    return tuple(field.attname for field in InventoryEvent._meta.concrete_fields)


def apply(
    *,
    sku_id: str,
    amount: int,
    is_order: bool,
    values: dict[str, Any],
) -> InventoryEvent | None:
    """Move the snapshot by ``amount`` under its row lock, insert the event
    with the balance it leaves, and mark the outbox when stock changed.

    Unless the SKU allows oversell, an order that leaves the balance below
    zero is flagged ``oversold`` and any other decrease that would is
    refused. Returns None, having written nothing, when the write did not
    happen: refused, unknown SKU or store, token already recorded, or no
    snapshot row yet (the caller tells which with ``lookup``).
    """
    db = connections[DEFAULT_DB_ALIAS]
    if db.vendor == "postgresql":
        return _apply_one_statement(
            db, sku_id=sku_id, amount=amount, is_order=is_order, values=values
        )
    event = InventoryEvent(event_id=uuid.uuid4(), sku_id=sku_id, quantity=amount, **values)
    event.created_at = timezone.now()
    fields = _event_fields()
    event_params = [f.get_db_prep_save(getattr(event, f.attname), connection) for f in fields]
    last_event = _prep(InventorySnapshot, "last_event", event.event_id)
    now = _prep(InventoryEvent, "created_at", event.created_at)
    refusable = amount < 0 and not is_order
    found = lookup(sku_id=sku_id, token=event.token, store_id=event.store_id)
    if found is None or found.existing_event_id is not None or found.is_set:
        return None
    if event.store_id is not None and not found.store_exists:
        return None
    guard = refusable and not found.allow_oversell
    snapshot_sql, insert_sql = _statements(connection.vendor, guard)
    with connection.cursor() as cursor:
        cursor.execute(snapshot_sql, [amount, last_event, now, sku_id, *([amount] * guard)])
        row = cursor.fetchone()
        if row is None:
            return None
        event.balance_after = row[0]
        event.oversold = is_order and amount < 0 and not found.allow_oversell and row[0] < 0
        cursor.execute(insert_sql, [*event_params, event.balance_after, event.oversold])
    if amount != 0:
        outbox_mark(sku_id=sku_id)
    event._state.adding = False
    event._state.db = connection.alias
    return event


def _apply_one_statement(
    db: Any, *, sku_id: str, amount: int, is_order: bool, values: dict[str, Any]
) -> InventoryEvent | None:
    """``apply`` on PostgreSQL: one prepared statement, one round trip.

    The most frequent write of the system, so it spends as little as it can in
    Python: ``db`` is looked up once (each use of Django's ``connection`` proxy
    looks it up again); text values, nearly every value, go to the database as
    they are (what their fields' ``get_db_prep_save`` would return), the others
    through it; and the returned event is built positionally, once, from what
    the database answered."""
    import psycopg

    row = {"event_id": uuid.uuid4(), "sku_id": sku_id, "quantity": amount, **values}
    now = timezone.now()
    store_id = row["store_id"]
    params = [
        *(sku_id, row["token"], store_id, store_id),
        *(amount, row["event_id"], sku_id, amount >= 0 or is_order, amount),
    ]
    for name, field, plain_text in _pg_bound_columns():
        value = row[name]
        if not (plain_text and (value is None or isinstance(value, str))):
            value = field.get_db_prep_save(value, db)
        params.append(value)
    params += (is_order and amount < 0, now, now, now, now, sku_id, sku_id, amount)

    with db.wrap_database_errors, psycopg.Cursor(_preparing(db)) as cursor:
        cursor.execute(_statements("postgresql", False)[0], params, prepare=True)
        written = cursor.fetchone()
    if written is None:
        return None
    row["balance_after"], row["oversold"], row["created_at"] = written
    event = InventoryEvent(*[row[name] for name in _event_attnames()])
    event._state.adding = False
    event._state.db = db.alias
    return event


def pg_write_statement() -> tuple[str, tuple[str, ...]]:
    """``apply``'s PostgreSQL statement and the event columns it binds, for a
    caller sending it without Django (``bench_ledger``'s bare contender).

    Its parameters, in order: sku_id, token, store_id, store_id; amount,
    event_id, sku_id, whether the change may take the stock below zero (an
    order, or not a decrease), amount; the event columns' values; whether it is
    an order taking stock; the outbox's time four times, sku_id twice, amount."""
    return _statements("postgresql", False)[0], tuple(name for name, *_ in _pg_bound_columns())
