"""Third-party apps under the names staff read in the admin's menu, in their language.

django-q2 names its section after ``Q_CLUSTER["label"]`` (a plain string, never
translated) and django-axes has no name but its label ("Axes"). An app's name in the admin
is its AppConfig's ``verbose_name``; Django's way to change it is a subclass listed in
INSTALLED_APPS instead of the app: "inventory_site.third_party_apps.TasksConfig" for
"django_q", "inventory_site.third_party_apps.LoginRecordsConfig" for "axes". Everything else
is the app's own, but for two columns of django-axes' list of login attempts that it leaves
without a name.
"""

from axes.apps import AppConfig as AxesConfig
from django.utils.translation import gettext_lazy as _
from django_q.apps import DjangoQConfig


class TasksConfig(DjangoQConfig):
    """django-q2: the background tasks and their schedules."""

    verbose_name = _("Tasks")


class LoginRecordsConfig(AxesConfig):
    """django-axes: failed logins and lockouts."""

    verbose_name = _("Login records")

    def ready(self) -> None:
        super().ready()
        # The admin registered axes' classes already (django.contrib.admin is ready first).
        from axes.admin import AccessAttemptAdmin
        from axes.models import AccessAttempt
        from django.contrib import admin

        class AccessAttemptNamedAdmin(AccessAttemptAdmin):
            """Axes' own, with names for its two computed columns (Django would show
            "Status" and "Expiration", in English, from the methods' names)."""

            @admin.display(description=_("status"))
            def status(self, obj: AccessAttempt) -> str:
                return super().status(obj)

            @admin.display(description=_("Expires At"))
            def expiration(self, obj: AccessAttempt) -> object:
                return super().expiration(obj)

        if admin.site.is_registered(AccessAttempt):
            admin.site.unregister(AccessAttempt)
            admin.site.register(AccessAttempt, AccessAttemptNamedAdmin)
