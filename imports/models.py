"""Uploaded stock files, kept whole until confirmed or cancelled."""

import secrets
import uuid

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


def new_upload_token() -> str:
    return secrets.token_urlsafe(32)


class UploadedFile(models.Model):
    class ImportMode(models.TextChoices):
        METADATA_ONLY = "metadata_only", _("names and metadata only")
        RESET_STOCK = "reset_stock", _("set stock from the file")

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

    file_id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    filename = models.CharField(_("file name"), max_length=255)
    original_content = models.TextField(_("content"))
    token = models.CharField(
        _("confirm token"), max_length=64, unique=True, default=new_upload_token
    )
    store = models.ForeignKey(
        "stores.Store", on_delete=models.PROTECT, related_name="uploads", db_column="store_id"
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
        return f"{self.filename} ({self.status})"
