"""The SKU list's search (one condition on id and name, a trigram index on PostgreSQL)
and its keyset pages (after / before a SKU id, never OFFSET), with its filters kept."""

import re
from unittest import mock

import pytest
from django.contrib.auth.models import Group, User
from django.db import connection
from django.urls import reverse

from inventory_site.permissions import groups_ensure
from skus.models import Sku
from skus.pagination import KeysetPage, count_up_to, keyset_page
from skus.selectors import sku_search
from skus.tests.factories import SkuFactory
from stores.models import StoreSku
from stores.tests.factories import StoreFactory

pytestmark = pytest.mark.django_db

LIST = reverse("skus:list")


@pytest.fixture
def catalogue():
    """Twelve towels (odd ones inactive) and mugs; the towels registered in tokyo."""
    store = StoreFactory(store_id="tokyo")
    for n in range(12):
        SkuFactory(sku_id=f"Towel-{n:02d}", sku_name=f"Bath towel {n}", initial_stock=n)
        SkuFactory(sku_id=f"Mug-{n:02d}", sku_name=f"Mug {n}", initial_stock=20)
        StoreSku.objects.create(store=store, sku_id=f"towel-{n:02d}")
    Sku.objects.filter(sku_id__in=[f"towel-{n:02d}" for n in range(1, 12, 2)]).update(
        status="inactive"
    )


def ids(page: KeysetPage) -> list[str]:
    return [sku.sku_id for sku in page]


def test_search_matches_id_or_name_anywhere_in_any_case(catalogue):
    assert [s.sku_id for s in sku_search(q="OWEL-0")][:3] == ["towel-00", "towel-01", "towel-02"]
    assert [s.sku_id for s in sku_search(q="bath TOWEL 11")] == ["towel-11"]
    assert [s.sku_id for s in sku_search(q="ug 1")] == ["mug-01", "mug-10", "mug-11"]
    assert list(sku_search(q="teapot")) == []


def test_keyset_pages_walk_forward_and_back_with_filters_in_order(catalogue):
    active = sku_search(store_id="tokyo", status="active")
    first = keyset_page(active, key="sku_id", per_page=4)
    assert ids(first) == ["towel-00", "towel-02", "towel-04", "towel-06"]
    assert (first.has_previous, first.has_next, first.next_key) == (False, True, "towel-06")
    second = keyset_page(active, key="sku_id", per_page=4, after=first.next_key)
    assert ids(second) == ["towel-08", "towel-10"]
    assert (second.has_previous, second.has_next, second.previous_key) == (True, False, "towel-08")
    back = keyset_page(active, key="sku_id", per_page=4, before=second.previous_key)
    assert ids(back) == ids(first)
    assert (back.has_previous, back.has_next) == (False, True)
    middle = keyset_page(active, key="sku_id", per_page=2, before="towel-08")
    assert ids(middle) == ["towel-04", "towel-06"]
    assert (middle.has_previous, middle.has_next) == (True, True)
    assert ids(keyset_page(active, key="sku_id", per_page=4, after="towel-10")) == []


def test_the_list_pages_by_key_and_keeps_its_filters_in_the_links(client, catalogue):
    groups_ensure()
    user = User.objects.create_user("viewer-u", password="pw", is_staff=True)
    user.groups.add(Group.objects.get(name="viewer"))
    client.force_login(user)
    with mock.patch("skus.views.SKU_PAGE", 4):
        page = client.get(LIST, {"q": "towel", "store": "tokyo", "status": "active"})
        html = page.content.decode()
        shown = re.findall(r">(Towel-\d\d)</a>", html)
        assert shown == ["Towel-00", "Towel-02", "Towel-04", "Towel-06"]
        assert "6 SKUs match." in html
        assert 'rel="prev"' not in html
        nxt = re.search(r'href="\?([^"]+)" rel="next"', html).group(1).replace("&amp;", "&")
        assert nxt == "q=towel&store=tokyo&status=active&after=towel-06"
        second = client.get(f"{LIST}?{nxt}").content.decode()
        assert re.findall(r">(Towel-\d\d)</a>", second) == ["Towel-08", "Towel-10"]
        assert 'rel="next"' not in second
        assert 'href="?q=towel&amp;store=tokyo&amp;status=active" rel="first"' in second
        prev = re.search(r'href="\?([^"]+)" rel="prev"', second).group(1).replace("&amp;", "&")
        assert prev.endswith("&before=towel-08")
        back = client.get(f"{LIST}?{prev}").content.decode()
        assert re.findall(r">(Towel-\d\d)</a>", back) == re.findall(r">(Towel-\d\d)</a>", html)


def test_the_count_stops_at_its_limit(client, catalogue):
    assert count_up_to(Sku.objects.all(), 5) == 6
    assert count_up_to(Sku.objects.filter(sku_id__startswith="mug"), 50) == 12
    groups_ensure()
    user = User.objects.create_user("viewer-u", password="pw", is_staff=True)
    user.groups.add(Group.objects.get(name="viewer"))
    client.force_login(user)
    with mock.patch("skus.views.COUNT_LIMIT", 10):
        assert "More than 10 SKUs match." in client.get(LIST).content.decode()


def test_the_search_index_exists_only_on_postgresql():
    with connection.cursor() as cursor:
        indexes = connection.introspection.get_constraints(cursor, "sku_master")
    assert ("sku_master_search_trgm" in indexes) == (connection.vendor == "postgresql")


@pytest.mark.postgres
def test_the_search_is_one_trigram_index_scan_on_postgresql(catalogue):
    # Bitmap scans only: the plan can answer the condition from an index only if the
    # query's expression is the one indexed.
    sql, params = sku_search(q="towel").order_by().query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_indexscan = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert plan.count("Bitmap Index Scan on sku_master_search_trgm") == 1, plan
    assert "BitmapOr" not in plan
