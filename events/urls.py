from django.urls import path

from . import views

app_name = "reports"
urlpatterns = [
    path("audit/", views.audit_log, name="audit"),
    path("oversell/", views.oversell_report, name="oversell"),
    path("test-reset/", views.test_reset, name="test_reset"),
]
