"""/api/aggregation/purchasing/: spec 001's Purchasing API (api.views.purchasing), paths
with the trailing slash as the spec writes them."""

from django.urls import path, re_path
from django.views.decorators.csrf import csrf_exempt

from .base import not_found
from .views import purchasing

urlpatterns = [
    path("", purchasing.PurchaseList.as_view(), name="purchasings"),
    path("claim/", purchasing.PurchaseClaim.as_view(), name="purchasing_claim"),
    path("items/arrived/", purchasing.ItemsArrived.as_view(), name="purchasing_items_arrived"),
    path("items/<id:item_id>/", purchasing.ItemDetail.as_view(), name="purchasing_item"),
    path("<id:pk>/", purchasing.PurchaseDetail.as_view(), name="purchasing"),
    path("<id:pk>/release/", purchasing.PurchaseRelease.as_view(), name="purchasing_release"),
    path("<id:pk>/items/", purchasing.PurchaseItems.as_view(), name="purchasing_items"),
    # Any other path here (a PATCH to a non-numeric id too): the API's JSON 404, not the
    # CSRF page a browser session's cookie would get from the catch-all's middleware.
    re_path(r"^[\s\S]*$", csrf_exempt(not_found)),
]
