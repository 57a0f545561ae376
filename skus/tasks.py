"""django-q2 entry points of the SKU master: the daily low-stock summary."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db.models import Q
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import ngettext

from .selectors import low_stock

# The mail lists this many SKUs; the rest are counted, the dashboard lists them all.
MAIL_LIMIT = 200


def low_stock_recipients() -> list[str]:
    """LOW_STOCK_MAIL_TO, or every active staff user with an address who may see SKUs."""
    if settings.LOW_STOCK_MAIL_TO:
        return list(settings.LOW_STOCK_MAIL_TO)
    users = get_user_model().objects.filter(is_active=True, is_staff=True).exclude(email="")
    users = users.filter(
        Q(is_superuser=True)
        | Q(user_permissions__codename="view_sku")
        | Q(groups__permissions__codename="view_sku")
    )
    return sorted(set(users.values_list("email", flat=True)))


def low_stock_mail() -> str:
    """Mail the SKUs at or below their threshold to staff (nothing is sent when none is).
    Returns what was done, for the task's result."""
    rows = list(low_stock()[: MAIL_LIMIT + 1])
    if not rows:
        return "no SKU is low"
    recipients = low_stock_recipients()
    if not recipients:
        return f"{len(rows)} low, but nobody to mail: set LOW_STOCK_MAIL_TO or staff e-mails"
    total = low_stock().count() if len(rows) > MAIL_LIMIT else len(rows)
    with translation.override(settings.LOW_STOCK_MAIL_LANGUAGE):
        context = {
            "rows": rows[:MAIL_LIMIT],
            "total": total,
            "more": total - min(total, MAIL_LIMIT),
            "date": timezone.localdate(),
        }
        subject = ngettext(
            "Inventory Sync: %(count)d SKU is low on stock",
            "Inventory Sync: %(count)d SKUs are low on stock",
            total,
        ) % {"count": total}
        body = render_to_string("skus/low_stock_mail.txt", context)
    send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, recipients)
    return f"{total} low, mailed to {len(recipients)}"
