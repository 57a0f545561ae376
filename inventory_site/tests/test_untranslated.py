"""No staff page shows English to a Japanese or Chinese reader.

Every page of the staff site (each named URL of the URLconf, as bench_pages enumerates them
on seed_bulk's data) and, for every model registered in the admin, its list, its add page
and the page of one row, plus the admin's index and app pages: requested as a superuser in
the language, and read as a person reads them (inventory_site/tests/untranslated.py says
how data and identifiers are told from words)."""

from __future__ import annotations

import re
from io import StringIO

import pytest
from django.apps import apps
from django.conf import settings
from django.contrib import admin
from django.contrib.auth.models import User
from django.core.management import call_command
from django.test.utils import override_settings
from django.urls import reverse
from django.utils import translation
from django.utils.functional import Promise

from demo.management.commands.bench_pages import Command as BenchPages
from demo.management.commands.bench_pages import Page
from inventory_site import extra_msgids
from inventory_site.tests.untranslated import (
    Catalog,
    UserData,
    catalogue_paths,
    code_message_ids,
    read_po,
    scan,
    visible_text,
)

pytestmark = pytest.mark.django_db

LANGUAGES = {"ja": "ja", "zh-hans": "zh_Hans"}


def _fixed(url: str):
    return lambda n: url


def every_page() -> list[Page]:
    """bench_pages' pages (every staff URL, every admin list and one row of each) and the
    admin's add page of every model, its index and the page of each app."""
    pages = [page for page in BenchPages().pages() if not page.download]
    pages.append(Page("admin index", "admin:index", _fixed(reverse("admin:index")), True))
    labels = sorted({model._meta.app_label for model in admin.site._registry})
    for label in labels:
        url = reverse("admin:app_list", args=[label])
        pages.append(Page(f"admin app {label}", "admin:app_list", _fixed(url), True))
    for model in sorted(admin.site._registry, key=lambda model: model._meta.label):
        meta = model._meta
        route = f"admin:{meta.app_label}_{meta.model_name}_add"
        pages.append(Page(f"admin {meta.label}, add", route, _fixed(reverse(route)), True))
    url = reverse("admin:password_change")
    pages.append(Page("admin password change", "admin:password_change", _fixed(url), True))
    return pages


@pytest.fixture
def site_data() -> None:
    call_command("seed_bulk", "--skus", "24", "--events", "240", "--audit", "12", stdout=StringIO())


@pytest.mark.parametrize("language", LANGUAGES)
def test_no_staff_page_shows_english(client, site_data, language):
    superuser = User.objects.create_superuser("mirai", "mirai@example.com", "pw")
    client.force_login(superuser)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    catalog = Catalog.load(LANGUAGES[language])
    data = UserData.from_database()
    findings: dict[tuple[str, str], list[tuple[str, str]]] = {}
    checked = 0
    for page in every_page():
        url = page.url(0)
        with override_settings(INVENTORY_TEST_MODE=page.test_mode):
            response = client.get(url, HTTP_ACCEPT_LANGUAGE=language)
        if response.status_code == 403 and page.route.endswith("_add"):
            continue  # nothing is added there (read-only models): no page to read
        assert response.status_code == 200, f"{page.name}: {url} answered {response.status_code}"
        if not response["Content-Type"].startswith("text/html"):
            continue  # JSON for the live pages' scripts: keys are identifiers
        html = response.content.decode()
        assert f'<html lang="{language}"' in html, url
        checked += 1
        for finding in scan(html, catalog, data):
            findings.setdefault((finding.english, finding.msgid), []).append((url, finding.piece))
    assert checked > 100
    # The login page, before anyone is logged in.
    client.logout()
    login = client.get(reverse("admin:login"), HTTP_ACCEPT_LANGUAGE=language)
    for finding in scan(login.content.decode(), catalog, data):
        findings.setdefault((finding.english, finding.msgid), []).append(("login", finding.piece))
    report = [
        f"“{english}” ({f'message id “{msgid}”' if msgid else 'no message id'}) "
        f"on {len({url for url, _ in seen})} page(s), first {seen[0][0]} in “{seen[0][1][:100]}”"
        for (english, msgid), seen in sorted(findings.items(), key=lambda item: item[1][0])
    ]
    assert report == [], f"{len(report)} English texts on {language} pages:\n" + "\n".join(report)


# --- the check itself ----------------------------------------------------------------------

PAGE = """<html><head><title>x</title><style>.a{}</style><script>var label = "Store";</script>
</head><body>
<h1>在庫</h1>
<p>Store</p>
<p>store で絞り込む</p>
<table><tr><td>Bulk store Tokyo</td><td>ce1111</td><td>bulk-tokyo</td><td>stock.adjust</td>
<td>manageNumber</td><td>{"status": "failed"}</td><td>https://example.com/store</td></tr></table>
<input type="submit" value="Search"><input type="text" value="Store">
<img src="/s.svg" alt="Search"><select><option>English</option><option>日本語</option></select>
<p>Never marked for translation</p><p>eBay の出品</p><pre>log: store failed</pre>
</body></html>"""


