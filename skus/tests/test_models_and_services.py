import pytest
from django.apps import apps
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.urls import reverse

from events.models import AuditAction, AuditLog, EventType, InventoryEvent, InventorySnapshot
from skus.models import (
    MSG_SKU_DELETE_REFUSED,
    MSG_TEST_SKU_PROTECTED,
    Sku,
    SkuDeletionRefused,
)
from skus.services import SkuInvalid, sku_create, sku_update
from skus.tests.factories import SkuFactory

pytestmark = pytest.mark.django_db

OUR_APPS = (
    "skus",
    "stores",
    "events",
    "imports",
    "sync",
    "rakuten",
    "futureshop",
    "api",
    "purchasing",
)


def test_no_model_has_a_price_field():
    models = [m for name in OUR_APPS for m in apps.get_app_config(name).get_models()]
    assert len(models) >= 7
    for model in models:
        for field in model._meta.get_fields():
            names = {field.name.lower(), str(getattr(field, "column", "") or "").lower()}
            assert not any("price" in n or "価格" in n for n in names), (model, field.name)


class TestCreate:
    def test_id_is_lowercased_and_the_case_kept(self, actor):
        sku = sku_create(sku_id="  Tshirt-RED-M ", sku_name="T-shirt", actor=actor)
        assert (sku.sku_id, sku.original_sku) == ("tshirt-red-m", "Tshirt-RED-M")
        assert Sku.objects.get(pk="TSHIRT-RED-M") == sku
        assert InventorySnapshot.objects.get(pk=sku.sku_id).internal_available == 0
        entry = AuditLog.objects.get(action=AuditAction.SKU_CREATE)
        assert entry.details["sku_id"] == "tshirt-red-m"

    def test_initial_stock_is_an_event(self, actor):
        sku = sku_create(sku_id="Mug", sku_name="Mug", initial_stock=12, actor=actor)
        event = InventoryEvent.objects.get(sku=sku)
        assert (event.event_type, event.quantity, event.balance_after) == (
            EventType.INITIAL,
            12,
            12,
        )

    def test_lowercase_enforced_on_every_save_path(self):
        sku = Sku(sku_id="RAW-Entry", sku_name="raw")
        sku.save()
        assert Sku.objects.filter(sku_id="raw-entry").exists()
        assert sku.original_sku == "RAW-Entry"

    def test_bulk_paths_lowercase_too(self):
        Sku.objects.bulk_create([Sku(sku_id="BULK-Made", sku_name="x")])
        assert Sku.objects.filter(sku_id="bulk-made").exists()

    def test_database_refuses_an_uppercase_id(self):
        with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO sku_master (sku_id, sku_name, allow_oversell, environment, status, "
                "metadata, aliases, created_at, updated_at) VALUES ('UPPER', 'x', false, 'prod', "
                "'active', '{}', '{}', '2026-01-01', '2026-01-01')"
            )

    @pytest.mark.parametrize(
        ("raw", "message"),
        [
            ("x" * 51, "longer than 50 characters"),
            ("", "A SKU id is required."),
            ("two words", "contains spaces"),
            ("tab\there", "contains spaces"),
        ],
    )
    def test_bad_ids_are_refused_and_nothing_written(self, actor, raw, message):
        before = (Sku.objects.count(), AuditLog.objects.count())
        with pytest.raises(SkuInvalid, match=message):
            sku_create(sku_id=raw, sku_name="x", actor=actor)
        assert (Sku.objects.count(), AuditLog.objects.count()) == before

    def test_duplicate_in_another_case_is_refused(self, actor):
        SkuFactory(sku_id="dup-1")
        with pytest.raises(SkuInvalid, match="already exists"):
            sku_create(sku_id="DUP-1", sku_name="x", actor=actor)

    def test_name_is_required(self, actor):
        with pytest.raises(SkuInvalid, match=r"name: This field cannot be blank\."):
            sku_create(sku_id="noname", sku_name="  ", actor=actor)
        assert not Sku.objects.filter(pk="noname").exists()

    def test_bad_environment_is_refused(self, actor):
        with pytest.raises(SkuInvalid, match=r"environment: Value .staging. is not a valid choice"):
            sku_create(sku_id="env", sku_name="x", environment="staging", actor=actor)


class TestNeverDeleted:
    def test_delete_refused_on_instance_and_queryset(self):
        sku = SkuFactory()
        with pytest.raises(SkuDeletionRefused) as excinfo:
            sku.delete()
        assert excinfo.value.message == str(MSG_SKU_DELETE_REFUSED)
        with pytest.raises(SkuDeletionRefused):
            Sku.objects.filter(pk=sku.pk).delete()
        assert Sku.objects.filter(pk=sku.pk).exists()

    def test_admin_offers_no_delete(self, admin_client):
        sku = SkuFactory()
        changelist = admin_client.get(reverse("admin:skus_sku_changelist"))
        actions = [name for name, _ in changelist.context["action_form"].fields["action"].choices]
        assert "mark_inactive" in actions
        assert "delete_selected" not in actions
        response = admin_client.post(
            reverse("admin:skus_sku_delete", args=[sku.pk]), {"post": "yes"}
        )
        assert response.status_code == 403
        assert Sku.objects.filter(pk=sku.pk).exists()


