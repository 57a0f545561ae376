"""Upload, preview, confirm and cancel a stock file; the template and the export."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.contrib.auth.decorators import permission_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from events.actors import Actor
from inventory_site.errors import InventoryError

from .forms import ConfirmForm, ExportForm, UploadForm
from .models import UploadedFile
from .parsing import ImportFileError
from .resources import UTF8, encoded, export_lines, template_csv
from .selectors import import_result, uploads_recent
from .services import (
    NOTICE_QUANTITIES_IGNORED,
    Action,
    ImportHasErrors,
    Preview,
    import_cancel,
    import_confirm_start,
    import_run,
    upload_create,
)

IMPORT_PERMISSION = "imports.add_uploadedfile"
PREVIEW_PAGE = 500


def _admin_context(request: HttpRequest, title: str) -> dict:
    from django.contrib import admin

    return {**admin.site.each_context(request), "title": title}


@staff_member_required
@permission_required(IMPORT_PERMISSION, raise_exception=True)
def upload(request: HttpRequest) -> HttpResponse:
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            created = upload_create(
                filename=form.cleaned_data["file"].name,
                content=form.cleaned_data["file"].read(),
                store_id=form.cleaned_data["store"].store_id,
                import_mode=form.cleaned_data["import_mode"],
                zero_handling=form.cleaned_data["zero_handling"],
                actor=Actor.from_request(request),
            )
        except InventoryError as exc:
            form.add_error("file", exc.message)
        else:
            return redirect("imports:preview", file_id=created.file_id)
    context = _admin_context(request, _("Import stock"))
    context.update(form=form, recent=uploads_recent())
    return render(request, "imports/upload.html", context)


def _notice(result: Preview) -> str:
    """Said plainly when the file has quantities and this import's mode ignores them."""
    if not result.quantities_ignored:
        return ""
    return NOTICE_QUANTITIES_IGNORED % {
        "mode": UploadedFile.ImportMode.METADATA_ONLY.label,
        "reset": UploadedFile.ImportMode.RESET_STOCK.label,
    }


def _preview_page(
    request: HttpRequest, upload_row: UploadedFile, result: Preview, form: ConfirmForm
) -> HttpResponse:
    rows = sorted(result.rows, key=lambda r: (r.action != Action.ERROR, r.line))
    if request.GET.get("show") == "errors":
        rows = [r for r in rows if r.action == Action.ERROR]
    page = Paginator(rows, PREVIEW_PAGE).get_page(request.GET.get("page"))
    title = (_("Applied: %(name)s") if result.applied_at else _("Preview of %(name)s")) % {
        "name": upload_row.filename
    }
    context = _admin_context(request, title)
    run = import_run(upload_row)
    context.update(
        upload=upload_row,
        preview=result,
        page=page,
        error_count=len(result.errors),
        no_change=result.totals.get(Action.NO_CHANGE, 0),
        form=form,
        mine=upload_row.operator == request.user.get_username(),
        run=run,
        # The page shows the upload as it was when drawn: once the run it follows ends,
        # it is drawn again (status, and what was applied).
        reload_when_done=run is not None and run.finished_at is None,
        notice=_notice(result),
    )
    return render(request, "imports/preview.html", context)


@staff_member_required
@permission_required(IMPORT_PERMISSION, raise_exception=True)
def preview(request: HttpRequest, file_id: str) -> HttpResponse:
    upload_row = get_object_or_404(UploadedFile.objects.select_related("store"), pk=file_id)
    try:
        result = import_result(upload_row)
    except ImportFileError as exc:
        messages.error(request, exc.message)
        return redirect("imports:upload")
    return _preview_page(
        request, upload_row, result, ConfirmForm(initial={"token": upload_row.token})
    )


@require_POST
@staff_member_required
@permission_required(IMPORT_PERMISSION, raise_exception=True)
def confirm(request: HttpRequest, file_id: str) -> HttpResponse:
    upload_row = get_object_or_404(UploadedFile.objects.select_related("store"), pk=file_id)
    form = ConfirmForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("This confirmation link is not valid for this upload."))
        return redirect("imports:preview", file_id=file_id)
    try:
        import_confirm_start(
            file_id=upload_row.file_id,
            token=form.cleaned_data["token"],
            actor=Actor.from_request(request),
            skip_errors=form.cleaned_data["skip_errors"],
            refuse_errors_now=True,
        )
    except ImportHasErrors as exc:
        # The form stays, with the reason beside the choice that would let it through.
        form.add_error("skip_errors", exc.message)
        return _preview_page(request, upload_row, exc.preview, form)
    except InventoryError as exc:
        messages.error(request, exc.message)
    else:
        messages.info(request, _("Import started: its progress shows below."))
    return redirect("imports:preview", file_id=file_id)


@require_POST
@staff_member_required
@permission_required(IMPORT_PERMISSION, raise_exception=True)
def cancel(request: HttpRequest, file_id: str) -> HttpResponse:
    try:
        import_cancel(file_id=file_id, actor=Actor.from_request(request))
    except InventoryError as exc:
        messages.error(request, exc.message)
        return redirect("imports:preview", file_id=file_id)
    messages.info(request, _("Import cancelled: nothing was changed."))
    return redirect("imports:upload")


CHARSETS = {"utf-8": "utf-8", "cp932": "windows-31j"}


def _encoding(request: HttpRequest) -> str:
    form = ExportForm(request.GET)
    return (form.is_valid() and form.cleaned_data["encoding"]) or UTF8


@staff_member_required
def template(request: HttpRequest) -> HttpResponse:
    encoding = _encoding(request)
    response = HttpResponse(
        b"".join(encoded(iter([template_csv()]), encoding)),
        content_type=f"text/csv; charset={CHARSETS[encoding]}",
    )
    response["Content-Disposition"] = 'attachment; filename="inventory-sync-template.csv"'
    return response


@staff_member_required
@permission_required("skus.view_sku", raise_exception=True)
def export(request: HttpRequest) -> StreamingHttpResponse:
    """Every SKU and its stock in the template's columns, for Excel: UTF-8 with a BOM, or
    ``?encoding=cp932``."""
    encoding = _encoding(request)
    response = StreamingHttpResponse(
        encoded(export_lines(encoding), encoding),
        content_type=f"text/csv; charset={CHARSETS[encoding]}",
    )
    suffix = "" if encoding == UTF8 else f"-{encoding}"
    response["Content-Disposition"] = f'attachment; filename="inventory-sync-stock{suffix}.csv"'
    return response
