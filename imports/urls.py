from django.urls import path

from . import views

app_name = "imports"
urlpatterns = [
    path("", views.upload, name="upload"),
    path("template.csv", views.template, name="template"),
    path("export.csv", views.export, name="export"),
    path("<uuid:file_id>/", views.preview, name="preview"),
    path("<uuid:file_id>/confirm/", views.confirm, name="confirm"),
    path("<uuid:file_id>/cancel/", views.cancel, name="cancel"),
]
