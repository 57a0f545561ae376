"""Finds the English a page shows in another language.

A page's visible text is its text nodes and the attributes people read (button labels,
placeholders, titles, alternative texts), less scripts, styles, code and form values. From
each piece of it, what the database holds (SKU ids and names, store names, user names …:
data, shown as entered) and technical identifiers (URLs, numbers, codes such as
``stock.adjust``, ``manage_number`` or ``manageNumber``, acronyms such as SKU or CSV) are
cut out. What is left in Latin letters is English on a Japanese page:

- a message id shown untranslated: the text is (or holds) the literal part of a message id
  of our catalogue, Django's, or an app without a catalogue of its own (django-q2,
  django-axes, read from their code);
- English no catalogue knows (a label never marked for translation, such as a model field
  without a verbose name): reported as such.

Words that translations themselves keep in Latin letters (eBay, futureshop, Django …) are
no sign of a missing translation.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

import django
from django.apps import apps
from django.conf import settings
from django.db import models

# Attributes whose text a person reads (an <input type=submit value="…"> is a button).
READ_ATTRIBUTES = ("placeholder", "title", "aria-label", "alt")
BUTTON_TYPES = {"submit", "button", "reset"}
SKIPPED_ELEMENTS = {"script", "style", "textarea", "template", "code", "pre"}

PLACEHOLDER = re.compile(r"%\([^)]*\)[-#0 +]*\d*(?:\.\d+)?[sdfixr]|%[sdfixr]|\{[^{}]*\}|%%")
TAG = re.compile(r"<[^>]+>")
# Identifiers, not words. (Boundaries are Latin letters and digits: Chinese and Japanese are
# word characters too, and "选择API" holds an acronym.)
TECHNICAL = re.compile(
    r"""
    (?<![A-Za-z0-9])[a-z][a-z0-9+.-]*://\S+      # URLs
    | (?<![\w/])/[\w./?=&%:-]*                    # paths
    | \S+@\S+                                    # e-mail addresses
    | (?<![A-Za-z0-9])[\w-]*\d[\w.-]*             # anything holding a digit
    | (?<![A-Za-z0-9])\w+(?:[._:/]\w+)+           # dotted, snake_case and scoped codes
    | (?<![A-Za-z0-9])[a-z]+[A-Z][A-Za-z0-9]*     # camelCase
    | (?<![A-Za-z0-9])[A-Z]{2,}s?(?![A-Za-z0-9])  # acronyms
    | \S*\*{4,}\S*                                # masked secrets ("ie******", a salt)
    """,
    re.VERBOSE,
)
# Names in mixed case that translations keep as they are (eBay).
MIXED_CASE = re.compile(r"(?<![A-Za-z])[A-Za-z]+[A-Z][A-Za-z]*")
# A run of English: Latin words with the spaces and punctuation between them.
ENGLISH_RUN = re.compile(r"[A-Za-z][A-Za-z'’]*(?:[ \t,;:!?()\-–—.…“”\"]+[A-Za-z][A-Za-z'’]*)*")
WORD = re.compile(r"[A-Za-z][A-Za-z'’]*")
# Words that join a sentence's parts: alone between two cut-out values ("aiko on 2026-…")
# they are no label of their own.
GLUE = {"a", "an", "and", "at", "by", "for", "from", "in", "of", "on", "or", "the", "to"}


def normalize(text: str) -> str:
    """Lowercase words separated by single spaces (punctuation and case do not count)."""
    return " ".join(word.lower() for word in WORD.findall(text))


# --- message ids ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Entry:
    msgid: str
    msgstr: str
    context: str = ""


def read_po(path: Path) -> Iterator[Entry]:
    """The entries of a gettext catalogue (the first form of plurals; obsolete ones out)."""
    fields: dict[str, str] = {}
    current = ""
    for raw in [*path.read_text(encoding="utf-8").splitlines(), ""]:
        line = raw.strip()
        if not line or (line.startswith("msgid ") and "msgid" in fields):
            if fields.get("msgid"):
                yield Entry(
                    msgid=fields["msgid"],
                    msgstr=fields.get("msgstr", fields.get("msgstr[0]", "")),
                    context=fields.get("msgctxt", ""),
                )
            fields, current = {}, ""
            if not line:
                continue
        if line.startswith("#"):
            continue
        if line.startswith('"'):
            if current:
                fields[current] += ast.literal_eval(line)
            continue
        current, _, value = line.partition(" ")
        fields[current] = ast.literal_eval(value)


def catalogue_paths(language: str) -> list[Path]:
    """Our catalogues (LOCALE_PATHS), Django's, and those of the contrib apps staff see."""
    django_root = Path(django.__file__).parent
    paths = [Path(p) / language / "LC_MESSAGES" / "django.po" for p in settings.LOCALE_PATHS]
    paths.append(django_root / "conf" / "locale" / language / "LC_MESSAGES" / "django.po")
    for app in ("admin", "auth", "contenttypes", "sessions"):
        paths.append(
            django_root / "contrib" / app / "locale" / language / "LC_MESSAGES" / "django.po"
        )
    return [path for path in paths if path.exists()]


