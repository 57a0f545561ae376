from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DemoConfig(AppConfig):
    """The demo data of `make demo`: stores of every platform, pointed at their sandboxes.
    It sits above every platform app, so it may use them all."""

    name = "demo"
    verbose_name = _("Demo data")
