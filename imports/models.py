"""Uploaded stock files, and what confirming one applied.

An upload is kept whole until it is confirmed or cancelled; then only the columns the
import reads are kept, and after ``IMPORTS_ORIGINAL_RETENTION_DAYS`` not even those
(``services.uploads_purge``). What a confirm applied is frozen in ``AppliedUpload``."""

import secrets
import uuid

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _


def new_upload_token() -> str:
    return secrets.token_urlsafe(32)


class UploadedFile(models.Model):
    class ImportMode(models.TextChoices):
        # Say plainly which one changes stock: a file with quantities uploaded with the
        # first one changes no stock at all.
        METADATA_ONLY = "metadata_only", _("names and store ids only: stock is not changed")
        RESET_STOCK = "reset_stock", _("set stock from the file's quantities")

    class ZeroHandling(models.TextChoices):
        IGNORE = "ignore", _("0 leaves the stock unchanged")
        SET_ZERO = "set_zero", _("0 sets the stock to 0")
        ZERO_NEGATIVE = "zero_negative", _("0 and negative quantities set the stock to 0")

    class Status(models.TextChoices):
        PENDING = "pending", _("pending")
        CONFIRMED = "confirmed", _("confirmed")
        CANCELLED = "cancelled", _("cancelled")
        # The confirm failed unexpectedly: nothing was applied; ``error`` says why.
        FAILED = "failed", _("failed")

    file_id = models.UUIDField(_("file id"), primary_key=True, default=uuid.uuid4, editable=False)
    filename = models.CharField(_("file name"), max_length=255)
    original_content = models.TextField(_("content"))
    token = models.CharField(
        _("confirm token"), max_length=64, unique=True, default=new_upload_token
    )
    store = models.ForeignKey(
        "stores.Store",
        on_delete=models.PROTECT,
        related_name="uploads",
        db_column="store_id",
        verbose_name=_("store"),
    )
    import_mode = models.CharField(_("import mode"), max_length=20, choices=ImportMode.choices)
    zero_handling = models.CharField(
        _("zero handling"), max_length=20, choices=ZeroHandling.choices
    )
    operator = models.CharField(_("operator"), max_length=100)
    error = models.TextField(_("error"), blank=True, default="")
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.PENDING
    )
    created_at = models.DateTimeField(_("uploaded"), auto_now_add=True)

    class Meta:
        db_table = "uploaded_files"
        verbose_name = _("uploaded file")
        verbose_name_plural = _("uploaded files")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(import_mode__in=["metadata_only", "reset_stock"]),
                name="uploaded_files_mode_valid",
            ),
            models.CheckConstraint(
                condition=Q(zero_handling__in=["ignore", "set_zero", "zero_negative"]),
                name="uploaded_files_zero_handling_valid",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["pending", "confirmed", "cancelled", "failed"]),
                name="uploaded_files_status_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.filename} ({self.get_status_display()})"


class AppliedUpload(models.Model):
    """What confirming an upload did, row by row, as the confirm saw it: the page shows
    this afterwards, never a new preview against today's stock. Written once, in the
    confirm's transaction."""

    class Kind(models.TextChoices):
        TABLE = "table", _("table")
        RAKUTEN = "rakuten", _("RMS normal-item.csv")

    upload = models.OneToOneField(
        UploadedFile,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="applied",
        db_column="file_id",
        verbose_name=_("uploaded file"),
    )
    applied_at = models.DateTimeField(_("applied"))
    kind = models.CharField(_("file kind"), max_length=20, choices=Kind.choices)
    totals = models.JSONField(_("totals"), default=dict)
    # One list per row, in ``services.APPLIED_ROW_FIELDS`` order (a 100,000-row file
    # stays a few MB).
    rows = models.JSONField(_("rows"), default=list)

    class Meta:
        db_table = "uploaded_file_results"
        verbose_name = _("applied upload")
        verbose_name_plural = _("applied uploads")

    def __str__(self) -> str:
        return gettext("%(file)s, applied %(time)s") % {
            "file": self.upload.filename,
            "time": f"{timezone.localtime(self.applied_at):%Y-%m-%d %H:%M}",
        }
