"""What a database and a queue made before the engine moved to sync/ still find."""

import datetime as dt

import pytest
from django.utils import timezone
from django_q.models import Schedule

from sync import tasks as engine_tasks
from sync.schedules import RENAMED, SCHEDULES, schedules_ensure

pytestmark = pytest.mark.django_db


def test_old_task_paths_still_run_the_engine_tasks():
    from django.utils.module_loading import import_string

    for name in ("poll_due", "poll_store", "push_due", "push_store", "push_run_task", "retry_now"):
        assert import_string(f"rakuten.tasks.{name}") is getattr(engine_tasks, name)
    assert import_string("rakuten.tasks.confirm_due")() == []  # nothing due, nothing queued


def test_schedules_made_under_rakuten_are_renamed_and_keep_their_next_run():
    Schedule.objects.all().delete()
    later = timezone.now() + dt.timedelta(hours=5)
    Schedule.objects.create(
        name="rakuten: nightly SKU sync",
        func="rakuten.tasks.sku_sync_all",
        schedule_type="D",
        next_run=later,
    )
    Schedule.objects.create(
        name="rakuten: push pending stock", func="rakuten.tasks.push_due", schedule_type="I"
    )
    Schedule.objects.create(
        name="sync: push pending stock", func="sync.tasks.push_due", schedule_type="I"
    )
    schedules_ensure()
    assert Schedule.objects.count() == len(SCHEDULES)
    assert not Schedule.objects.filter(name__in=RENAMED).exists()
    assert not Schedule.objects.filter(func__startswith="rakuten.").exists()
    nightly = Schedule.objects.get(name="sync: nightly SKU sync")
    assert (nightly.func, nightly.next_run) == ("sync.tasks.sku_sync_all", later)
    assert Schedule.objects.filter(name="sync: push pending stock").count() == 1
