"""Dashboard and store pages: what each group sees and may do."""

import pytest
from django.contrib.auth.models import Group, User
from django.urls import reverse
from django.utils import timezone

from events.models import AuditLog, PendingPush
from inventory_site.permissions import groups_ensure
from stores.models import Store, StoreSku
from sync.models import Order, OrderLine, SyncRun

pytestmark = pytest.mark.django_db


def member(client, group):
    groups_ensure()
    user = User.objects.create_user(f"{group}-user", password="pw", is_staff=True)
    user.groups.add(Group.objects.get(name=group))
    client.force_login(user)
    return user


def test_groups_come_from_the_migration():
    assert set(Group.objects.values_list("name", flat=True)) >= {"viewer", "operator", "admin"}
    operator = Group.objects.get(name="operator")
    codenames = set(operator.permissions.values_list("codename", flat=True))
    assert {"adjust_stock", "run_sync", "add_uploadedfile"} <= codenames
    assert "reset_test_data" not in codenames
    assert "reset_test_data" in set(
        Group.objects.get(name="admin").permissions.values_list("codename", flat=True)
    )


def test_dashboard_shows_each_stores_health(engine, client, django_assert_max_num_queries):
    member(client, "viewer")
    from sync.orders import orders_poll

    engine.order("store-a", units=1)
    orders_poll(store_id="store-a")
    PendingPush.objects.filter(store_id="store-b").update(status="failed")
    order = Order.objects.first()
    OrderLine.objects.create(
        order=order, position=5, listing={"variant_id": "Lost"}, listing_label="Lost", units=1
    )
    Store.objects.filter(pk="store-c").update(
        license_expires_at=timezone.now() + timezone.timedelta(days=3)
    )
    with django_assert_max_num_queries(20):
        page = client.get(reverse("sync:dashboard"))
    html = page.content.decode()
    assert "store-a" in html
    assert "succeeded" in html
    assert "expires soon" in html
    assert 'matched=no">1</a>' in html
    assert 'href="/reports/failed/?store=store-b"' in html


def test_viewers_see_but_cannot_act(engine, client):
    member(client, "viewer")
    page = client.get(reverse("sync:store", args=["store-a"])).content.decode()
    assert "Tshirt-RED-M" in page
    assert 'id="poll-now"' not in page
    for name in ("auth_test", "poll", "sku_sync", "push_all"):
        assert client.post(reverse(f"sync:{name}", args=["store-a"])).status_code == 403
    assert not SyncRun.objects.exists()


def test_anonymous_users_go_to_the_login_page(client):
    response = client.get(reverse("sync:dashboard"))
    assert response.status_code == 302
    assert "/admin/login/" in response.url


def test_operators_run_auth_test_poll_and_sku_sync(
    engine, client, django_capture_on_commit_callbacks
):
    member(client, "operator")
    response = client.post(reverse("sync:auth_test", args=["store-a"]), follow=True)
    assert "RMS accepted the credentials" in response.content.decode()
    assert Store.objects.get(pk="store-a").license_expires_at is not None
    engine.sandbox.shops["store-b"].license_expires_at = timezone.now() - timezone.timedelta(days=1)
    response = client.post(reverse("sync:auth_test", args=["store-b"]), follow=True)
    assert "licence key has expired" in response.content.decode()
    engine.order("store-a", units=2)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("sync:poll", args=["store-a"]))  # tasks run inline in tests
    assert SyncRun.objects.filter(store_id="store-a", kind="poll", status="succeeded").exists()
    assert AuditLog.objects.filter(action="poll.manual", user="operator-user").exists()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("sync:sku_sync", args=["store-a"]))
    run = SyncRun.objects.get(kind="sku_sync")
    assert run.status == "succeeded"
    progress = client.get(reverse("sync:run_progress", args=[run.pk])).json()
    assert progress["finished"]
    assert progress["percent"] == 100
    assert AuditLog.objects.filter(action="sku.sync").count() == 1


def test_a_running_sync_shows_progress_and_can_be_cancelled(engine, client):
    member(client, "operator")
    run = SyncRun.objects.create(
        store_id="store-a", kind="sku_sync", details={"total": 10}, counts={"items": 4}
    )
    page = client.get(reverse("sync:store", args=["store-a"])).content.decode()
    assert reverse("sync:run_progress", args=[run.pk]) in page
    assert client.get(reverse("sync:run_progress", args=[run.pk])).json()["percent"] == 40
    client.post(reverse("sync:run_cancel", args=[run.pk]))
    run.refresh_from_db()
    assert run.cancel_requested


def test_push_every_sku_follows_its_run_to_the_end(
    engine, client, django_capture_on_commit_callbacks
):
    member(client, "operator")
    registered = StoreSku.objects.filter(store_id="store-b").count()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("sync:push_all", args=["store-b"]), follow=True)
    assert f"Push of {registered} SKUs to store-b started." in response.content.decode()
    run = SyncRun.objects.get(kind="push", store_id="store-b")
    assert run.operator == "operator-user"
    assert (run.status, run.counts["pushed"], run.details["total"]) == (
        "succeeded",
        registered,
        registered,
    )
    for reg in StoreSku.objects.filter(store_id="store-b").select_related(
        "sku__snapshot", "rakuten"
    ):
        expected = max(0, reg.sku.snapshot.internal_available - reg.effective_safety_stock)
        assert (
            engine.shown("store-b", reg.rakuten.variant_id, reg.rakuten.manage_number) == expected
        )
    audit = AuditLog.objects.get(action="push.all")
    assert audit.details == {"store_id": "store-b", "skus": registered}


def test_a_push_while_another_holds_the_store_ends_skipped(engine, client):
    from sync.leases import job_lease
    from sync.tasks import push_run_task

    member(client, "operator")
    client.post(reverse("sync:push_all", args=["store-a"]))  # the task waits for the commit
    run = SyncRun.objects.get(kind="push")
    page = client.get(reverse("sync:store", args=["store-a"])).content.decode()
    assert f'id="run-{run.pk}"' in page
    assert client.get(reverse("sync:run_progress", args=[run.pk])).json()["percent"] is None
    with job_lease("push:store-a"):
        push_run_task(run.pk)
    run.refresh_from_db()
    assert run.status == "skipped"
    assert run.finished_at is not None
    assert SyncRun.objects.filter(kind="push").count() == 1
