"""Stock file import: upload (nothing else written), preview, confirm, cancel.

Semantics (README, "CSV import"):
- metadata_only: names and store ids only; stock is never touched.
- reset_stock: a row's quantity becomes the SKU's stock (one IMPORT event of
  the difference). Zero handling says what 0 and negatives mean: `ignore`
  skips a 0 row; `set_zero` sets 0; `zero_negative` sets 0 and reads a
  negative as 0 instead of refusing the row. A blank quantity never changes stock.
- A SKU the file creates is registered in its row's store (with the store's item ids
  when the file has them), so that the store is told its stock.
- Confirming freezes what was applied (``AppliedUpload``) and keeps only the columns the
  import reads; ``uploads_purge`` empties the stored text after the retention period.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy
from django_q.tasks import async_task

from events.actors import Actor
from events.ledger import bulk_update_rows
from events.models import (
    AuditAction,
    EventSource,
    EventType,
    InventoryEvent,
    InventorySnapshot,
)
from events.services import audit_record, make_token, stock_set_many
from inventory_site.errors import InventoryError
from skus.models import Sku, SkuComponent, normalize_sku_id
from skus.services import set_define, set_parts
from skus.sets import compositions
from stores.models import Store
from sync.models import SyncRun
from sync.registrations import Registration, registrations_check, store_sku_register_many
from sync.runs import RunLog

from .models import AppliedUpload, UploadedFile
from .parsing import (
    FileRow,
    ImportFileError,
    ParsedFile,
    decode,
    parse,
    parse_components,
    used_columns_only,
)

QUANTITY_MAX = 99_999
RMS_ID_MAX_BYTES = 32
CONFIRM_WINDOW = dt.timedelta(hours=24)
# How long an upload's text is kept (settings.IMPORTS_ORIGINAL_RETENTION_DAYS).
RETENTION_DAYS_DEFAULT = 30

MSG_NOTHING_APPLIED = _("Nothing applied: %(error)s")
MSG_UNKNOWN_STORE = _("Unknown store: %(store)s.")
MSG_BAD_MODE = _("Unknown import mode: %(value)s.")
MSG_BAD_ZERO = _("Unknown zero handling: %(value)s.")
MSG_NOT_PENDING = _("This upload was already %(status)s: it cannot be confirmed again.")
MSG_EXPIRED = _("This upload is more than 24 hours old: upload the file again.")
MSG_BAD_TOKEN = _("This confirmation link is not valid for this upload.")
MSG_NOT_YOURS = _("Only %(operator)s, who uploaded this file, can confirm or cancel it.")
MSG_OTHER_STORE = _("This upload is for store %(store)s, not %(other)s.")
MSG_RUNNING = _("This import is being applied already: follow it on this page.")
PHASE_QUEUED = _("waiting for a worker")
PHASE_APPLYING = _("checking the file against the stock now and applying it")
MSG_HAS_ERRORS = ngettext_lazy(
    "%(count)d row has an error: fix the file, or tick “leave out the rows with errors”.",
    "%(count)d rows have errors: fix the file, or tick “leave out the rows with errors”.",
    "count",
)
MSG_REMOVED = ngettext_lazy(
    "The file was removed %(count)d day after it was uploaded: upload it again to see its rows.",
    "The file was removed %(count)d days after it was uploaded: upload it again to see its rows.",
    "count",
)
NOTICE_QUANTITIES_IGNORED = _(
    "The file has a quantity column, but this import changes no stock (mode “%(mode)s”). "
    "To set stock from the file, upload it again with the mode “%(reset)s”."
)
ROW_QUANTITY_NOT_INT = _("quantity %(value)r is not a whole number")
ROW_QUANTITY_NEGATIVE = _("quantity %(value)s is negative")
ROW_QUANTITY_TOO_BIG = _("quantity %(value)s is over 99,999")
ROW_DUPLICATE = _("SKU %(sku)s is also on line %(line)d")
ROW_RMS_ID_TOO_LONG = _("%(what)s %(value)s is over 32 bytes, too long for RMS")
ROW_UNKNOWN_STORE = _("unknown store %(store)s")
ROW_NO_SKU = _("no SKU id")
SKIP_PRODUCT = _("an RMS product or option row, not a SKU")
SKIP_ZERO = _("quantity 0 is ignored (zero handling)")
SKIP_BLANK = _("no quantity: stock unchanged")
ROW_COMPONENTS = _("components: %(error)s")
ROW_SET_UNKNOWN = _("components: unknown SKU %(sku)s (not in the catalogue nor in this file)")
ROW_SET_OF_SETS = _("components: %(sku)s is a set itself (sets of sets are not supported)")
ROW_SET_IS_COMPONENT = _("a component of the set %(set)s cannot be a set itself")
ROW_SET_HAS_EVENTS = _(
    "this SKU has stock events of its own and a set has none: create the set as a new SKU"
)
ROW_SET_QUANTITY = _(
    "a set has no stock of its own (it sells what its components allow): leave its quantity blank"
)
NOTE_NO_STORE_IDS = _(
    "registered in store %(store)s without the store's item ids: the store is sent its "
    "stock once they are added (SKU sync, or the registration in the admin)"
)


class ImportRefused(InventoryError):
    pass


class ImportHasErrors(ImportRefused):
    """The file has error rows and the person did not choose to leave them out; the
    preview that found them comes along (the page shows it again, with the form)."""

    def __init__(self, message: str, *, preview: Preview) -> None:
        super().__init__(message)
        self.preview = preview


class Action:
    CREATE = "create"
    UPDATE = "update"
    STOCK = "stock"
    NO_CHANGE = "no change"
    SKIPPED = "skipped"
    ERROR = "error"


ACTION_LABELS = {
    Action.CREATE: _("create"),
    Action.UPDATE: _("update"),
    Action.STOCK: _("stock change"),
    Action.NO_CHANGE: _("no change"),
    Action.SKIPPED: _("skipped"),
    Action.ERROR: _("error"),
}


@dataclass(slots=True)
class RowPlan:
    line: int
    raw_sku: str
    sku_id: str = ""
    action: str = Action.NO_CHANGE
    name_from: str | None = None
    name_to: str | None = None
    stock_from: int | None = None
    stock_to: int | None = None
    store_id: str = ""
    register: dict[str, str] | None = None  # the store's platform keys (manage_number …)
    message: str = ""
    # A set's components as the file gives them, and as they are (None: not a set row).
    components_to: dict[str, int] | None = None
    components_from: dict[str, int] | None = None

    @property
    def action_label(self) -> str:
        """The action in the reader's language (``action`` is the code the API gives)."""
        return str(ACTION_LABELS.get(self.action, self.action))


