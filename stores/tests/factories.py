import factory

from events.actors import Actor
from stores.models import Store, StoreSku
from stores.services import store_create
from sync.registrations import store_sku_register


class StoreFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Store

    store_id = factory.Sequence(lambda n: f"store-{n}")
    store_name = factory.Sequence(lambda n: f"Store {n}")
    api_config = factory.LazyAttribute(lambda o: {"shop_url": f"{o.store_id}.rakuten.co.jp"})
    credentials = factory.Sequence(
        lambda n: {"service_secret": f"SP{n:06d}_secretvalue", "license_key": f"SL{n:06d}_lic"}
    )

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        return store_create(actor=Actor.system("factory"), **kwargs)


class StoreSkuFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = StoreSku

    store = factory.SubFactory(StoreFactory)
    sku = factory.SubFactory("skus.tests.factories.SkuFactory")
    manage_number = factory.Sequence(lambda n: f"item{n}")
    variant_id = factory.LazyAttribute(lambda o: o.sku.original_sku)

    @classmethod
    def _create(cls, model_class, *args, store, sku, **kwargs):
        return store_sku_register(
            actor=Actor.system("factory"), store_id=store.store_id, sku_id=sku.sku_id, **kwargs
        )
