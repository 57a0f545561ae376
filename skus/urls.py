from django.urls import path

from . import views

app_name = "skus"
urlpatterns = [
    path("", views.sku_list, name="list"),
    path("<str:sku_id>/", views.sku_detail, name="detail"),
]
