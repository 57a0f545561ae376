"""A platform's raw error turned into what a merchant understands: what happened, what to
do, and where to do it.

Each platform's client and adapter write their errors in their own words ("IE0004:
variantId must be at most 32 bytes. at inventories[3].variantId", "TooLong: verticalNo…",
"eBay refused the quantity of X: 25709: …"). The pages keep that raw text visible (support
needs it) and put, above it, the reading of the first rule below that matches: rules are
data, matched by the platform's codes and by the fixed parts of its messages."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.urls import reverse
from django.utils import translation
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from .push import MSG_STOPPED
from .registry import platforms

# What a fix link opens.
FIX_REGISTRATION = "registration"  # the SKU's registration in the store (its listing keys)
FIX_CREDENTIALS = "credentials"  # the store's settings (credentials, API address)
FIX_STORE = "store"  # the store's page (test authentication, connect an account)
FIX_SKU = "sku"  # the SKU's page (stock, safety stock)

FIX_LABELS: dict[str, Promise] = {
    FIX_REGISTRATION: _("Open the registration"),
    FIX_CREDENTIALS: _("Open the store's settings"),
    FIX_STORE: _("Open the store's page"),
    FIX_SKU: _("Open the SKU"),
}

# The listing keys platforms name in their errors, as the registration form labels them.
FIELD_LABELS: dict[str, Promise] = {
    "managenumber": _("item manage number"),
    "variantid": _("variant id"),
    "merchantdefinedskuid": _("merchant SKU id"),
    "productno": _("product number"),
    "skuno": _("SKU number"),
    "verticalno": _("branch number (vertical)"),
    "horizontalno": _("branch number (horizontal)"),
    "ebay sku": _("eBay SKU"),
    "sku": _("eBay SKU"),
}
KEYS = (
    "manageNumber|variantId|merchantDefinedSkuId|productNo|skuNo|verticalNo|horizontalNo|eBay SKU"
)


def _field(group: str) -> str:
    """A listing key named in an error, caught as group ``group`` (field, field2, …)."""
    return f"(?P<{group}>{KEYS})"


MSG_UNKNOWN = _("The platform refused what Inventory Sync sent.")
ACTION_UNKNOWN = _(
    "Read the platform's answer below, fix what it names, then retry. If it makes no "
    "sense, send it to support."
)


@dataclass(frozen=True)
class Rule:
    """A kind of error: the pattern that finds it in the raw text, what it means, what to
    do, and which page fixes it. ``automatic``: Inventory Sync tries again by itself."""

    kind: str
    pattern: re.Pattern[str]
    message: Promise
    action: Promise
    fix: str | None = None
    automatic: bool = False


def _rule(kind: str, pattern: str, message: Promise, action: Promise, **kwargs: Any) -> Rule:
    return Rule(kind, re.compile(pattern, re.IGNORECASE | re.DOTALL), message, action, **kwargs)


RULES = [
    _rule(
        "licence_expired",
        r"GA0001|licen[cs]e key (?:is|has) expired",
        _("The RMS licence key has expired, so Rakuten refuses every call of this store."),
        _(
            "Issue a new licence key in RMS, enter it in the store's settings, then press "
            "“Test authentication” on the store's page."
        ),
        fix=FIX_CREDENTIALS,
    ),
    _rule(
        "reconnect",
        r"connect the eBay account again|not connected to an eBay account|refresh token",
        _("eBay no longer accepts this store's connection to the seller's account."),
        _("Connect the eBay account again from the store's page, then retry."),
        fix=FIX_STORE,
    ),
    _rule(
        "credentials",
        r"refused the credentials|refused the app keys|HTTP 40[13]\b|ES01-01|Un-?Authori[sz]ed"
        r"|no RMS service secret|Missing eBay app settings|encryption keys cannot open"
        r"|credentials are missing",
        _("The platform refused the store's credentials, or some are missing."),
        _(
            "Check the credentials in the store's settings, then press “Test "
            "authentication” on the store's page."
        ),
        fix=FIX_CREDENTIALS,
    ),
    _rule(
        "not_configured",
        r"API address must be|No adapter is configured|API domain",
        _("The store is not set up completely (its platform or API address)."),
        _("Complete the store's settings, then retry."),
        fix=FIX_CREDENTIALS,
    ),
    _rule(
        "too_long",
        rf"(?:IE0004|TooLong)\b[^\[;]*?{_field('field')}"
        rf"|{_field('field2')}[^;]*?(?:is longer than|must be at most)",
        _(
            "The %(field)s in this SKU's registration is longer than the platform accepts, "
            "so the store refused its stock."
        ),
        _(
            "Shorten the %(field)s in the registration so that it matches the listing in "
            "the store, then retry."
        ),
        fix=FIX_REGISTRATION,
    ),
    _rule(
        "bad_characters",
        rf"IE0002\b[^\[;]*?{_field('field')}|{_field('field2')}[^;]*?may (?:only )?hold only",
        _("The %(field)s in this SKU's registration holds characters the platform refuses."),
        _(
            "Correct the %(field)s in the registration (letters, digits, “-” and “_” only), "
            "then retry."
        ),
        fix=FIX_REGISTRATION,
    ),
    _rule(
        "not_linked",
        rf"(?:IE0001|Required)\b[^\[;]*?{_field('field')}|has no (?:RMS|futureshop|eBay) "
        r"|no longer registered|eBay SKU is empty",
        _("This SKU is not linked to a listing in the store, so its stock has nowhere to go."),
        _(
            "Register the SKU in the store: run a SKU sync from the store's page, or enter "
            "its listing keys in the registration. Then retry."
        ),
        fix=FIX_REGISTRATION,
    ),
    _rule(
        "duplicate",
        r"IE1102|Duplicated(?:Stock|ProductNo)",
        _("Two SKUs are registered to the same listing in this store."),
        _("Give each registration its own listing keys, then retry."),
        fix=FIX_REGISTRATION,
    ),
    _rule(
        "stock_not_managed",
        r"NotManagementSettings",
        _("The product is set in futureshop not to manage its stock."),
        _(
            "Turn stock management on for the product in futureshop, or remove the "
            "registration if it should not sync. Then retry."
        ),
        fix=FIX_REGISTRATION,
    ),
    _rule(
        "not_migrated",
        r"IE1105",
        _("The Rakuten shop has not moved to SKU-based stock yet."),
        _("Finish the SKU migration in RMS, then retry."),
    ),
    _rule(
        "unknown_listing",
        r"ProductNotFound|StockNotFound|PlannedStockDateNotFound|GE0014|HTTP 404|\bnot found\b"
        r"|IE0500",
        _("The store has no listing with these keys (deleted, renamed or never created)."),
        _(
            "Compare the keys in the registration with the listing in the store and correct "
            "them, then retry."
        ),
        fix=FIX_REGISTRATION,
    ),
    _rule(
        "quantity",
        r"IE0003|IE0117|OverStock|25759|quantity must be|quantity of “|count must be",
        _("The store refused the quantity Inventory Sync sent."),
        _("Check the SKU's stock and the store's safety stock, then retry."),
        fix=FIX_SKU,
    ),
    _rule(
        "listing_refused",
        r"eBay refused the quantity|\b25709\b|\b25002\b",
        _("eBay refused the stock of this listing."),
        _(
            "Check the listing on eBay: its offers must be published and their ids must be "
            "the ones in the registration. Then retry."
        ),
        fix=FIX_REGISTRATION,
    ),
    _rule(
        "rate_limited",
        r"rate limited|HTTP 429|ES04-02|Too Many Requests|revisions",
        _("The platform asked Inventory Sync to slow down."),
        _("Nothing to fix: it is sent again by itself. Press Retry to send it now."),
        automatic=True,
    ),
    _rule(
        "unreachable",
        r"could not connect to",
        _("Inventory Sync could not reach the platform at the store's API address."),
        _(
            "Check the store's API address (for the demo: that its sandbox runs on that "
            "port), then retry."
        ),
        fix=FIX_CREDENTIALS,
    ),
    _rule(
        "platform_down",
        r"unavailable|busy|(?:HTTP|answered) 5\d\d|CE0001|X0000|GE0019|25001|connection failed",
        _("The platform had a problem on its side."),
        _("Nothing to fix here: it is usually over soon. Press Retry to send it again."),
        automatic=True,
    ),
    _rule(
        "timeout",
        r"timed out|no answer in time|timeout",
        _("The platform did not answer in time."),
        _("Nothing to fix here: press Retry to send it again."),
        automatic=True,
    ),
    _rule(
        "unreadable_answer",
        r"documented shape|malformed|answered with a redirect|repeats a page|not JSON",
        _("The platform answered something Inventory Sync cannot read."),
        _("Retry later; if it keeps failing, send the platform's answer below to support."),
    ),
]

STOPPED = Rule(
    "stopped",
    re.compile(r"stopped by staff", re.IGNORECASE),
    _("Staff stopped the push before this SKU."),
    _("Nothing to fix: the next push sends it."),
    automatic=True,
)


@dataclass(frozen=True)
class Explanation:
    """A raw error read for a merchant. ``fix_url`` is empty when no page fixes it."""

    kind: str
    message: str
    action: str
    raw: str
    fix_url: str = ""
    fix_label: str = ""
    automatic: bool = False


def _field_label(name: str) -> str:
    label = FIELD_LABELS.get(name.lower())
    return str(label) if label is not None else name


@lru_cache(maxsize=1)
def _fixed_texts() -> tuple[frozenset[str], frozenset[str]]:
    """Messages our own code stores translated (in the worker's language): each platform's
    "not linked" message and the push's "stopped", in every language of the site."""
    unbound, stopped = set(), set()
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            stopped.add(str(MSG_STOPPED))
            for adapter in platforms().values():
                unbound.add(str(adapter.unbound_message))
    return frozenset(unbound), frozenset(stopped)


def _match(raw: str) -> tuple[Rule, dict[str, str]] | None:
    unbound, stopped = _fixed_texts()
    text = raw.strip()
    if text in stopped or STOPPED.pattern.search(text):
        return STOPPED, {}
    if text in unbound:
        return next(rule for rule in RULES if rule.kind == "not_linked"), {}
    for rule in RULES:
        found = rule.pattern.search(text)
        if found:
            field = next(
                (v for k, v in found.groupdict().items() if k.startswith("field") and v), ""
            )
            return rule, {"field": _field_label(field)} if field else {}
    return None


def _fix_url(fix: str | None, *, store_id: str, sku_id: str, registration_id: int | None) -> str:
    if fix == FIX_REGISTRATION and registration_id is not None:
        return reverse("admin:stores_storesku_change", args=[registration_id])
    if fix == FIX_REGISTRATION and store_id:
        return reverse("sync:store", args=[store_id])
    if fix == FIX_CREDENTIALS and store_id:
        return reverse("admin:stores_store_change", args=[store_id])
    if fix == FIX_STORE and store_id:
        return reverse("sync:store", args=[store_id])
    if fix == FIX_SKU and sku_id:
        return reverse("skus:detail", args=[sku_id])
    return ""


def explain(
    raw: str,
    *,
    store_id: str = "",
    sku_id: str = "",
    registration_id: int | None = None,
) -> Explanation:
    """What ``raw`` (a platform's error as stored on a push, a run or a follow-up) means for
    a merchant, in the current language, with the page that fixes it."""
    matched = _match(raw or "")
    if matched is None:
        return Explanation(
            kind="unknown", message=str(MSG_UNKNOWN), action=str(ACTION_UNKNOWN), raw=raw
        )
    rule, values = matched
    values.setdefault("field", str(_("listing key")))
    url = _fix_url(rule.fix, store_id=store_id, sku_id=sku_id, registration_id=registration_id)
    fix = rule.fix if url else None
    if fix == FIX_REGISTRATION and registration_id is None:
        fix = FIX_STORE  # no registration to open: the store's page registers SKUs
    return Explanation(
        kind=rule.kind,
        message=str(rule.message) % values,
        action=str(rule.action) % values,
        raw=raw,
        fix_url=url,
        fix_label=str(FIX_LABELS[fix]) if fix else "",
        automatic=rule.automatic,
    )
