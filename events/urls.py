from django.urls import path

from . import views

app_name = "reports"
urlpatterns = [
    path("audit/", views.audit_log, name="audit"),
    path("oversell/", views.oversell_report, name="oversell"),
    path("reconcile/", views.reconcile_report, name="reconcile"),
    path("failed/", views.failed_syncs, name="failed"),
    path("failed/retry/", views.failed_retry_view, name="failed_retry"),
    path("test-reset/", views.test_reset, name="test_reset"),
]