def test_the_check_tells_english_from_data_and_identifiers():
    catalog = Catalog(
        fragments={"store": "Store", "search": "Search", "failed": "failed"}, kept={"ebay"}
    )
    data = UserData(["Bulk store Tokyo", "bulk-tokyo", "English"])
    found = scan(PAGE, catalog, data)
    assert [(f.english, f.msgid) for f in found] == [
        ("Store", "Store"),
        ("store", "Store"),
        ("Search", "Search"),
        ("Search", "Search"),
        ("Never marked for translation", ""),
    ]
    # It says where: the piece of the page and the message id.
    assert str(found[1]) == "“store” (message id “Store”) in “store で絞り込む”"
    assert "“Never marked for translation” (no message id)" in str(found[-1])


def test_the_check_reads_what_people_read():
    pieces = visible_text(PAGE)
    assert "Search" in pieces  # a button's label and an image's alternative text
    assert not any("label =" in piece or ".a{}" in piece for piece in pieces)
    assert "log: store failed" not in pieces  # code and logs are recorded text
    assert pieces.count("Store") == 1  # a text input's value is data


def test_message_ids_come_from_every_catalogue_staff_pages_use():
    catalog = Catalog.load("ja")
    assert catalog.fragments["change"] == "Change"  # Django's admin
    assert catalog.fragments["failed tasks"] == "Failed tasks"  # django-q2, from its code
    assert catalog.fragments["user agent"] == "User Agent"  # django-axes, from its code
    assert "sku" in catalog.kept  # our translations keep "SKU"
    # A message with a value in it is found by its words around the value.
    assert catalog.message_id("Hidden field") == "(Hidden field %(name)s) %(error)s"


def test_third_party_message_ids_are_in_our_catalogue_list():
    """django-q2 and django-axes ship no Japanese: every id of their admin (models, admin,
    the lockout message) must be listed in extra_msgids.py, unless Django translates it."""
    translated = {
        entry.msgid
        for path in catalogue_paths("ja")
        if "site-packages" in str(path)
        for entry in read_po(path)
        if entry.msgstr
    }
    listed = set(extra_msgids.DJANGO_Q) | set(extra_msgids.AXES)
    wanted = set(code_message_ids("django_q", ["models.py", "admin.py"]))
    wanted |= set(code_message_ids("axes", ["models.py", "admin.py", "conf.py"]))
    wanted.discard("Please install croniter to enable cron expressions")  # not on a page
    assert sorted(wanted - translated - listed) == []


# --- causes -------------------------------------------------------------------------------


def test_the_admin_menu_names_third_party_apps_in_the_language():
    """django-q2 and django-axes are listed in INSTALLED_APPS by our AppConfigs
    (inventory_site/third_party_apps.py), which name them in each language; django-axes'
    list of login attempts names its computed columns."""
    from axes.models import AccessAttempt

    tasks, logins = apps.get_app_config("django_q"), apps.get_app_config("axes")
    columns = admin.site._registry[AccessAttempt]
    with translation.override("ja"):
        assert (str(tasks.verbose_name), str(logins.verbose_name)) == ("タスク", "ログイン記録")
        assert str(columns.status.short_description) == "状態"


def untranslatable_names() -> list[str]:
    """Model and field names of our apps that are plain strings: the admin shows them as
    they are (column headers, filter titles "… で絞り込む", form labels) in every language."""
    found = []
    for label in settings.LOCAL_APPS:
        for model in apps.get_app_config(label).get_models():
            meta = model._meta
            for name in ("verbose_name", "verbose_name_plural"):
                if not isinstance(meta.original_attrs.get(name), Promise):
                    found.append(f"{meta.label}.Meta.{name}")
            found += [
                f"{meta.label}.{field.name}"
                for field in meta.get_fields()
                if field.concrete
                and not field.auto_created
                and not isinstance(field.verbose_name, Promise)
            ]
    return found


def test_every_model_and_field_name_is_translatable():
    assert untranslatable_names() == []


def test_admin_change_is_the_admins_word_and_stock_change_its_own():
    """Django's admin says "Change" (変更) for changing a row and "Go" (実行) to run an
    action; our catalogue shares message ids with it, so our other meanings have a context:
    the SKU timeline's "Change" column is a change of stock (増減), the language switch's
    button switches (切替)."""
    change, go = "Change", "Go"  # not literals: makemessages reads tests too
    with translation.override("ja"):
        assert (translation.gettext(change), translation.gettext(go)) == ("変更", "実行")
        assert translation.pgettext("stock change", change) == "増減"
        assert translation.pgettext("language switch", go) == "切替"
    templates = settings.BASE_DIR / "templates"
    plain = re.compile(r"""\{% (?:translate|trans) ["'](?:Change|Go)["'] %\}""")
    assert [
        str(path.relative_to(templates))
        for path in sorted(templates.rglob("*.html"))
        if plain.search(path.read_text(encoding="utf-8"))
    ] == []
