"""Worker locks: a claim takes unlocked (or expired) live purchases, only the holder
releases, and concurrent claimers on PostgreSQL take disjoint purchases."""

import datetime as dt
import threading

import pytest
from django.db import connection

from events.models import AuditLog
from purchasing.models import Purchasing
from purchasing.services import (
    PurchaseInvalid,
    PurchaseLockError,
    PurchaseNotFound,
    purchase_claim,
    purchase_delete,
    purchase_release,
    purchase_update,
)
from purchasing.tests.factories import PurchasingFactory

T0 = dt.datetime(2026, 11, 24, 9, 0, tzinfo=dt.UTC)


@pytest.mark.django_db
class TestClaimAndRelease:
    def test_a_claim_locks_the_oldest_free_purchases(self):
        purchases = [PurchasingFactory() for _ in range(3)]
        audits = AuditLog.objects.count()
        claimed = purchase_claim(worker="tracker-1", limit=2, now=T0)
        assert [p.pk for p in claimed] == [purchases[0].pk, purchases[1].pk]
        for purchase in claimed:
            assert (purchase.is_locked, purchase.locked_at, purchase.locked_by_worker) == (
                True,
                T0,
                "tracker-1",
            )
        # The next worker gets what is left; then nothing.
        assert [p.pk for p in purchase_claim(worker="tracker-2", limit=5, now=T0)] == [
            purchases[2].pk
        ]
        assert purchase_claim(worker="tracker-3", now=T0) == []
        assert AuditLog.objects.count() == audits  # worker locks are not staff actions

    def test_deleted_purchases_are_never_claimed(self, actor):
        purchase = PurchasingFactory()
        purchase_delete(purchase_id=purchase.pk, actor=actor)
        assert purchase_claim(worker="w", now=T0) == []

    def test_a_claim_can_be_narrowed_by_delivery_status(self, actor):
        PurchasingFactory(delivery_status="delivered")
        shipped = PurchasingFactory(delivery_status="shipped")
        claimed = purchase_claim(
            worker="w", limit=5, now=T0, delivery_statuses=["shipped", "in_delivery"]
        )
        assert claimed == [shipped]

    def test_an_expired_lock_is_claimed_again(self, settings):
        settings.PURCHASING_LOCK_SECONDS = 600
        purchase = PurchasingFactory()
        purchase_claim(worker="crashed", now=T0)
        assert purchase_claim(worker="w2", now=T0 + dt.timedelta(seconds=599)) == []
        (again,) = purchase_claim(worker="w2", now=T0 + dt.timedelta(seconds=600))
        assert (again.pk, again.locked_by_worker) == (purchase.pk, "w2")
        # The first worker's lock is gone: it may not release it.
        with pytest.raises(PurchaseLockError, match="locked by worker “w2”"):
            purchase_release(purchase_id=purchase.pk, worker="crashed")

    def test_only_the_holder_releases(self):
        purchase = PurchasingFactory()
        purchase_claim(worker="tracker-1", now=T0)
        with pytest.raises(PurchaseLockError, match="only that worker may release it"):
            purchase_release(purchase_id=purchase.pk, worker="tracker-2")
        assert Purchasing.objects.get(pk=purchase.pk).is_locked
        released = purchase_release(purchase_id=purchase.pk, worker="tracker-1")
        assert (released.is_locked, released.locked_at, released.locked_by_worker) == (
            False,
            None,
            "",
        )
        with pytest.raises(PurchaseLockError, match="is not locked"):
            purchase_release(purchase_id=purchase.pk, worker="tracker-1")
        assert [p.pk for p in purchase_claim(worker="tracker-2", now=T0)] == [purchase.pk]

    def test_bad_claims_and_releases(self):
        with pytest.raises(PurchaseLockError, match="1 to 50"):
            purchase_claim(worker=" ")
        with pytest.raises(PurchaseLockError, match="1 to 50"):
            purchase_claim(worker="w" * 51)
        with pytest.raises(PurchaseLockError, match="1 to 1000"):
            purchase_claim(worker="w", limit=0)
        with pytest.raises(PurchaseNotFound):
            purchase_release(purchase_id=999_999, worker="w")
        with pytest.raises(PurchaseNotFound):
            purchase_release(purchase_id="x", worker="w")

    def test_the_lock_is_read_only_to_updates(self, actor):
        purchase = PurchasingFactory()
        with pytest.raises(PurchaseInvalid, match="read-only"):
            purchase_update(purchase_id=purchase.pk, actor=actor, is_locked=True)

    def test_the_lock_time_comes_from_the_environment(self, monkeypatch):
        import importlib

        from inventory_site import settings as site_settings

        monkeypatch.setenv("PURCHASING_LOCK_SECONDS", "42")
        try:
            assert importlib.reload(site_settings).PURCHASING_LOCK_SECONDS == 42
        finally:
            monkeypatch.delenv("PURCHASING_LOCK_SECONDS")
            importlib.reload(site_settings)
        assert site_settings.PURCHASING_LOCK_SECONDS == 600


CLAIMERS = 8
PURCHASES = 60


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_claimers_take_disjoint_purchases():
    """Eight workers claim in a loop, at once: every purchase is taken exactly once."""
    for _ in range(PURCHASES):
        PurchasingFactory()
    start = threading.Barrier(CLAIMERS)
    taken: dict[str, list[int]] = {}
    errors: list[BaseException] = []

    def claimer(index: int) -> None:
        name = f"worker-{index}"
        mine: list[int] = []
        try:
            start.wait()
            while claimed := purchase_claim(worker=name, limit=3):
                mine.extend(p.pk for p in claimed)
        except BaseException as exc:
            errors.append(exc)
        finally:
            taken[name] = mine
            connection.close()

    threads = [threading.Thread(target=claimer, args=(n,)) for n in range(CLAIMERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a claimer hung"
    assert errors == []
    every = [pk for mine in taken.values() for pk in mine]
    assert sorted(every) == sorted(Purchasing.objects.values_list("pk", flat=True))
    assert len(every) == len(set(every)) == PURCHASES
    # Each row is locked by the worker that took it.
    holders = dict(Purchasing.objects.values_list("pk", "locked_by_worker"))
    for name, mine in taken.items():
        assert {holders[pk] for pk in mine} <= {name}
    # More than one worker got work (skip-locked, not one worker serializing the rest).
    assert sum(1 for mine in taken.values() if mine) > 1
