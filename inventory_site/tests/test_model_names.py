"""What the admin calls our models and their fields is translated, and what a row calls
itself (``__str__``) shows labels and local times, not codes and UTC."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.apps import apps
from django.core.management import call_command
from django.utils import translation
from django.utils.functional import Promise
from knox.models import AuthToken

from api.models import ApiToken
from events.models import AuditLog, InventoryEvent, LedgerCheck, PendingPush
from imports.models import AppliedUpload, UploadedFile
from rakuten.models import RakutenOrderConfirmation
from stores.models import AllocationRule
from sync.models import JobLease, Order, PollState, QuarantinedOrder, SyncRun

OUR_APPS = (
    "skus",
    "stores",
    "events",
    "imports",
    "sync",
    "rakuten",
    "futureshop",
    "ebay",
    "api",
    "purchasing",
)
# 2026-11-20 23:30 UTC is 2026-11-21 08:30 in Tokyo.
LATE_UTC = dt.datetime(2026, 11, 20, 23, 30, tzinfo=dt.UTC)


def our_models() -> list:
    return [model for label in OUR_APPS for model in apps.get_app_config(label).get_models()]


def test_every_model_name_is_a_translation():
    untranslated = [
        (model._meta.label, name)
        for model in our_models()
        for name in ("verbose_name", "verbose_name_plural")
        if not isinstance(getattr(model._meta, name), Promise)
    ]
    assert untranslated == []


def test_every_field_name_is_a_translation_not_the_attribute_name():
    """Without a verbose name Django shows the attribute ("store", "finished at") in English
    whatever the language: in list filters, column headers and forms."""
    untranslated = [
        f"{model._meta.label}.{field.name}"
        for model in our_models()
        for field in model._meta.concrete_fields
        # The primary key Django adds is "ID" in every language.
        if not field.auto_created and not isinstance(field.verbose_name, Promise)
    ]
    assert untranslated == []
    assert len(our_models()) > 25


def test_field_names_are_lower_case_like_django_s():
    """Django capitalises the first letter where a name starts a label ("Store", "店舗"):
    a name written "Store" would read "Store" inside a sentence too. Acronyms and brand
    names (SKU, UUID, eBay) keep their case."""
    with translation.override("en"):
        capitalised = [
            f"{model._meta.label}.{field.name}: {field.verbose_name}"
            for model in our_models()
            for field in model._meta.concrete_fields
            if not field.auto_created
            and (first := str(field.verbose_name).split()[0])[0].isupper()
            and not first.rstrip("s").isupper()
        ]
    assert capitalised == []


def test_api_token_keeps_knox_columns_with_translated_names():
    for name in ("digest", "token_key", "user", "created", "expiry"):
        ours = ApiToken._meta.get_field(name).deconstruct()[3]
        knox = AuthToken._meta.get_field(name).deconstruct()[3]
        assert isinstance(ours.pop("verbose_name"), Promise), name
        assert ours == knox, name


@pytest.mark.django_db
def test_the_verbose_names_are_migrated():
    out = io.StringIO()
    call_command("makemigrations", "--check", "--dry-run", stdout=out)
    assert "No changes detected" in out.getvalue()


def test_rows_name_themselves_with_labels_not_codes():
    with translation.override("en"):
        assert str(SyncRun(store_id="tokyo", kind="poll", status="succeeded")) == (
            "order poll tokyo succeeded"
        )
        assert str(PendingPush(store_id="tokyo", sku_id="mug", status="in_progress")) == (
            "tokyo:mug in progress"
        )
        upload = UploadedFile(filename="stock.csv", status="cancelled")
        assert str(upload) == "stock.csv (cancelled)"
        quarantined = QuarantinedOrder(store_id="tokyo", order_number="1-2", status="resolved")
        assert str(quarantined) == "tokyo 1-2 (applied since)"
        confirmation = RakutenOrderConfirmation(order=Order(order_number="1-2"), status="done")
        assert str(confirmation) == "1-2 (confirmed)"
        event = InventoryEvent(event_type="MANUAL_ADJUSTMENT", sku_id="mug", quantity=-2)
        assert str(event) == "manual adjustment mug -2"
        rule = AllocationRule(store_id="tokyo", sku_id=None, kind="cap", value=5)
        assert str(rule) == "tokyo:* maximum shown 5"
        assert str(JobLease(key="poll:tokyo")) == "poll:tokyo (free)"


def test_rows_name_themselves_in_local_time(settings):
    settings.TIME_ZONE = "Asia/Tokyo"
    with translation.override("en"):
        entry = AuditLog(created_at=LATE_UTC, user="aiko", action="stock.adjust")
        assert str(entry) == "2026-11-21 08:30 aiko stock adjusted"
        check = LedgerCheck(started_at=LATE_UTC, status="drift", drift_count=3)
        assert str(check) == "2026-11-21 08:30 drift found (3)"
        applied = AppliedUpload(upload=UploadedFile(filename="stock.csv"), applied_at=LATE_UTC)
        assert str(applied) == "stock.csv, applied 2026-11-21 08:30"
        assert str(PollState(store_id="tokyo", cursor=LATE_UTC)) == (
            "tokyo, searched up to 2026-11-21 08:30"
        )
        assert str(PollState(store_id="tokyo")) == "tokyo, not searched yet"


@pytest.mark.parametrize(
    ("language", "kind", "status"), [("ja", "注文取得", "成功"), ("zh-hans", "订单拉取", "成功")]
)
def test_a_run_names_itself_in_the_reader_s_language(language, kind, status):
    with translation.override(language):
        assert str(SyncRun(store_id="tokyo", kind="poll", status="succeeded")) == (
            f"{kind} tokyo {status}"
        )