# Apps whose pages staff see and that ship no Japanese catalogue: their message ids are read
# from their code (our catalogue translates them: inventory_site/extra_msgids.py).
UNCATALOGUED_APPS = ("django_q", "axes")
# gettext functions and the position of the message id among their arguments.
GETTEXT_FUNCTIONS = {
    "_": 0,
    "gettext": 0,
    "gettext_lazy": 0,
    "gettext_noop": 0,
    "ngettext": 0,
    "ngettext_lazy": 0,
    "pgettext": 1,
    "pgettext_lazy": 1,
}


def code_message_ids(app_label: str, files: Iterable[str] = ()) -> list[str]:
    """The literal message ids an app's code passes to gettext (only ``files`` of it when
    given; never its tests or migrations)."""
    root = Path(apps.get_app_config(app_label).path)
    paths = [root / name for name in files] or sorted(root.rglob("*.py"))
    found: list[str] = []
    for path in paths:
        if {"tests", "migrations"} & set(path.relative_to(root).parts):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            name = getattr(node.func, "id", getattr(node.func, "attr", None))
            position = GETTEXT_FUNCTIONS.get(name)
            if position is None or len(node.args) <= position:
                continue
            argument = node.args[position]
            if isinstance(argument, ast.Constant) and isinstance(argument.value, str):
                found.append(argument.value)
    return found


def _fragments(msgid: str) -> Iterator[str]:
    """The literal parts of a message id (between its placeholders), normalized."""
    for part in PLACEHOLDER.split(TAG.sub(" ", msgid)):
        text = normalize(TECHNICAL.sub(" ", part))
        if text:
            yield text


@dataclass
class Catalog:
    """The English fragments of every message id, and the words translations keep."""

    fragments: dict[str, str]  # normalized fragment -> a message id it comes from
    kept: set[str]  # normalized words that translations keep in Latin letters

    @classmethod
    def load(cls, language: str = "ja") -> Catalog:
        fragments: dict[str, str] = {}
        kept: set[str] = set()
        msgids: list[str] = []
        for path in catalogue_paths(language):
            for entry in read_po(path):
                msgids.append(entry.msgid)
                shown = PLACEHOLDER.sub(" ", TAG.sub(" ", entry.msgstr))
                kept.update(normalize(TECHNICAL.sub(" ", shown)).split())
                kept.update(name.lower() for name in MIXED_CASE.findall(shown))
        for app_label in UNCATALOGUED_APPS:
            msgids.extend(code_message_ids(app_label))
        for msgid in msgids:
            for fragment in _fragments(msgid):
                fragments.setdefault(fragment, msgid)
        return cls(fragments=fragments, kept=kept)

    def message_id(self, run: str) -> str | None:
        """The message id ``run`` is, or holds (two words or more of it), or None."""
        words = normalize(run).split()
        if " ".join(words) in self.fragments:
            return self.fragments[" ".join(words)]
        for size in range(len(words) - 1, 1, -1):
            for start in range(len(words) - size + 1):
                part = " ".join(words[start : start + size])
                if part in self.fragments:
                    return self.fragments[part]
        return None


# --- pages ---------------------------------------------------------------------------------


