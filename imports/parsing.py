"""Reading a stock file: bytes -> text -> rows with known columns.

Accepts our template, RMS's normal-item.csv and spreadsheets with the usual
header names (see ALIASES), in UTF-8 (with or without BOM) or CP932, comma or
tab separated, CRLF or LF. Price columns are read past (and dropped from the stored
file once it is confirmed or cancelled: ``used_columns_only``).
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from inventory_site.errors import InventoryError

MAX_BYTES = 20 * 1024 * 1024

MSG_EMPTY = _("The file is empty.")
MSG_TOO_BIG = _("The file is over 20 MB.")
MSG_BINARY = _("This is not a CSV file (it holds binary data).")
MSG_ENCODING = _("The file is neither UTF-8 nor Shift_JIS (CP932) text.")
MSG_NO_ROWS = _("The file has a header but no rows.")
MSG_NO_SKU_COLUMN = _("No SKU column: the header needs one of %(names)s.")
MSG_NO_QUANTITY_COLUMN = _("No quantity column: setting stock needs one of %(names)s.")


class ImportFileError(InventoryError):
    """The file as a whole cannot be read: nothing is written."""


def header_key(name: str) -> str:
    """Header names match whatever their case, spaces or full-width characters."""
    text = unicodedata.normalize("NFKC", name or "").lower()
    return "".join(ch for ch in text if not ch.isspace() and ch not in "_-")


# field -> header names it may have; the first found wins, in this order.
ALIASES: dict[str, list[str]] = {
    "sku": ["sku_id", "sku", "sku_number", "SKU编号", "システム連携用SKU番号", "SKU管理番号"],
    "quantity": ["quantity", "stock", "在庫数", "数量", "库存"],
    "name": ["sku_name", "name", "item_name", "商品名", "商品名称"],
    "store": ["store_id", "store_code", "店铺编号"],
    "manage_number": ["manage_number", "商品管理番号（商品URL）", "商品管理番号"],
    "variant_id": ["variant_id"],
    "components": ["components", "set_components", "セット構成", "套装构成"],
}
RAKUTEN_MERCHANT_SKU = "システム連携用SKU番号"
RAKUTEN_VARIANT = "SKU管理番号"
RAKUTEN_MANAGE_NUMBER = "商品管理番号（商品URL）"
RAKUTEN_NAME = "商品名"
_KEYS = {field: [header_key(n) for n in names] for field, names in ALIASES.items()}


# A cell a spreadsheet would run as a formula starts with one of these (tab and CR too,
# which django-import-export's own escaping leaves alone). The export writes such a cell,
# and one that starts with "'" already, behind a "'"; reading drops that one "'" again, so
# whatever the export wrote reads back exactly (ids included).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_ESCAPED = (*FORMULA_START, "'")


def escape_formula(value: str) -> str:
    """A cell such as "=x" becomes "'=x": a spreadsheet shows it as text, never runs it."""
    return "'" + value if value.startswith(_ESCAPED) else value


def unescape_formula(value: str) -> str:
    """Undo ``escape_formula``: "'=x" reads back as "=x", "''x" as "'x"."""
    if value.startswith("'") and value[1:].startswith(_ESCAPED):
        return value[1:]
    return value


def decode(raw: bytes) -> str:
    if not raw or not raw.strip():
        raise ImportFileError(str(MSG_EMPTY))
    if len(raw) > MAX_BYTES:
        raise ImportFileError(str(MSG_TOO_BIG))
    if b"\x00" in raw[:8192]:
        raise ImportFileError(str(MSG_BINARY))
    for encoding in ("utf-8-sig", "cp932"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ImportFileError(str(MSG_ENCODING))


@dataclass(slots=True)
class FileRow:
    line: int
    sku: str
    quantity: str | None  # None: the file has no quantity column
    name: str
    store: str
    manage_number: str
    variant_id: str
    merchant_sku_id: str
    # Set when the row is not an item row at all (an RMS product or option row).
    skip: str = ""
    # A set's components as written ("cup*2; saucer"); "" when the file has no such cell.
    components: str = ""


@dataclass(slots=True)
class ParsedFile:
    kind: str  # "rakuten" or "table"
    rows: list[FileRow]
    has_quantity: bool


def _dialect(text: str) -> str:
    first = text.split("\n", 1)[0]
    return "\t" if first.count("\t") > first.count(",") else ","


def _header(reader: Iterator[list[str]]) -> list[str]:
    try:
        return next(reader)
    except StopIteration:
        raise ImportFileError(str(MSG_EMPTY)) from None
    except csv.Error as exc:
        raise ImportFileError(str(MSG_BINARY) + f" ({exc})") from None


def _columns(header: list[str]) -> tuple[dict[str, int | None], dict[str, int], bool]:
    """(field -> its column, header key -> column, whether it is RMS's normal-item.csv)."""
    keys = [header_key(h) for h in header]
    index = {key: i for i, key in reversed(list(enumerate(keys)))}
    columns = {
        field: next((index[k] for k in names if k in index), None) for field, names in _KEYS.items()
    }
    rakuten = header_key(RAKUTEN_VARIANT) in index and header_key(RAKUTEN_MANAGE_NUMBER) in index
    return columns, index, rakuten


def parse(text: str, *, need_quantity: bool) -> ParsedFile:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_dialect(text))
    columns, index, rakuten = _columns(_header(reader))
    if columns["sku"] is None:
        raise ImportFileError(str(MSG_NO_SKU_COLUMN % {"names": ", ".join(ALIASES["sku"])}))
    if need_quantity and columns["quantity"] is None:
        raise ImportFileError(
            str(MSG_NO_QUANTITY_COLUMN % {"names": ", ".join(ALIASES["quantity"])})
        )
    rows = list(_rows(reader, columns, index, rakuten))
    if not rows:
        raise ImportFileError(str(MSG_NO_ROWS))
    return ParsedFile(
        kind="rakuten" if rakuten else "table",
        rows=rows,
        has_quantity=columns["quantity"] is not None,
    )