class TestUpdate:
    def test_update_is_audited_with_before_and_after(self, actor):
        sku = SkuFactory(sku_name="Old")
        sku_update(sku_id=sku.sku_id.upper(), sku_name="New", allow_oversell=True, actor=actor)
        sku.refresh_from_db()
        assert (sku.sku_name, sku.allow_oversell) == ("New", True)
        entry = AuditLog.objects.get(action=AuditAction.SKU_UPDATE)
        assert entry.details["changes"] == {
            "sku_name": ["Old", "New"],
            "allow_oversell": [False, True],
        }

    def test_no_change_no_audit(self, actor):
        sku = SkuFactory(sku_name="Same")
        sku_update(sku_id=sku.sku_id, sku_name="Same", actor=actor)
        assert not AuditLog.objects.filter(action=AuditAction.SKU_UPDATE).exists()

    def test_inactivate_any_sku_but_ce1111(self, actor):
        sku = SkuFactory()
        sku_update(sku_id=sku.sku_id, status="inactive", actor=actor)
        assert Sku.objects.get(pk=sku.pk).status == "inactive"

    @pytest.mark.parametrize("change", [{"status": "inactive"}, {"environment": "prod"}])
    def test_ce1111_cannot_be_inactivated_or_moved(self, actor, change):
        with pytest.raises(SkuInvalid) as excinfo:
            sku_update(sku_id="ce1111", actor=actor, **change)
        assert excinfo.value.message == str(MSG_TEST_SKU_PROTECTED)
        sku = Sku.objects.get(pk="ce1111")
        assert (sku.status, sku.environment) == ("active", "test")
        assert not AuditLog.objects.exists()

    def test_model_validation_refuses_inactive_ce1111(self):
        sku = Sku.objects.get(pk="ce1111")
        sku.status = "inactive"
        with pytest.raises(ValidationError):
            sku.full_clean()

    def test_database_refuses_inactive_ce1111(self):
        with pytest.raises(IntegrityError), transaction.atomic():
            Sku.objects.filter(pk="ce1111").update(status="inactive")
        assert Sku.objects.get(pk="ce1111").status == "active"

    def test_unknown_sku_and_non_editable_fields(self, actor):
        with pytest.raises(SkuInvalid, match="Unknown SKU"):
            sku_update(sku_id="ghost", sku_name="x", actor=actor)
        with pytest.raises(SkuInvalid, match="cannot be changed here: created_at, sku_name_x"):
            sku_update(sku_id="ce1111", actor=actor, created_at=None, sku_name_x="x")


class TestAdmin:
    def test_add_through_admin_goes_through_the_service(self, admin_client):
        response = admin_client.post(
            reverse("admin:skus_sku_add"),
            {
                "sku_id": "Admin-ADDED",
                "sku_name": "Added",
                "environment": "prod",
                "status": "active",
                "metadata": "{}",
                "aliases": "{}",
                "components-TOTAL_FORMS": "0",
                "components-INITIAL_FORMS": "0",
                "registrations-TOTAL_FORMS": "0",
                "registrations-INITIAL_FORMS": "0",
            },
        )
        assert response.status_code == 302, response.content
        sku = Sku.objects.get(pk="admin-added")
        assert sku.original_sku == "Admin-ADDED"
        assert InventorySnapshot.objects.filter(pk="admin-added").exists()
        assert AuditLog.objects.get(action=AuditAction.SKU_CREATE).user == "admin"

    def test_inactivating_ce1111_in_the_admin_shows_the_rule(self, admin_client):
        response = admin_client.post(
            reverse("admin:skus_sku_change", args=["ce1111"]),
            {
                "original_sku": "CE1111",
                "sku_name": "Test product ce1111",
                "environment": "test",
                "status": "inactive",
                "metadata": "{}",
                "aliases": "{}",
                "components-TOTAL_FORMS": "0",
                "components-INITIAL_FORMS": "0",
                "registrations-TOTAL_FORMS": "0",
                "registrations-INITIAL_FORMS": "0",
            },
        )
        assert response.status_code == 200
        assert "must stay active in the test environment" in response.content.decode()
        assert Sku.objects.get(pk="ce1111").status == "active"

    def test_bulk_inactivate_action_skips_ce1111_with_a_message(self, admin_client):
        sku = SkuFactory()
        response = admin_client.post(
            reverse("admin:skus_sku_changelist"),
            {"action": "mark_inactive", "_selected_action": [sku.pk, "ce1111"]},
            follow=True,
        )
        text = response.content.decode()
        assert "1 SKU updated." in text
        assert "must stay active" in text
        assert Sku.objects.get(pk=sku.pk).status == "inactive"
        assert Sku.objects.get(pk="ce1111").status == "active"

    def test_changelist_filters_and_searches(self, admin_client):
        SkuFactory(sku_id="Blue-Cup", environment="prod")
        page = admin_client.get(
            reverse("admin:skus_sku_changelist"), {"q": "blue", "environment__exact": "prod"}
        )
        assert [s.sku_id for s in page.context["cl"].result_list] == ["blue-cup"]
