"""/api/aggregation/purchasing/: spec 001's Purchasing API (api.views.purchasing)."""

urlpatterns: list = []