def _rows(
    reader: Iterator[list[str]],
    columns: dict[str, int | None],
    index: dict[str, int],
    rakuten: bool,
) -> Iterator[FileRow]:
    def cell(values: list[str], position: int | None) -> str:
        if position is None or position >= len(values):
            return ""
        return values[position].strip()

    merchant = index.get(header_key(RAKUTEN_MERCHANT_SKU))
    variant = index.get(header_key(RAKUTEN_VARIANT))
    product_name = ""
    try:
        for values in reader:
            line = reader.line_num
            if not any(v.strip() for v in values):
                continue
            if rakuten:
                variant_id = cell(values, variant)
                manage_number = cell(values, columns["manage_number"])
                if not variant_id:
                    # A product row (it carries the name) or an option row.
                    product_name = cell(values, columns["name"]) or product_name
                    yield FileRow(line, "", None, "", "", manage_number, "", "", skip="product")
                    continue
                merchant_sku = cell(values, merchant)
                yield FileRow(
                    line=line,
                    sku=merchant_sku or variant_id,
                    quantity=cell(values, columns["quantity"])
                    if columns["quantity"] is not None
                    else None,
                    name=cell(values, columns["name"]) or product_name,
                    store=cell(values, columns["store"]),
                    manage_number=manage_number,
                    variant_id=variant_id,
                    merchant_sku_id=merchant_sku,
                )
                continue
            yield FileRow(
                line=line,
                sku=unescape_formula(cell(values, columns["sku"])),
                quantity=cell(values, columns["quantity"])
                if columns["quantity"] is not None
                else None,
                name=unescape_formula(cell(values, columns["name"])),
                store=unescape_formula(cell(values, columns["store"])),
                manage_number=unescape_formula(cell(values, columns["manage_number"])),
                variant_id=unescape_formula(cell(values, columns["variant_id"])),
                merchant_sku_id="",
                components=cell(values, columns["components"]),
            )
    except csv.Error as exc:
        raise ImportFileError(str(MSG_BINARY) + f" ({exc})") from None


def used_columns_only(text: str) -> str:
    """The file with only the columns ``parse`` reads: prices and every other column are
    dropped (kept after a confirm or cancel only as long as needed). Parsing the result
    gives the same rows."""
    delimiter = _dialect(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header = _header(reader)
    columns, index, _rakuten = _columns(header)
    wanted = {position for position in columns.values() if position is not None}
    for name in (RAKUTEN_MERCHANT_SKU, RAKUTEN_VARIANT, RAKUTEN_MANAGE_NUMBER):
        if header_key(name) in index:
            wanted.add(index[header_key(name)])
    kept = sorted(wanted)
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow([header[i] for i in kept])
    # The text was read whole when it was uploaded: it holds no line csv refuses.
    for values in reader:
        writer.writerow([values[i] if i < len(values) else "" for i in kept])
    return buffer.getvalue()


MSG_COMPONENT_QUANTITY = _("“%(part)s”: the quantity after “*” must be a whole number")
# A set's components in a cell: "cup*2; saucer" (";" "|" or a line break between
# components, "*" "×" or "＊" before a quantity, 1 when none is written).
_PART_SPLIT = re.compile(r"[;|\n]")
_QUANTITY_SPLIT = re.compile(r"[*×＊]")


def parse_components(text: str) -> list[tuple[str, int]]:
    """[(component id, quantity)] of a components cell; raises ImportFileError naming the
    part it cannot read. An empty cell is []."""
    parts = []
    for raw in _PART_SPLIT.split(unicodedata.normalize("NFKC", text or "")):
        part = raw.strip()
        if not part:
            continue
        pieces = _QUANTITY_SPLIT.split(part)
        component = pieces[0].strip()
        quantity = 1
        if len(pieces) > 1:
            try:
                quantity = int(pieces[1].strip())
            except ValueError:
                raise ImportFileError(str(MSG_COMPONENT_QUANTITY % {"part": part})) from None
        if len(pieces) > 2:
            raise ImportFileError(str(MSG_COMPONENT_QUANTITY % {"part": part}))
        parts.append((component, quantity))
    return parts


def format_components(parts: dict[str, int]) -> str:
    """The cell ``parse_components`` reads back: "cup*2;saucer*1" (component id order)."""
    return ";".join(f"{component}*{quantity}" for component, quantity in sorted(parts.items()))
