"""EbayAdapter passes the adapter contract (sync/tests/contract.py) against the eBay sandbox
(ebay/sandbox/), over HTTP."""

import pytest

from sync.tests.contract import AdapterContract

pytestmark = pytest.mark.django_db


class TestEbayContract(AdapterContract):
    @pytest.fixture
    def world(self, ebay_world):
        return ebay_world
