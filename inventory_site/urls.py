from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from events.urls import urlpatterns as ledger_reports
from inventory_site.health import healthz
from sync import views as sync_views

# /reports/: the ledger's reports (events) and the engine's (sync), under one namespace.
reports = [
    *ledger_reports,
    path("reconcile/", sync_views.reconcile_report, name="reconcile"),
    path("failed/", sync_views.failed_syncs, name="failed"),
    path("failed/retry/", sync_views.failed_retry_view, name="failed_retry"),
    path("quarantine/", sync_views.quarantine_list, name="quarantine"),
    path("quarantine/act/", sync_views.quarantine_act, name="quarantine_act"),
]

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="sync:dashboard", permanent=False)),
    path("dashboard/", include("sync.urls")),
    path("skus/", include("skus.urls")),
    path("reports/", include((reports, "reports"))),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("imports/", include("imports.urls")),
    path("api/", include("api.urls")),
    path("purchasing/", include("purchasing.urls")),
    path("ebay/", include("ebay.urls")),
    # For a load balancer or an uptime monitor: no login, 200 or 503 with a JSON report.
    path("healthz", healthz, name="healthz"),
]
