"""`manage.py test_credentials` against the RMS sandbox: every store tested, the result kept
for the dashboard (the demo runs it once its sandboxes are up)."""

import io

import pytest
from django.core.management import call_command

from stores.models import Store

pytestmark = pytest.mark.django_db


def test_every_store_accepted_is_reported_and_kept(engine):
    out = io.StringIO()
    call_command("test_credentials", stdout=out)
    lines = sorted(out.getvalue().splitlines())
    assert [line.split(":")[0:2] for line in lines] == [
        ["store-a", " accepted"],
        ["store-b", " accepted"],
        ["store-c", " accepted"],
    ]
    assert set(Store.objects.values_list("last_auth_error", flat=True)) == {""}
    assert not Store.objects.filter(last_auth_test_at__isnull=True).exists()