class VisibleText(HTMLParser):
    """The pieces of text a person reads on a page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.pieces: list[str] = []
        self._skipping: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        if tag in SKIPPED_ELEMENTS:
            self._skipping.append(tag)
        if self._skipping:
            return
        if tag == "input" and values.get("type", "text") in BUTTON_TYPES:
            self._add(values.get("value", ""))
        for name in READ_ATTRIBUTES:
            self._add(values.get(name, ""))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag in SKIPPED_ELEMENTS:
            self._skipping.pop()

    def handle_endtag(self, tag: str) -> None:
        if self._skipping and self._skipping[-1] == tag:
            self._skipping.pop()

    def handle_data(self, data: str) -> None:
        if not self._skipping:
            self._add(data)

    def _add(self, text: str) -> None:
        text = " ".join(text.split())
        if text:
            self.pieces.append(text)


def visible_text(html: str) -> list[str]:
    parser = VisibleText()
    parser.feed(html)
    parser.close()
    return parser.pieces


# Tables of Django's own bookkeeping, not anyone's data: their values (app labels, model
# names, permission codes) are the very words a page must not show untranslated.
NOT_DATA = {"contenttypes.ContentType", "sessions.Session"}
NOT_DATA_FIELDS = {"auth.Permission": {"codename"}}
# Data in fields that are not text: what a background task was given and returned.
OTHER_DATA_FIELDS = {"django_q.Task": ("args", "kwargs", "result")}
# English that a third-party app builds with f-strings, which no catalogue can translate.
THIRD_PARTY_ENGLISH = (
    "Access Log for",  # django-axes AccessLog.__str__
    "Attempted Access:",  # django-axes AccessAttempt.__str__
    "Failed access: user",  # django-axes AccessFailureLog.__str__
)


class UserData:
    """Text the database holds (SKU ids and names, store names, user names, order numbers,
    file names and their cells, reasons, what platforms answered, Django's permission
    names …): data, shown as it was entered or received, never translated. Also the
    languages' own names (the language switch shows each in its own language) and the
    third-party English above."""

    def __init__(self, values: Iterable[str]) -> None:
        texts = {" ".join(value.split()) for value in values if value and value.strip()}
        alternatives = "|".join(re.escape(text) for text in sorted(texts, key=len, reverse=True))
        self.pattern = re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)") if texts else None

    @classmethod
    def from_database(cls, extra: Iterable[str] = ()) -> UserData:
        values: set[str] = {*extra, *THIRD_PARTY_ENGLISH}
        values.update(str(name) for _code, name in settings.LANGUAGES)
        for model in apps.get_models():
            if model._meta.label in NOT_DATA:
                continue
            skipped = NOT_DATA_FIELDS.get(model._meta.label, set())
            names = [
                field.name
                for field in model._meta.concrete_fields
                if isinstance(field, (models.CharField, models.TextField))
                and not field.choices
                and field.name not in skipped
            ]
            names += OTHER_DATA_FIELDS.get(model._meta.concrete_model._meta.label, ())
            if not names:
                continue
            for row in model._default_manager.values_list(*names).iterator():
                for value in row:
                    if value:
                        values.update(_pieces_of(str(value)))
        return cls(values)

    def cut(self, text: str) -> str:
        return self.pattern.sub(" ¶ ", text) if self.pattern else text


def _pieces_of(value: str) -> Iterator[str]:
    """A value, its lines, and the cells of a CSV or TSV line."""
    yield value
    for line in value.splitlines():
        yield line
        yield from re.split(r"[,\t]", line)


@dataclass(frozen=True)
class Finding:
    piece: str  # the text of the page, as shown
    english: str  # its English part
    msgid: str  # the message id shown untranslated ("" for English no catalogue knows)

    def __str__(self) -> str:
        source = f"message id “{self.msgid}”" if self.msgid else "no message id"
        return f"“{self.english}” ({source}) in “{self.piece[:120]}”"


def scan(html: str, catalog: Catalog, data: UserData) -> list[Finding]:
    """Each piece of ``html`` that shows English."""
    found: list[Finding] = []
    for piece in visible_text(html):
        if piece[:1] in "{[" and piece[-1:] in "}]":
            continue  # JSON: keys are identifiers, values data
        rest = TECHNICAL.sub(" ¶ ", data.cut(piece))
        runs = [run for run in ENGLISH_RUN.findall(rest) if WORD.search(run)]
        for run in runs:
            words = normalize(run).split()
            if all(word in catalog.kept or len(word) < 2 for word in words):
                continue
            if (len(runs) > 1 or "¶" in rest) and all(word in GLUE for word in words):
                continue
            msgid = catalog.message_id(run)
            found.append(Finding(piece=piece, english=run.strip(" ,;:-–—"), msgid=msgid or ""))
    return found
