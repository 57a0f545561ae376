"""The eBay binder refuses keys its table cannot hold whole, instead of cutting them."""

from __future__ import annotations

import pytest

from ebay.adapter import MARKETPLACE_MAX, MSG_MARKETPLACE_TOO_LONG, EbayBinder
from ebay.models import EbayBinding
from events.actors import Actor
from skus.services import sku_create
from stores.models import StoreSku
from stores.services import store_create
from sync.adapters import BindingInvalid
from sync.registrations import RegistrationInvalid, store_sku_register

ACTOR = Actor.cli("test")


def test_a_marketplace_id_at_the_limit_is_kept_whole():
    marketplace = "EBAY_" + "X" * (MARKETPLACE_MAX - 5)
    cleaned = EbayBinder().clean({"ebay_sku": "Mug-1", "marketplace_id": f" {marketplace} "})
    assert cleaned["marketplace_id"] == marketplace


def test_a_longer_marketplace_id_is_refused_not_cut():
    marketplace = "EBAY_" + "X" * (MARKETPLACE_MAX - 4)
    with pytest.raises(BindingInvalid) as caught:
        EbayBinder().clean({"ebay_sku": "Mug-1", "marketplace_id": marketplace})
    assert str(caught.value) == str(
        MSG_MARKETPLACE_TOO_LONG % {"value": marketplace, "limit": MARKETPLACE_MAX}
    )
    assert "longer than 32 characters" in str(caught.value)


@pytest.mark.django_db
def test_registering_with_a_too_long_marketplace_writes_nothing():
    store_create(store_id="eb", store_name="eBay shop", platform_type="ebay", actor=ACTOR)
    sku_create(sku_id="Mug-1", sku_name="Mug", initial_stock=1, actor=ACTOR)
    with pytest.raises(RegistrationInvalid, match="longer than 32 characters"):
        store_sku_register(
            store_id="eb",
            sku_id="mug-1",
            ebay_sku="Mug-1",
            marketplace_id="EBAY_" + "X" * 40,
            actor=ACTOR,
        )
    assert not StoreSku.objects.filter(store_id="eb").exists()
    assert not EbayBinding.objects.exists()
