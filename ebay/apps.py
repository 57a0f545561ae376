from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EbayConfig(AppConfig):
    name = "ebay"
    verbose_name = _("eBay")
