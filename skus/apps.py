from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SkusConfig(AppConfig):
    name = "skus"
    verbose_name = _("SKUs")