# The order of a row's values in ``AppliedUpload.rows``.
APPLIED_ROW_FIELDS = (
    "line",
    "raw_sku",
    "sku_id",
    "action",
    "stock_from",
    "stock_to",
    "name_from",
    "name_to",
    "store_id",
    "register",
    "message",
    "components_to",
    "components_from",
)


@dataclass
class Preview:
    """What confirming would do (``import_preview``), or what a confirm did, frozen
    (``applied_at`` set: ``selectors.import_applied``)."""

    upload: UploadedFile
    kind: str
    rows: list[RowPlan]
    totals: Counter = field(default_factory=Counter)
    # The file has quantities that this import's mode does not apply.
    quantities_ignored: bool = False
    applied_at: dt.datetime | None = None

    @property
    def errors(self) -> list[RowPlan]:
        return [row for row in self.rows if row.action == Action.ERROR]


def upload_create(
    *,
    filename: str,
    content: bytes,
    store_id: str,
    import_mode: str,
    zero_handling: str,
    actor: Actor,
) -> UploadedFile:
    """Keep the file as a pending upload; refuse, writing nothing, what cannot be read."""
    if import_mode not in UploadedFile.ImportMode.values:
        raise ImportRefused(str(MSG_BAD_MODE % {"value": import_mode}))
    if zero_handling not in UploadedFile.ZeroHandling.values:
        raise ImportRefused(str(MSG_BAD_ZERO % {"value": zero_handling}))
    store = Store.objects.filter(pk=store_id).first()
    if store is None:
        raise ImportRefused(str(MSG_UNKNOWN_STORE % {"store": store_id}))
    text = decode(content)
    # The whole file is read once now, so a file that cannot be read is refused here.
    parse(text, need_quantity=import_mode == UploadedFile.ImportMode.RESET_STOCK)
    return UploadedFile.objects.create(
        filename=(filename or "upload.csv")[:255],
        original_content=text,
        store=store,
        import_mode=import_mode,
        zero_handling=zero_handling,
        operator=actor.username,
    )


