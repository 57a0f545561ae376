from django.urls import path

from . import views

app_name = "purchasing"
urlpatterns = [
    path("", views.purchase_list, name="list"),
    path("<int:purchase_id>/", views.purchase_detail, name="detail"),
    path("<int:purchase_id>/arrive/", views.purchase_items_arrive, name="arrive"),
    path(
        "<int:purchase_id>/items/<int:item_id>/status/",
        views.purchase_item_status,
        name="item_status",
    ),
]
