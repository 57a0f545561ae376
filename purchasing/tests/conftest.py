import pytest

from skus.tests.factories import SkuFactory


@pytest.fixture
def sku():
    """A SKU holding 10 units."""
    return SkuFactory(sku_id="iPhone-15-Blue", initial_stock=10)


@pytest.fixture
def other_sku():
    return SkuFactory(sku_id="iPad-Air", initial_stock=0)
