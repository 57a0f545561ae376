"""Input that used to answer 500 or to let look-alike ids coexist."""

import pytest
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.urls import reverse

from events.actors import Actor
from events.services import LedgerError, stock_adjust
from skus.models import normalize_sku_id
from skus.services import sku_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(client):
    client.force_login(User.objects.create_superuser("boss", password="pw"))
    return client


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("bag/black", "contains “/”"),
        ("bag\u200bblack", "invisible or direction-changing"),
        ("bag\u202eblack", "invisible or direction-changing"),
        ("bag\x00black", "control characters"),
        ("bag\x85black", "control characters"),
    ],
)
def test_sku_ids_that_break_pages_or_look_like_others_are_refused(raw, message):
    with pytest.raises(ValidationError) as caught:
        normalize_sku_id(raw)
    assert message in " ".join(caught.value.messages)


def test_look_alike_ids_are_one_sku():
    composed, decomposed = "caf\u00e9", "cafe\u0301"
    assert normalize_sku_id(composed) == normalize_sku_id(decomposed) == "café"
    assert normalize_sku_id("ＢＡＧ－１") == "bag-1"  # full-width forms
    sku_create(sku_id=composed, sku_name="x", actor=Actor.cli("t"))
    from skus.services import SkuInvalid

    with pytest.raises(SkuInvalid, match="already exists"):
        sku_create(sku_id=decomposed, sku_name="y", actor=Actor.cli("t"))


def test_a_10_mb_reason_is_refused_with_a_message():
    sku_create(sku_id="Mug-1", sku_name="Mug", initial_stock=5, actor=Actor.cli("t"))
    with pytest.raises(LedgerError, match="longer than 1000 characters"):
        stock_adjust(sku_id="mug-1", quantity=1, reason="x" * 10_000_000, actor=Actor.cli("t"))


@pytest.mark.parametrize(
    "url",
    [
        "/skus/?q=a%00b",
        "/skus/?status=%00",
        "/skus/?store=x%00",
        "/skus/?environment=%00",
        "/reports/audit/?user=%00",
        "/reports/audit/?action=a%00",
        "/skus/a%00b/",
    ],
)
def test_a_nul_byte_anywhere_is_a_400_with_a_message(staff, url):
    response = staff.get(url)
    assert response.status_code == 400
    assert "NUL byte" in response.content.decode()


def test_an_impossible_date_is_a_400_with_a_message(staff):
    response = staff.get(reverse("reports:audit"), {"from": "2026-02-30"})
    assert response.status_code == 400
    assert "real dates" in response.content.decode()
    assert staff.get(reverse("reports:audit"), {"from": "2026-02-28"}).status_code == 200