def _quantity(row: FileRow, zero: str) -> tuple[int | None, str, str]:
    """(target stock or None, skip reason, error); a negative target comes with its error."""
    raw = (row.quantity or "").strip().replace(",", "")
    if not raw:
        return None, str(SKIP_BLANK), ""
    try:
        value = int(raw)
    except ValueError:
        try:
            as_float = float(raw)
        except ValueError:
            return None, "", str(ROW_QUANTITY_NOT_INT % {"value": row.quantity})
        if not as_float.is_integer():
            return None, "", str(ROW_QUANTITY_NOT_INT % {"value": row.quantity})
        value = int(as_float)
    if value > QUANTITY_MAX:
        return None, "", str(ROW_QUANTITY_TOO_BIG % {"value": value})
    if value < 0:
        if zero == UploadedFile.ZeroHandling.ZERO_NEGATIVE:
            return 0, "", ""
        # Refused unless it is the stock already (an export of an oversold SKU comes
        # back unchanged): the caller decides once it knows the stock.
        return value, "", str(ROW_QUANTITY_NEGATIVE % {"value": value})
    if value == 0 and zero == UploadedFile.ZeroHandling.IGNORE:
        return None, str(SKIP_ZERO), ""
    return value, "", ""


def _lookup(model: Any, ids: list[str], *fields: str) -> dict[str, Any]:
    """{pk: (other fields)} for the given ids, in few queries (= ANY on PostgreSQL)."""
    meta = model._meta
    columns = ", ".join(meta.get_field(name).column for name in fields)
    found: dict[str, Any] = {}
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            for start in range(0, len(ids), 20_000):
                cursor.execute(
                    f"SELECT {columns} FROM {meta.db_table} WHERE {meta.pk.column} = ANY(%s)",  # noqa: S608 - names from the model
                    [ids[start : start + 20_000]],
                )
                found.update((row[0], row[1:]) for row in cursor.fetchall())
            return found
        for start in range(0, len(ids), 900):
            chunk = ids[start : start + 900]
            marks = ", ".join(["%s"] * len(chunk))
            cursor.execute(
                f"SELECT {columns} FROM {meta.db_table} WHERE {meta.pk.column} IN ({marks})",  # noqa: S608 - names from the model
                chunk,
            )
            found.update((row[0], row[1:]) for row in cursor.fetchall())
    return found


def retention_days() -> int:
    return int(getattr(settings, "IMPORTS_ORIGINAL_RETENTION_DAYS", RETENTION_DAYS_DEFAULT))


def _content(upload: UploadedFile) -> str:
    if not upload.original_content:
        raise ImportFileError(str(MSG_REMOVED % {"count": retention_days()}))
    return upload.original_content


