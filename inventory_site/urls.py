from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="rakuten:dashboard", permanent=False)),
    path("dashboard/", include("rakuten.urls")),
    path("skus/", include("skus.urls")),
    path("reports/", include("events.urls")),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("imports/", include("imports.urls")),
]
