from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FutureshopConfig(AppConfig):
    name = "futureshop"
    verbose_name = _("futureshop")