def import_preview(upload: UploadedFile) -> Preview:
    """What confirming would do, row by row, against the stock as it is now."""
    reset = upload.import_mode == UploadedFile.ImportMode.RESET_STOCK
    parsed: ParsedFile = parse(_content(upload), need_quantity=reset)
    rows: list[RowPlan] = []
    seen: dict[str, int] = {}
    # Decided once the stock is known: a negative quantity is refused unless it is the
    # stock already; a 0 that zero handling ignores is "no change" when the stock is 0.
    negative: list[tuple[RowPlan, str]] = []
    zero_ignored: list[RowPlan] = []
    stores = set(Store.objects.values_list("store_id", flat=True))
    for row in parsed.rows:
        plan = RowPlan(line=row.line, raw_sku=row.sku, store_id=row.store or upload.store_id)
        rows.append(plan)
        if row.skip:
            plan.action, plan.message = Action.SKIPPED, str(SKIP_PRODUCT)
            continue
        try:
            plan.sku_id = normalize_sku_id(row.sku) if row.sku else ""
        except ValidationError as exc:
            plan.action, plan.message = Action.ERROR, " ".join(exc.messages)
            continue
        if not plan.sku_id:
            plan.action, plan.message = Action.ERROR, str(ROW_NO_SKU)
            continue
        if plan.store_id not in stores:
            plan.action = Action.ERROR
            plan.message = str(ROW_UNKNOWN_STORE % {"store": plan.store_id})
            continue
        if plan.sku_id in seen:
            plan.action = Action.ERROR
            plan.message = str(ROW_DUPLICATE % {"sku": row.sku, "line": seen[plan.sku_id]})
            continue
        seen[plan.sku_id] = row.line
        too_long = next(
            (
                (what, value)
                for what, value in (
                    ("SKU", row.sku),
                    ("manageNumber", row.manage_number),
                    ("variantId", row.variant_id),
                )
                if len(value.encode()) > RMS_ID_MAX_BYTES
            ),
            None,
        )
        if too_long:
            plan.action = Action.ERROR
            plan.message = str(ROW_RMS_ID_TOO_LONG % {"what": too_long[0], "value": too_long[1]})
            continue
        if reset:
            target, skip, error = _quantity(row, upload.zero_handling)
            if error and target is None:
                plan.action, plan.message = Action.ERROR, error
                continue
            if error:
                negative.append((plan, error))
            elif skip == str(SKIP_ZERO):
                zero_ignored.append(plan)
            plan.stock_to, plan.message = target, skip
        plan.name_to = row.name or None
        if row.manage_number and (row.variant_id or parsed.kind == "table"):
            plan.register = {
                "manage_number": row.manage_number.lower(),
                "variant_id": row.variant_id or row.sku,
                "merchant_sku_id": row.merchant_sku_id,
            }
    cells = {plan.line: row.components for plan, row in zip(rows, parsed.rows, strict=True)}
    _check_registrations([plan for plan in rows if plan.action == Action.NO_CHANGE])
    valid = [plan for plan in rows if plan.action == Action.NO_CHANGE]
    ids = [plan.sku_id for plan in valid]
    skus = _lookup(Sku, ids, "sku_id", "sku_name")
    stock = _lookup(InventorySnapshot, ids, "sku_id", "internal_available")
    for plan in zero_ignored:
        if plan.sku_id in skus and stock.get(plan.sku_id, (0,))[0] == 0:
            plan.message = ""
    for plan, error in negative:
        if plan.action == Action.NO_CHANGE and (
            plan.sku_id not in skus or stock.get(plan.sku_id, (0,))[0] != plan.stock_to
        ):
            plan.action, plan.message, plan.stock_to = Action.ERROR, error, None
    for plan in valid:
        if plan.action == Action.ERROR:
            continue
        if plan.sku_id not in skus:
            plan.action = Action.CREATE
            plan.stock_from = 0 if plan.stock_to is not None else None
            if not plan.register:
                note = str(NOTE_NO_STORE_IDS % {"store": plan.store_id})
                plan.message = f"{plan.message}; {note}" if plan.message else note
            continue
        (name,) = skus[plan.sku_id]
        if plan.name_to and plan.name_to != name:
            plan.name_from, plan.action = name, Action.UPDATE
        else:
            plan.name_to = None
        if plan.stock_to is not None:
            (current,) = stock.get(plan.sku_id, (0,))
            if current != plan.stock_to:
                plan.stock_from, plan.action = current, Action.STOCK
            else:
                plan.stock_to = None
        if plan.action == Action.NO_CHANGE and plan.message:
            plan.action = Action.SKIPPED
    _plan_sets([plan for plan in valid if plan.action != Action.ERROR], cells)
    totals = Counter(plan.action for plan in rows)
    totals["rows"] = len(rows)
    return Preview(
        upload=upload,
        kind=parsed.kind,
        rows=rows,
        totals=totals,
        quantities_ignored=parsed.has_quantity and not reset,
    )


def _set_error(plan: RowPlan, message: str) -> None:
    plan.action, plan.message = Action.ERROR, message
    plan.stock_to = plan.stock_from = plan.components_to = plan.components_from = None


