import pytest

from .helpers import staff


@pytest.fixture
def importer(client):
    """A client logged in as "imp", who may import and read SKUs."""
    client.force_login(staff("imp", "imports.add_uploadedfile", "skus.view_sku"))
    return client
