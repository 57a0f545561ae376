"""Template helpers of the engine's pages: a run's counts in words, a platform error read
for a merchant, a time in the site's zone, and the dashboard's small hourly charts."""

from __future__ import annotations

import datetime as dt

from django import template
from django.template.defaultfilters import date as date_format
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext

from sync.charts import HourlyChart
from sync.error_messages import Explanation, explain
from sync.run_text import counts_sentence

register = template.Library()

TIME_FORMAT = "Y-m-d H:i"


@register.filter
def run_counts(run: object) -> str:
    """A run's counts as a sentence in the page's language ("2 SKUs pushed, 1 SKU failed")."""
    return counts_sentence(getattr(run, "kind", ""), getattr(run, "counts", None) or {})


@register.simple_tag
def explain_error(
    raw: str, store_id: str = "", sku_id: str = "", registration_id: int | None = None
) -> Explanation:
    """``{% explain_error run.error store_id=run.store_id as why %}``."""
    return explain(raw or "", store_id=store_id, sku_id=sku_id, registration_id=registration_id)


@register.filter
def when(value: dt.datetime | None, seconds: bool = False) -> SafeString | str:
    """A time in the site's zone, always in the same form, with its exact value (and zone)
    in the element for tools and tooltips."""
    if not value:
        return ""
    local = timezone.localtime(value)
    shown = date_format(local, f"{TIME_FORMAT}:s" if seconds else TIME_FORMAT)
    return format_html(
        '<time datetime="{}" title="{}">{}</time>',
        local.isoformat(),
        f"{local:%Y-%m-%d %H:%M:%S %Z}",
        shown,
    )


@register.simple_tag
def zone_note() -> str:
    """The sentence that says which zone the page's times are in."""
    return gettext("Times are in %(zone)s.") % {"zone": timezone.get_current_timezone_name()}


@register.inclusion_tag("sync/_hourly_chart.html")
def hourly_svg(chart: HourlyChart | None, label: str, css: str) -> dict:
    """A small bar chart of the last 24 hours (``css``: its colour class)."""
    return {"chart": chart, "label": label, "css": css}