def _plan_sets(rows: list[RowPlan], cells: dict[int, str]) -> None:
    """Rows that define a set (a components cell), and rows of SKUs that are sets: a set's
    components must be SKUs that exist or that the file creates, none of them a set, and a
    set has no stock of its own (its quantity stays blank). A few queries, whatever the
    number of rows."""
    recipes: dict[str, dict[str, int]] = {}
    for plan in rows:
        cell = cells.get(plan.line, "")
        if not cell.strip():
            continue
        try:
            recipes[plan.sku_id] = set_parts(plan.sku_id, parse_components(cell))
        except InventoryError as exc:
            _set_error(plan, str(ROW_COMPONENTS % {"error": exc.message}))
    if not recipes and not SkuComponent.objects.exists():
        return  # no set anywhere: nothing to check
    creating = {plan.sku_id for plan in rows if plan.action == Action.CREATE}
    involved = set(recipes) | {c for parts in recipes.values() for c in parts}
    involved |= {plan.sku_id for plan in rows}
    current = compositions(involved)  # by 1,000 ids a query
    used_in = dict(
        SkuComponent.objects.filter(component_id__in=list(recipes)).values_list(
            "component_id", "set_id"
        )
    )
    components = list({c for parts in recipes.values() for c in parts})
    known = set(Sku.objects.filter(pk__in=components).values_list("sku_id", flat=True))
    with_events = set(
        InventoryEvent.objects.filter(sku_id__in=list(recipes)).values_list("sku_id", flat=True)
    )
    # What will be a set once the file is applied.
    sets_after = {sku for sku in current if sku not in recipes} | {
        sku for sku, parts in recipes.items() if parts
    }
    file_components = {c: s for s, parts in recipes.items() for c in parts}
    for plan in rows:
        if plan.action == Action.ERROR:
            continue
        parts = recipes.get(plan.sku_id)
        if parts is not None:
            unknown = sorted(c for c in parts if c not in known and c not in creating)
            nested = sorted(c for c in parts if c in sets_after)
            if unknown:
                _set_error(plan, str(ROW_SET_UNKNOWN % {"sku": unknown[0]}))
                continue
            if nested:
                _set_error(plan, str(ROW_SET_OF_SETS % {"sku": nested[0]}))
                continue
            holder = used_in.get(plan.sku_id) or file_components.get(plan.sku_id)
            if parts and holder:
                _set_error(plan, str(ROW_SET_IS_COMPONENT % {"set": holder}))
                continue
            before = current.get(plan.sku_id, {})
            if parts and not before and plan.sku_id in with_events:
                _set_error(plan, str(ROW_SET_HAS_EVENTS))
                continue
            if parts != before:
                plan.components_from, plan.components_to = before, parts
                if plan.action in (Action.NO_CHANGE, Action.SKIPPED):
                    plan.action = Action.UPDATE
                    plan.message = ""
        if plan.sku_id in sets_after and plan.stock_to is not None:
            _set_error(plan, str(ROW_SET_QUANTITY))
        elif (
            plan.action == Action.SKIPPED
            and plan.message == str(SKIP_BLANK)
            and plan.sku_id in sets_after
        ):
            plan.action, plan.message = Action.NO_CHANGE, ""  # a set's quantity stays blank


def import_errors_check(preview: Preview, *, skip_errors: bool) -> None:
    """A file with error rows is applied only when the person chose to leave them out."""
    if preview.errors and not skip_errors:
        raise ImportHasErrors(str(MSG_HAS_ERRORS % {"count": len(preview.errors)}), preview=preview)


def _check(upload: UploadedFile, *, token: str, actor: Actor, store_id: str | None) -> None:
    if upload.status != UploadedFile.Status.PENDING:
        raise ImportRefused(str(MSG_NOT_PENDING % {"status": upload.get_status_display()}))
    if token != upload.token:
        raise ImportRefused(str(MSG_BAD_TOKEN))
    if upload.operator != actor.username:
        raise ImportRefused(str(MSG_NOT_YOURS % {"operator": upload.operator}))
    if store_id is not None and store_id != upload.store_id:
        raise ImportRefused(str(MSG_OTHER_STORE % {"store": upload.store_id, "other": store_id}))


def _lock_confirmable(
    file_id: Any, *, token: str, actor: Actor, store_id: str | None, now: dt.datetime | None
) -> UploadedFile:
    """The upload, locked, once it may be confirmed by this actor now (else refused)."""
    upload = UploadedFile.objects.select_for_update().filter(pk=file_id).first()
    if upload is None:
        raise ImportRefused(str(MSG_BAD_TOKEN))
    _check(upload, token=token, actor=actor, store_id=store_id)
    if (now or timezone.now()) - upload.created_at > CONFIRM_WINDOW:
        raise ImportRefused(str(MSG_EXPIRED))
    return upload


