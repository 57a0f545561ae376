import pytest
from django.db import connection

from events.actors import Actor


@pytest.fixture(scope="module")
def browser():
    """Chromium for the browser tests of one module (inventory_site/tests/browser.py)."""
    from inventory_site.tests.browser import chromium

    with chromium() as browser:
        yield browser


@pytest.fixture
def actor() -> Actor:
    return Actor(username="alice", ip="192.0.2.10")


@pytest.fixture
def system_actor() -> Actor:
    return Actor.system("tests")


def pytest_collection_modifyitems(config, items):
    """Tests marked ``postgres`` run only against PostgreSQL (CI runs both)."""
    if connection.vendor == "postgresql":
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL: set DATABASE_URL (CI does)")
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)
