from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PurchasingConfig(AppConfig):
    name = "purchasing"
    verbose_name = _("Purchasing")

    def ready(self) -> None:
        # The SKU page shows incoming units through skus' registry (skus may not import us).
        from skus.panels import sku_panel_register

        from .views import incoming_panel

        sku_panel_register(incoming_panel)
