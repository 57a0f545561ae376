"""Reads of the import app: uploads for lists, and what an upload did or would do."""

from __future__ import annotations

from collections import Counter

from django.db.models import QuerySet

from .models import AppliedUpload, UploadedFile
from .services import APPLIED_ROW_FIELDS, Preview, RowPlan, import_preview


def uploads_recent(limit: int = 10) -> QuerySet[UploadedFile]:
    """The newest uploads, without their text (a file can be megabytes)."""
    return (
        UploadedFile.objects.select_related("store")
        .defer("original_content")
        .order_by("-created_at")[:limit]
    )


def import_applied(upload: UploadedFile) -> Preview | None:
    """What confirming the upload applied, as the confirm saw it (None: not applied, or
    applied before the result was kept)."""
    applied = AppliedUpload.objects.filter(upload=upload).first()
    if applied is None:
        return None
    rows = [
        RowPlan(**dict(zip(APPLIED_ROW_FIELDS, values, strict=True))) for values in applied.rows
    ]
    return Preview(
        upload=upload,
        kind=applied.kind,
        rows=rows,
        totals=Counter(applied.totals),
        applied_at=applied.applied_at,
    )


def import_result(upload: UploadedFile) -> Preview:
    """A confirmed upload: what it applied, frozen. Any other: what confirming would do
    now (``ImportFileError`` once its text is gone)."""
    return import_applied(upload) or import_preview(upload)
