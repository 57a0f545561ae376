import factory

from events.actors import Actor
from skus.models import Sku
from skus.services import sku_create


class SkuFactory(factory.django.DjangoModelFactory):
    """SKUs made through the service, so each has its snapshot."""

    class Meta:
        model = Sku

    sku_id = factory.Sequence(lambda n: f"Item-{n:05d}")
    sku_name = factory.Faker("sentence", nb_words=3)
    environment = Sku.Environment.PROD
    allow_oversell = False

    @classmethod
    def _create(cls, model_class, *args, initial_stock=None, **kwargs):
        return sku_create(actor=Actor.system("factory"), initial_stock=initial_stock, **kwargs)
