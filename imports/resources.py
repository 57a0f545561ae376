"""Our template and the export of current SKUs and stock, through django-import-export.

The export has the template's columns and is what `imports.parsing` reads back: an
export edited in a spreadsheet (or not at all) can be uploaded again, and unchanged rows
are "no change". Both download Excel-safe: UTF-8 with a BOM, or CP932 on request.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Any

from import_export import fields, resources

from events.models import EventSource, EventType
from events.services import stock_set
from skus.models import Sku, SkuComponent
from skus.sets import compositions

from .parsing import escape_formula as _escape_text
from .parsing import format_components

TEMPLATE_HEADER = [
    "sku_id",
    "sku_name",
    "quantity",
    "store_id",
    "manage_number",
    "variant_id",
    "components",
]
# The registration columns stay blank in the export: a SKU may be in several stores, and
# a blank store id or manage number changes nothing when the file comes back.
BLANK_COLUMNS = ("store_id", "manage_number", "variant_id")

UTF8 = "utf-8"
CP932 = "cp932"
ENCODINGS = (UTF8, CP932)
BOM = "\ufeff"


def escape_formula(value: Any) -> Any:
    """A text cell a spreadsheet would run as a formula is written behind a "'"
    (``parsing.unescape_formula`` drops it again); numbers are left alone."""
    return _escape_text(value) if isinstance(value, str) else value


class SkuStockResource(resources.ModelResource):
    sku_id = fields.Field(attribute="original_sku", column_name="sku_id")
    sku_name = fields.Field(attribute="sku_name", column_name="sku_name")
    quantity = fields.Field(column_name="quantity")
    # Export only (no attribute: blank, and never read by an import).
    store_id = fields.Field(column_name="store_id")
    manage_number = fields.Field(column_name="manage_number")
    variant_id = fields.Field(column_name="variant_id")

    class Meta:
        model = Sku
        fields = tuple(TEMPLATE_HEADER)
        import_id_fields = ("sku_id",)

    components = fields.Field(column_name="components")

    def get_queryset(self) -> Any:
        return (
            Sku.objects.select_related("snapshot").prefetch_related("components").order_by("sku_id")
        )

    def dehydrate_quantity(self, sku: Sku) -> int | str:
        if sku.components.all():
            return ""  # a set has no stock of its own: blank leaves it as it is
        snapshot = getattr(sku, "snapshot", None)
        return snapshot.internal_available if snapshot else 0

    def dehydrate_components(self, sku: Sku) -> str:
        return format_components({c.component_id: c.quantity for c in sku.components.all()})

    def export_field(self, field: fields.Field, instance: Any, **kwargs: Any) -> Any:
        return escape_formula(super().export_field(field, instance, **kwargs))

    # Used only by bench_import: the library's default row-by-row import, for comparison.
    def get_instance(self, instance_loader: Any, row: dict[str, Any]) -> Sku | None:
        return Sku.objects.filter(pk=str(row["sku_id"]).lower()).first()

    def init_instance(self, row: dict[str, Any] | None = None) -> Sku:
        return Sku(sku_id=str(row["sku_id"]), original_sku=str(row["sku_id"]))

    def after_save_instance(self, instance: Sku, row: Any, **kwargs: Any) -> None:
        if kwargs.get("dry_run"):
            return
        stock_set(
            sku_id=instance.sku_id,
            target=int(row["quantity"]),
            event_type=EventType.IMPORT,
            source=EventSource.IMPORT,
            operator="import-export",
        )


def template_csv() -> str:
    """The upload template: our header and one example row."""
    example = ["Tshirt-RED-M", "T-shirt red M", "25", "", "", "", ""]
    return ",".join(TEMPLATE_HEADER) + "\r\n" + ",".join(example) + "\r\n"


EXPORT_HEADER = tuple(TEMPLATE_HEADER)
EXPORT_CHUNK = 2000


def _fits(text: str, encoding: str) -> bool:
    try:
        text.encode(encoding)
    except UnicodeEncodeError:
        return False
    return True


def export_lines(encoding: str = UTF8) -> Iterator[str]:
    """Every SKU with its current stock, a CSV line at a time, read in chunks: the first
    bytes leave at once and 100,000 SKUs take well under a second (the resource built the
    whole file in memory first: 6 s). In UTF-8 the same text as
    ``SkuStockResource().export()``.

    For CP932, which cannot hold every character, a name it cannot hold is left blank (a
    blank name renames nothing when the file comes back) and a SKU whose id it cannot hold
    is left out (it stays as it is): the UTF-8 export has them all."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    blank = [""] * len(BLANK_COLUMNS)

    def flush() -> str:
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    writer.writerow(EXPORT_HEADER)
    yield flush()
    # Sets are few: their components are read once, not per row.
    sets = {
        set_id: format_components(parts)
        for set_id, parts in compositions(
            SkuComponent.objects.values_list("set_id", flat=True).distinct()
        ).items()
    }
    rows = (
        Sku.objects.order_by("sku_id")
        .values_list("sku_id", "original_sku", "sku_name", "snapshot__internal_available")
        .iterator(chunk_size=EXPORT_CHUNK)
    )
    narrow = encoding != UTF8
    for count, (key, sku_id, name, quantity) in enumerate(rows, start=1):
        if narrow and not _fits(sku_id, encoding):
            continue
        if narrow and not _fits(name, encoding):
            name = ""
        recipe = sets.get(key, "")
        writer.writerow(
            (
                escape_formula(sku_id),
                escape_formula(name),
                "" if recipe else quantity or 0,
                *blank,
                escape_formula(recipe),
            )
        )
        if count % EXPORT_CHUNK == 0:
            yield flush()
    yield flush()


def export_csv() -> str:
    """Every SKU with its current stock, in the template's columns."""
    return "".join(export_lines())


def encoded(lines: Iterator[str], encoding: str = UTF8) -> Iterator[bytes]:
    """Text chunks as the bytes Excel opens right: UTF-8 behind a BOM (without it Excel
    reads UTF-8 as the system's code page), or CP932."""
    if encoding not in ENCODINGS:
        raise ValueError(encoding)
    if encoding == UTF8:
        yield BOM.encode(UTF8)
    for text in lines:
        if text:
            yield text.encode(encoding)
