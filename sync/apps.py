from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class SyncConfig(AppConfig):
    name = "sync"
    verbose_name = _("Sync engine")

    def ready(self) -> None:
        from stores.allocation import platform_maximum_register

        from .registry import platforms
        from .schedules import schedules_ensure

        post_migrate.connect(schedules_ensure, sender=self, dispatch_uid="sync-schedules")
        for platform, adapter in platforms().items():
            platform_maximum_register(platform, adapter.quantity_max)
