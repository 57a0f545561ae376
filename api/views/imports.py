"""The CSV import over the API: upload a file for a preview (nothing changes), read the
preview again, then confirm it (the apply runs as a task; follow it at /api/runs/{id}).
The same services and rules as the import pages (imports.views)."""

from __future__ import annotations

from typing import Any

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, generics, serializers, status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from events.actors import Actor
from imports.models import UploadedFile
from imports.parsing import MAX_BYTES, MSG_TOO_BIG, ImportFileError
from imports.selectors import import_result
from imports.services import (
    CONFIRM_WINDOW,
    Action,
    ImportHasErrors,
    Preview,
    RowPlan,
    import_confirm_start,
    import_preview,
    import_run,
    upload_create,
)
from sync.models import SyncRun

from ..base import ApiView

REQUIRED = {"POST": "imports.add_uploadedfile", "GET": "imports.view_uploadedfile"}
ACTIONS = [
    Action.CREATE,
    Action.UPDATE,
    Action.STOCK,
    Action.NO_CHANGE,
    Action.SKIPPED,
    Action.ERROR,
]


def run_url(run: SyncRun) -> str:
    """The run's status endpoint."""
    return f"/api/runs/{run.pk}"


# --- serializers ---------------------------------------------------------------------------


class ImportUploadSerializer(serializers.Serializer):
    file = serializers.FileField(
        help_text="The stock file: CSV or tab separated, UTF-8 or Shift_JIS, at most 20 MB."
    )
    store_id = serializers.CharField(
        max_length=50, help_text="The store the rows are for (a row's own store_id wins)."
    )
    import_mode = serializers.ChoiceField(
        choices=UploadedFile.ImportMode.choices,
        help_text="`metadata_only`: names and store ids only; `reset_stock`: set stock too.",
    )
    zero_handling = serializers.ChoiceField(
        choices=UploadedFile.ZeroHandling.choices,
        help_text="What a quantity of 0 (and a negative one) means when setting stock.",
    )

    def validate_file(self, value: Any) -> Any:
        # As the upload page's form: a file too big is not read at all.
        if value.size > MAX_BYTES:
            raise serializers.ValidationError(str(MSG_TOO_BIG))
        return value


class ImportRowSerializer(serializers.Serializer):
    line = serializers.IntegerField(help_text="The row's line in the file (the header is 1).")
    sku = serializers.CharField(help_text="The SKU as written in the file.")
    sku_id = serializers.CharField(help_text="The SKU id it reads as (blank when unreadable).")
    store_id = serializers.CharField()
    action = serializers.ChoiceField(choices=[(a, a) for a in ACTIONS])
    stock_from = serializers.IntegerField(
        allow_null=True, help_text="The stock now, when the row changes it (0 for a new SKU)."
    )
    stock_to = serializers.IntegerField(
        allow_null=True, help_text="The stock confirming sets (null: unchanged)."
    )
    name_from = serializers.CharField(allow_null=True)
    name_to = serializers.CharField(allow_null=True)
    register = serializers.DictField(
        child=serializers.CharField(),
        allow_null=True,
        help_text="The store's platform keys the row registers (manage_number …).",
    )
    message = serializers.CharField(help_text="Why a row is an error or skipped.")


# "no change" is an action (with its space): the fields are named by the actions.
ImportTotalsSerializer = type(
    "ImportTotalsSerializer",
    (serializers.Serializer,),
    {
        **{action: serializers.IntegerField() for action in ACTIONS},
        "rows": serializers.IntegerField(help_text="Rows read from the file."),
        "__module__": __name__,
        "__doc__": "Rows per action.",
    },
)


class ImportRunSerializer(serializers.Serializer):
    run_id = serializers.IntegerField()
    status = serializers.ChoiceField(choices=SyncRun.Status.choices)
    url = serializers.CharField(help_text="The run's status endpoint.")


class ImportPreviewSerializer(serializers.Serializer):
    file_id = serializers.UUIDField()
    token = serializers.CharField(
        allow_null=True,
        help_text="The confirm token: only for the user who uploaded the file (else null).",
    )
    filename = serializers.CharField()
    store_id = serializers.CharField()
    import_mode = serializers.ChoiceField(choices=UploadedFile.ImportMode.choices)
    zero_handling = serializers.ChoiceField(choices=UploadedFile.ZeroHandling.choices)
    kind = serializers.ChoiceField(
        choices=[("table", "table"), ("rakuten", "rakuten")],
        help_text="`rakuten`: RMS's normal-item.csv; `table`: any other header.",
    )
    status = serializers.ChoiceField(choices=UploadedFile.Status.choices)
    operator = serializers.CharField(help_text="Who uploaded it: the only one who may confirm.")
    created_at = serializers.DateTimeField()
    expires_at = serializers.DateTimeField(help_text="It cannot be confirmed after this time.")
    totals = ImportTotalsSerializer()
    error_count = serializers.IntegerField()
    rows = ImportRowSerializer(many=True, help_text="Every row, those with errors first.")
    run = ImportRunSerializer(
        allow_null=True, help_text="The latest confirm of this upload (null: none yet)."
    )


