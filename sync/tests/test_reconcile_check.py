"""The reconciliation page shows the last stored ledger check (never a sum of the whole
ledger on GET), and "check now" queues one: a CSRF-protected POST by staff who may run
syncs, audited."""

import datetime as dt
from unittest import mock

import pytest
from django.contrib.auth.models import Group, User
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from events.models import AuditLog, InventorySnapshot, LedgerCheck
from events.services import ledger_check_run
from inventory_site.permissions import groups_ensure
from skus.tests.factories import SkuFactory
from sync.views import MSG_LEDGER_CHECK_QUEUED

pytestmark = pytest.mark.django_db

PAGE = "reports:reconcile"
CHECK_NOW = "sync:ledger_check"


def member(client, group):
    groups_ensure()
    user = User.objects.create_user(f"{group}-u", password="pw", is_staff=True)
    user.groups.add(Group.objects.get(name=group))
    client.force_login(user)
    return user


def test_without_a_check_the_page_says_so(client, django_assert_max_num_queries):
    member(client, "viewer")
    SkuFactory(sku_id="Mug-1", initial_stock=3)
    with (
        mock.patch("events.selectors.snapshot_drift_scan", side_effect=AssertionError("summed")),
        django_assert_max_num_queries(12),
    ):
        page = client.get(reverse(PAGE)).content.decode()
    assert 'id="ledger-no-check"' in page
    assert "No ledger check has run yet" in page
    assert 'id="ledger-ok"' not in page
    assert 'id="ledger-check-now"' not in page  # viewers cannot start one


def test_the_page_shows_the_last_stored_check_not_the_ledger_now(
    client, system_actor, django_assert_max_num_queries
):
    member(client, "viewer")
    SkuFactory(sku_id="Mug-1", initial_stock=1)
    InventorySnapshot.objects.filter(pk="mug-1").update(internal_available=50)
    LedgerCheck.objects.create(
        started_at=timezone.now() - dt.timedelta(days=2),
        requested_by="nightly schedule",
        status="ok",
        skus_checked=2,
    )
    ledger_check_run(actor=system_actor)
    # The ledger is repaired after the check: the page still shows what the check found.
    InventorySnapshot.objects.filter(pk="mug-1").update(internal_available=1)
    with (
        mock.patch("events.selectors.snapshot_drift_scan", side_effect=AssertionError("summed")),
        django_assert_max_num_queries(12),
    ):
        page = client.get(reverse(PAGE)).content.decode()
    assert 'id="ledger-drift"' in page
    assert "<td>mug-1</td><td>50</td><td>1</td>" in page
    assert "1 SKU's snapshot differs from the sum of its events." in page
    assert "by tests, 2 SKUs in" in page
    assert "0\xa0minutes ago" in page  # its age
    assert 'id="ledger-checks"' in page  # and the one before it
    assert "nightly schedule" in page


def test_a_check_that_found_nothing_says_so(client, system_actor):
    member(client, "viewer")
    ledger_check_run(actor=system_actor)
    page = client.get(reverse(PAGE)).content.decode()
    assert 'id="ledger-ok"' in page
    assert "Every snapshot equals the sum of its events." in page


def test_check_now_queues_a_check_after_commit_and_audits_it(
    client, django_capture_on_commit_callbacks
):
    member(client, "operator")
    assert 'id="ledger-check-now"' in client.get(reverse(PAGE)).content.decode()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client.post(reverse(CHECK_NOW), follow=True)
    assert len(callbacks) == 1
    assert response.redirect_chain[-1][0] == reverse(PAGE)
    assert str(MSG_LEDGER_CHECK_QUEUED) in response.content.decode()
    # django-q2 runs the task inline in the tests (sync): the check is stored.
    check = LedgerCheck.objects.get()
    assert (check.requested_by, check.status) == ("operator-u", "ok")
    audit = AuditLog.objects.get(action="ledger.check")
    assert audit.user == "operator-u"


def test_check_now_is_refused_without_the_right_or_by_get(client):
    member(client, "viewer")
    assert client.post(reverse(CHECK_NOW)).status_code == 403
    operator = Client()
    member(operator, "operator")
    assert operator.get(reverse(CHECK_NOW)).status_code == 405
    assert not LedgerCheck.objects.exists()
    assert not AuditLog.objects.filter(action="ledger.check").exists()


def test_check_now_needs_the_csrf_token():
    client = Client(enforce_csrf_checks=True)
    member(client, "operator")
    page = client.get(reverse(PAGE))
    assert client.post(reverse(CHECK_NOW)).status_code == 403
    assert not AuditLog.objects.filter(action="ledger.check").exists()
    token = page.cookies["csrftoken"].value
    response = client.post(reverse(CHECK_NOW), {"csrfmiddlewaretoken": token})
    assert response.status_code == 302
    assert AuditLog.objects.filter(action="ledger.check").exists()
