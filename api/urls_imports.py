"""/api/import/: upload a CSV for a preview, then confirm it (api.views.imports)."""

from django.urls import path

from .views import imports

urlpatterns = [
    path("preview", imports.ImportPreview.as_view(), name="import_preview"),
    path("confirm", imports.ImportConfirm.as_view(), name="import_confirm"),
    path("<uuid:file_id>", imports.ImportDetail.as_view(), name="import"),
]
