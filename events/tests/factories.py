import factory

from events.models import EventSource, EventType, InventoryEvent
from events.services import event_record


class EventFactory(factory.django.DjangoModelFactory):
    """Events recorded through the ledger service, never inserted raw."""

    class Meta:
        model = InventoryEvent

    sku = factory.SubFactory("skus.tests.factories.SkuFactory")
    quantity = 5
    event_type = EventType.MANUAL_ADJUSTMENT
    source = EventSource.MANUAL
    operator = "factory"

    @classmethod
    def _create(cls, model_class, *args, sku, **kwargs):
        return event_record(sku_id=sku.sku_id, **kwargs)
