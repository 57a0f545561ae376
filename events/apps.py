from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EventsConfig(AppConfig):
    name = "events"
    verbose_name = _("Ledger and audit")

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from events import receivers

        post_migrate.connect(receivers.ensure_test_sku, sender=self, dispatch_uid="events.ce1111")
