from django.urls import path

from . import views

app_name = "ebay"

urlpatterns = [
    path("connect/<str:store_id>/", views.connect, name="connect"),
    path("callback/", views.callback, name="callback"),
    path("stores/<str:store_id>/read/<str:part>/", views.catalog, name="catalog"),
]
