import pytest
from django.core.management import CommandError, call_command

from events.actors import Actor
from events.models import (
    AuditAction,
    AuditLog,
    EventType,
    InventoryEvent,
    InventorySnapshot,
    PendingPush,
)
from events.selectors import snapshot_drift
from events.services import InvalidQuantity, snapshot_rebuild, stock_adjust
from skus.models import Sku
from skus.services import env_test_reset
from skus.tests.factories import SkuFactory
from stores.tests.factories import StoreSkuFactory

pytestmark = pytest.mark.django_db


def stock_of(sku_id):
    return InventorySnapshot.objects.get(pk=sku_id).internal_available


class TestDriftAndRebuild:
    def test_no_drift_after_normal_writes(self, actor):
        sku = SkuFactory(initial_stock=4)
        stock_adjust(sku_id=sku.sku_id, quantity=3, reason="found", actor=actor)
        assert snapshot_drift() == []

    def test_drift_is_found_and_rebuild_repairs_it_audited(self, actor):
        sku, other = SkuFactory(initial_stock=4), SkuFactory(initial_stock=9)
        StoreSkuFactory(sku=sku)
        PendingPush.objects.all().delete()
        InventorySnapshot.objects.filter(pk=sku.sku_id).update(internal_available=50)
        InventorySnapshot.objects.filter(pk=other.sku_id).delete()

        drifts = {d.sku_id: d for d in snapshot_drift()}
        assert set(drifts) == {sku.sku_id, other.sku_id}
        assert (drifts[sku.sku_id].snapshot, drifts[sku.sku_id].ledger) == (50, 4)
        assert drifts[sku.sku_id].difference == -46
        assert (drifts[other.sku_id].snapshot, drifts[other.sku_id].ledger) == (None, 9)

        repaired = snapshot_rebuild(actor=actor)
        assert {d.sku_id for d in repaired} == {sku.sku_id, other.sku_id}
        assert (stock_of(sku.sku_id), stock_of(other.sku_id)) == (4, 9)
        assert snapshot_drift() == []
        last = InventoryEvent.objects.filter(sku=sku).latest("created_at")
        assert InventorySnapshot.objects.get(pk=sku.sku_id).last_event_id == last.event_id
        # The store is told the corrected stock.
        assert PendingPush.objects.filter(sku=sku).count() == 1
        entry = AuditLog.objects.get(action=AuditAction.SNAPSHOT_REBUILD)
        assert entry.details["count"] == 2

    def test_rebuild_without_drift_writes_nothing(self, actor):
        SkuFactory(initial_stock=4)
        assert snapshot_rebuild(actor=actor) == []
        assert not AuditLog.objects.filter(action=AuditAction.SNAPSHOT_REBUILD).exists()

    def test_command_check_reports_and_fix_repairs(self, capsys):
        sku = SkuFactory(initial_stock=4)
        call_command("rebuild_snapshots", "--check")
        assert "Every snapshot equals the sum of its events." in capsys.readouterr().out
        InventorySnapshot.objects.filter(pk=sku.sku_id).update(internal_available=1)
        with pytest.raises(CommandError, match="1 snapshot"):
            call_command("rebuild_snapshots", "--check")
        assert f"drift {sku.sku_id}: snapshot 1, ledger 4" in capsys.readouterr().out
        call_command("rebuild_snapshots", "--fix", "--sku", sku.sku_id.upper(), "--user", "ops")
        assert f"fixed {sku.sku_id}: 1 -> 4" in capsys.readouterr().out
        assert stock_of(sku.sku_id) == 4
        assert AuditLog.objects.get(action=AuditAction.SNAPSHOT_REBUILD).user == "ops"


class TestTestReset:
    def test_ce1111_exists_after_migrate(self):
        sku = Sku.objects.get(pk="ce1111")
        assert (sku.environment, sku.status, sku.original_sku) == ("test", "active", "CE1111")
        assert InventorySnapshot.objects.filter(pk="ce1111").exists()

    def test_reset_restores_test_skus_and_never_touches_prod(self, actor, settings):
        settings.INVENTORY_TEST_RESET_STOCK = 100
        stock_adjust(sku_id="ce1111", quantity=7, reason="play", actor=actor)
        test_sku = SkuFactory(environment="test", initial_stock=5)
        prod_sku = SkuFactory(environment="prod", initial_stock=5)
        prod_events = InventoryEvent.objects.filter(sku=prod_sku).count()

        events = env_test_reset(actor=actor)

        assert stock_of("ce1111") == 100
        assert stock_of(test_sku.sku_id) == 0
        assert stock_of(prod_sku.sku_id) == 5
        assert InventoryEvent.objects.filter(sku=prod_sku).count() == prod_events
        assert {e.event_type for e in events} == {EventType.TEST_RESET}
        assert {e.sku_id for e in events} == {"ce1111", test_sku.sku_id}
        entry = AuditLog.objects.get(action=AuditAction.TEST_RESET)
        assert (entry.user, entry.details["ce1111_stock"]) == ("alice", 100)

    def test_reset_always_records_ce1111_even_without_a_change(self, actor):
        env_test_reset(actor=actor, stock=3)
        events = env_test_reset(actor=actor, stock=3)
        assert [(e.sku_id, e.quantity, e.balance_after) for e in events] == [("ce1111", 0, 3)]

    def test_negative_stock_is_refused(self, actor):
        with pytest.raises(InvalidQuantity):
            env_test_reset(actor=actor, stock=-1)
        assert not InventoryEvent.objects.filter(event_type=EventType.TEST_RESET).exists()

    def test_command(self, capsys):
        call_command("reset_test_data", "--stock", "12")
        out = capsys.readouterr().out
        assert "ce1111: +12 -> 12" in out
        assert "Test data reset: 1 event(s)." in out
        assert AuditLog.objects.get(action=AuditAction.TEST_RESET).user == "manage.py"

    def test_command_reports_bad_stock(self):
        with pytest.raises(CommandError, match="out of range"):
            call_command("reset_test_data", "--stock", "-4")


def test_actor_from_cli_and_system_differ():
    assert Actor.cli().is_system is False
    assert Actor.system().is_system is True
