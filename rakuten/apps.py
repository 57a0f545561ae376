from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RakutenConfig(AppConfig):
    name = "rakuten"
    verbose_name = _("Rakuten RMS")