def import_confirm(
    *,
    file_id: Any,
    token: str,
    actor: Actor,
    store_id: str | None = None,
    skip_errors: bool = False,
    now: dt.datetime | None = None,
) -> Preview:
    """Apply an upload once, in one transaction, re-validated against the stock now; what
    it applied is kept as it was (``AppliedUpload``) and the file keeps only the columns
    the import reads."""
    with transaction.atomic(durable=True):
        upload = _lock_confirmable(file_id, token=token, actor=actor, store_id=store_id, now=now)
        preview = import_preview(upload)
        import_errors_check(preview, skip_errors=skip_errors)
        _apply(upload, preview, actor)
        preview.applied_at = timezone.now()
        _freeze(preview)
        upload.status = UploadedFile.Status.CONFIRMED
        upload.original_content = used_columns_only(upload.original_content)
        upload.save(update_fields=["status", "original_content"])
        audit_record(
            actor=actor,
            action=AuditAction.IMPORT_CONFIRM,
            details={
                "file_id": str(upload.file_id),
                "filename": upload.filename,
                "store_id": upload.store_id,
                "mode": upload.import_mode,
                "zero_handling": upload.zero_handling,
                "totals": dict(preview.totals),
            },
        )
    return preview


def import_run(upload: UploadedFile) -> SyncRun | None:
    """The newest confirm run of an upload (the page follows it)."""
    return (
        SyncRun.objects.filter(kind=SyncRun.Kind.IMPORT, details__file_id=str(upload.file_id))
        .order_by("-started_at")
        .first()
    )


def import_confirm_start(
    *,
    file_id: Any,
    token: str,
    actor: Actor,
    skip_errors: bool = False,
    refuse_errors_now: bool = False,
    now: dt.datetime | None = None,
) -> SyncRun:
    """Staff's confirm: the quick checks now (uploader, token, pending, 24 h, not already
    running) and a run row the preview page follows; ``import_confirm`` applies the file
    in a task after commit and checks everything again.

    ``refuse_errors_now``: a file with error rows, unless ``skip_errors``, is refused here
    (``ImportHasErrors``, with its preview) instead of by the task: the page keeps its
    form and says why, rather than starting a run that can only fail."""
    with transaction.atomic(durable=True):
        upload = _lock_confirmable(file_id, token=token, actor=actor, store_id=None, now=now)
        last = import_run(upload)
        if last is not None and last.status == SyncRun.Status.RUNNING:
            raise ImportRefused(str(MSG_RUNNING))
        if refuse_errors_now and not skip_errors:
            import_errors_check(import_preview(upload), skip_errors=False)
        run = SyncRun.objects.create(
            store=upload.store,
            kind=SyncRun.Kind.IMPORT,
            operator=actor.username,
            details={
                "file_id": str(upload.file_id),
                "skip_errors": skip_errors,
                "ip": actor.ip,
                "phase": str(PHASE_QUEUED),
            },
        )
        transaction.on_commit(lambda: async_task("imports.tasks.import_confirm_task", run.pk))
    return run


def import_confirm_run(*, run_id: int) -> SyncRun:
    """Apply the upload a confirm run names; the run ends with the totals, or with the
    reason nothing was applied (the upload then stays pending)."""
    log = RunLog(SyncRun.objects.get(pk=run_id))
    details = log.run.details
    upload = UploadedFile.objects.get(pk=details["file_id"])
    log.run.details = {**details, "phase": str(PHASE_APPLYING)}
    log.save()
    try:
        preview = import_confirm(
            file_id=upload.file_id,
            token=upload.token,
            actor=Actor(username=log.run.operator, ip=details.get("ip")),
            skip_errors=bool(details.get("skip_errors")),
        )
    except InventoryError as exc:
        log.say(MSG_NOTHING_APPLIED, error=exc.message)
        return log.finish(SyncRun.Status.FAILED, exc.message)
    except Exception as exc:
        # Nothing was applied (one transaction); the run and the upload say why, so the
        # page does not wait on a run that will never end.
        message = f"{type(exc).__name__}: {exc}"
        log.say(MSG_NOTHING_APPLIED, error=message)
        UploadedFile.objects.filter(pk=upload.pk, status=UploadedFile.Status.PENDING).update(
            status=UploadedFile.Status.FAILED, error=message[:2000]
        )
        log.finish(SyncRun.Status.FAILED, message)
        raise
    for name, value in preview.totals.items():
        log.add(str(name), value)
    log.run.details = {**log.run.details, "phase": ""}
    return log.finish(SyncRun.Status.SUCCEEDED)


def _freeze(preview: Preview) -> AppliedUpload:
    return AppliedUpload.objects.create(
        upload=preview.upload,
        applied_at=preview.applied_at,
        kind=preview.kind,
        totals=dict(preview.totals),
        rows=[[getattr(row, name) for name in APPLIED_ROW_FIELDS] for row in preview.rows],
    )


