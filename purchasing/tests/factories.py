"""Purchases, items and accounts made through the services, as the app makes them."""

import factory

from events.actors import Actor
from purchasing.models import InventoryItem, OfficialAccount, Purchasing
from purchasing.services import item_add, official_account_create, purchase_create

FACTORY_ACTOR = Actor.system("factory")


class OfficialAccountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OfficialAccount

    account_id = factory.Sequence(lambda n: f"ACC{n:04d}")
    email = factory.Sequence(lambda n: f"buyer{n}@example.com")
    name = "张三"

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        return official_account_create(actor=FACTORY_ACTOR, **kwargs)


class PurchasingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Purchasing

    order_number = factory.Sequence(lambda n: f"ORD2025011{n:04d}")

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        return purchase_create(actor=FACTORY_ACTOR, **kwargs)


class InventoryItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = InventoryItem

    purchase = factory.SubFactory(PurchasingFactory)
    flag = factory.Sequence(lambda n: f"FLAG{n:03d}")

    @classmethod
    def _create(cls, model_class, *args, purchase, **kwargs):
        return item_add(purchase_id=purchase.pk, actor=FACTORY_ACTOR, **kwargs)
