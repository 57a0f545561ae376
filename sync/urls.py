from django.urls import path

from . import live, views

app_name = "sync"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("stores/", views.store_list, name="stores"),
    path("stores/<str:store_id>/", views.store_detail, name="store"),
    path("stores/<str:store_id>/push-all/", views.store_push_all, name="push_all"),
    path("stores/<str:store_id>/auth-test/", views.store_auth, name="auth_test"),
    path("stores/<str:store_id>/poll/", views.store_poll, name="poll"),
    path("stores/<str:store_id>/sku-sync/", views.store_sku_sync, name="sku_sync"),
    # A POST from the reconciliation page: read back the store's stock now.
    path("stores/<str:store_id>/reconcile/", views.reconcile_now, name="reconcile_now"),
    path("runs/<int:run_id>/cancel/", views.run_cancel, name="run_cancel"),
    path("runs/<int:run_id>.json", views.run_progress, name="run_progress"),
    # The live log of a run: its page, its Server-Sent Events, and ?after=N as JSON.
    path("runs/<int:run_id>/", live.run_page, name="run"),
    path("runs/<int:run_id>/events/", live.run_stream, name="run_stream"),
    path("runs/<int:run_id>/events.json", live.run_events, name="run_events"),
    # A POST from the reconciliation page (/reports/reconcile/): queue a ledger check.
    path("ledger-check/", views.ledger_check_now, name="ledger_check"),
]
