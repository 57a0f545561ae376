"""English, Japanese and Simplified Chinese: every string translated, switched per user."""

import re

import pytest
from django.conf import settings
from django.contrib.auth.models import Group, User
from django.urls import reverse

pytestmark = pytest.mark.django_db

LOCALES = {"ja": "ja", "zh-hans": "zh_Hans"}


@pytest.mark.parametrize("locale", LOCALES.values())
def test_every_string_is_translated(locale):
    catalog = (settings.BASE_DIR / "locale" / locale / "LC_MESSAGES" / "django.po").read_text()
    entries = catalog.split("\n\n")[1:]  # the first entry is the header
    assert len(entries) > 300
    untranslated = [entry for entry in entries if not translation(entry) or "#, fuzzy" in entry]
    assert untranslated == []
    # The compiled catalogue ships with the code (no gettext needed to run the app).
    assert (settings.BASE_DIR / "locale" / locale / "LC_MESSAGES" / "django.mo").stat().st_size


def translation(entry: str) -> str:
    """The text of an entry's msgstr (or its first plural form), joined across lines."""
    lines = entry.splitlines()
    start = next(i for i, line in enumerate(lines) if re.match(r"msgstr(\[0\])? ", line))
    text = [lines[start].split(" ", 1)[1]]
    text += [line for line in lines[start + 1 :] if line.startswith('"')]
    return "".join(part.strip('"') for part in text)


@pytest.mark.parametrize(
    ("language", "dashboard", "adjust"),
    [
        ("ja", "ダッシュボード", "在庫を調整"),
        ("zh-hans", "仪表板", "调整库存"),
        ("en", "Dashboard", "Adjust stock"),
    ],
)
def test_the_language_switch_changes_every_page(client, language, dashboard, adjust):
    from events.actors import Actor
    from skus.services import sku_create

    user = User.objects.create_user("kenji", password="pw", is_staff=True)
    user.groups.add(Group.objects.get(name="operator"))
    client.force_login(user)
    sku_create(sku_id="Mug-1", sku_name="Mug", initial_stock=3, actor=Actor.cli("test"))
    switched = client.post(reverse("set_language"), {"language": language, "next": "/skus/"})
    assert switched.url == "/skus/"
    page = client.get(reverse("sync:dashboard")).content.decode()
    assert f'<html lang="{language}"' in page
    assert dashboard in page
    assert 'id="language-switch"' in page
    assert f'<option value="{language}" selected>' in page
    detail = client.get(reverse("skus:detail", args=["mug-1"])).content.decode()
    assert adjust in detail