class ImportConfirmSerializer(serializers.Serializer):
    file_id = serializers.UUIDField()
    token = serializers.CharField(max_length=200, help_text="The preview's `token`.")
    skip_errors = serializers.BooleanField(
        default=False,
        help_text="Leave out the rows with errors and apply the rest (else such a file fails).",
    )


# --- views ---------------------------------------------------------------------------------


def _row(plan: RowPlan) -> dict[str, Any]:
    # Plain dicts shaped as ImportRowSerializer (a test checks the keys): a 20 MB file
    # holds many thousands of rows, too many to pass through a serializer each.
    return {
        "line": plan.line,
        "sku": plan.raw_sku,
        "sku_id": plan.sku_id,
        "store_id": plan.store_id,
        "action": plan.action,
        "stock_from": plan.stock_from,
        "stock_to": plan.stock_to,
        "name_from": plan.name_from,
        "name_to": plan.name_to,
        "register": plan.register,
        "message": plan.message,
    }


def _run(run: SyncRun | None) -> dict[str, Any] | None:
    if run is None:
        return None
    return {"run_id": run.pk, "status": run.status, "url": run_url(run)}


def _preview(result: Preview, *, request: Request, run: SyncRun | None) -> dict[str, Any]:
    """The preview as ImportPreviewSerializer shows it: rows ordered as the page does."""
    upload = result.upload
    mine = upload.operator == request.user.get_username()
    rows = sorted(result.rows, key=lambda r: (r.action != Action.ERROR, r.line))
    totals = {action: result.totals.get(action, 0) for action in ACTIONS}
    totals["rows"] = result.totals.get("rows", len(result.rows))
    return {
        "file_id": upload.file_id,
        "token": upload.token if mine else None,
        "filename": upload.filename,
        "store_id": upload.store_id,
        "import_mode": upload.import_mode,
        "zero_handling": upload.zero_handling,
        "kind": result.kind,
        "status": upload.status,
        "operator": upload.operator,
        "created_at": upload.created_at,
        "expires_at": upload.created_at + CONFIRM_WINDOW,
        "totals": totals,
        "error_count": len(result.errors),
        "rows": [_row(plan) for plan in rows],
        "run": _run(run),
    }


class ImportPreview(ApiView, generics.GenericAPIView):
    """Upload a stock file (multipart) and get what confirming it would do, row by row.
    Nothing changes until it is confirmed (POST /api/import/confirm with the `token`),
    by the same user, within 24 hours. A file that cannot be read is refused (400) and
    not kept."""

    required = REQUIRED
    serializer_class = ImportUploadSerializer
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(request=ImportUploadSerializer, responses={201: ImportPreviewSerializer})
    def post(self, request: Request) -> Response:
        data = ImportUploadSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        try:
            upload = upload_create(
                filename=values["file"].name,
                content=values["file"].read(),
                store_id=values["store_id"],
                import_mode=values["import_mode"],
                zero_handling=values["zero_handling"],
                actor=Actor.from_request(request),
            )
        except ImportFileError as exc:
            raise exceptions.ValidationError({"file": [exc.message]}, code="invalid_file") from exc
        result = import_preview(upload)
        return Response(_preview(result, request=request, run=None), status=status.HTTP_201_CREATED)


class ImportDetail(ApiView, generics.GenericAPIView):
    """An upload's preview again, with its latest confirm run: once confirmed, what the
    confirm applied (frozen); before, against the stock now. The `token` only for the user
    who uploaded it. 404 once the file was removed after the retention period."""

    required = REQUIRED
    serializer_class = ImportPreviewSerializer
    pagination_class = None

    @extend_schema(responses={200: ImportPreviewSerializer})
    def get(self, request: Request, file_id: Any) -> Response:
        upload = get_object_or_404(UploadedFile.objects.select_related("store"), pk=file_id)
        try:
            result = import_result(upload)
        except ImportFileError as exc:  # its text was removed after the retention period
            raise exceptions.NotFound(exc.message, code="removed") from exc
        return Response(_preview(result, request=request, run=import_run(upload)))


class ImportConfirm(ApiView, generics.GenericAPIView):
    """Confirm an upload: its uploader, with the preview's `token`, once, within 24 hours.
    The file is applied by a task, checked again against the stock then: follow the run at
    `url`. A file with error rows is refused (400, nothing starts) unless `skip_errors`
    leaves them out."""

    required = REQUIRED
    serializer_class = ImportConfirmSerializer

    @extend_schema(request=ImportConfirmSerializer, responses={202: ImportRunSerializer})
    def post(self, request: Request) -> Response:
        data = ImportConfirmSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        try:
            run = import_confirm_start(
                file_id=values["file_id"],
                token=values["token"],
                actor=Actor.from_request(request),
                skip_errors=values["skip_errors"],
                refuse_errors_now=True,
            )
        except ImportHasErrors as exc:
            raise exceptions.ValidationError(
                {"skip_errors": [exc.message]}, code="has_errors"
            ) from exc
        run.refresh_from_db(fields=["status"])  # the task may have run already (sync)
        return Response(_run(run), status=status.HTTP_202_ACCEPTED)