def _apply(upload: UploadedFile, preview: Preview, actor: Actor) -> None:
    # Rows left out: errors (when the user chose to skip them) and RMS product rows.
    rows = [r for r in preview.rows if r.action != Action.ERROR and r.sku_id]
    new = [r for r in rows if r.action == Action.CREATE]
    Sku.objects.bulk_create(
        [
            Sku(
                sku_id=r.sku_id,
                original_sku=r.raw_sku,
                sku_name=(r.name_to or r.raw_sku)[:200],
                metadata={"created_by": f"import {upload.filename}"},
            )
            for r in new
        ],
        batch_size=2000,
    )
    InventorySnapshot.objects.bulk_create(
        [InventorySnapshot(sku_id=r.sku_id, internal_available=0) for r in new], batch_size=2000
    )
    renamed = [(r.sku_id, r.name_to[:200]) for r in rows if r.name_to and r.action != Action.CREATE]
    bulk_update_rows(Sku, ["sku_name"], renamed)
    _register(rows, Actor.system(f"import {upload.filename}"))
    for r in rows:
        if r.components_to is not None:
            set_define(sku_id=r.sku_id, components=list(r.components_to.items()), actor=actor)
    if upload.import_mode == UploadedFile.ImportMode.RESET_STOCK:
        stock_set_many(
            targets=[
                (r.sku_id, r.stock_to, make_token("import", upload.file_id, r.line))
                for r in rows
                if r.stock_to is not None
            ],
            event_type=EventType.IMPORT,
            source=EventSource.IMPORT,
            operator=actor.username,
            reason=f"import {upload.filename}",
            metadata={"file_id": str(upload.file_id)},
        )


def _registrations(rows: list[RowPlan]) -> dict[str, list[tuple[RowPlan, Registration]]]:
    """Rows with the store's item ids, and the SKUs the file creates (without ids when it
    has none: a new SKU is in the store it was imported into)."""
    by_store: dict[str, list[tuple[RowPlan, Registration]]] = defaultdict(list)
    for plan in rows:
        if plan.register or plan.action == Action.CREATE:
            by_store[plan.store_id].append(
                (plan, Registration(sku_id=plan.sku_id, keys=plan.register or {}))
            )
    return by_store


def _check_registrations(rows: list[RowPlan]) -> None:
    """A row whose store ids the platform would refuse, or that another SKU of the store
    holds already, is an error row of the preview (not a failed confirm)."""
    for store_id, pairs in _registrations(rows).items():
        store = Store.objects.get(pk=store_id)
        refused = registrations_check(
            store, [entry for _, entry in pairs], skus_to_create=[plan.sku_id for plan, _ in pairs]
        )
        for index, message in refused.items():
            pairs[index][0].action, pairs[index][0].message = Action.ERROR, message


def _register(rows: list[RowPlan], actor: Actor) -> None:
    for store_id, pairs in _registrations(rows).items():
        store_sku_register_many(
            store_id=store_id, entries=[entry for _, entry in pairs], actor=actor
        )


def import_cancel(*, file_id: Any, actor: Actor) -> UploadedFile:
    """Nothing is applied; the file keeps only the columns the import reads."""
    with transaction.atomic(durable=True):
        upload = UploadedFile.objects.select_for_update().get(pk=file_id)
        _check(upload, token=upload.token, actor=actor, store_id=None)
        upload.status = UploadedFile.Status.CANCELLED
        upload.original_content = used_columns_only(upload.original_content)
        upload.save(update_fields=["status", "original_content"])
    return upload


def uploads_purge(*, now: dt.datetime | None = None) -> int:
    """Empty the stored text of every upload older than the retention period
    (``IMPORTS_ORIGINAL_RETENTION_DAYS``, never less than the confirm window); what a
    confirm applied stays (``AppliedUpload``). Running it again changes nothing."""
    keep = max(dt.timedelta(days=retention_days()), CONFIRM_WINDOW)
    cutoff = (now or timezone.now()) - keep
    return (
        UploadedFile.objects.filter(created_at__lt=cutoff)
        .exclude(original_content="")
        .update(original_content="")
    )


__all__ = [
    "ImportFileError",
    "ImportHasErrors",
    "ImportRefused",
    "import_cancel",
    "import_confirm",
    "import_confirm_run",
    "import_confirm_start",
    "import_errors_check",
    "import_preview",
    "upload_create",
    "uploads_purge",
]
