from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, User
from rest_framework.test import APIClient

from api.models import ApiToken
from events.actors import Actor
from inventory_site.permissions import groups_ensure
from skus.services import sku_create
from stores.services import store_create
from sync.registrations import store_sku_register


@pytest.fixture
def world(db, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"api": "10000/minute"},
    }
    groups_ensure()
    actor = Actor.cli("test")
    store_create(
        store_id="tokyo",
        store_name="Tokyo",
        credentials={"service_secret": "SP123456_verysecretvalue", "license_key": "SL1_key"},
        actor=actor,
    )
    sku_create(sku_id="Tshirt-RED-M", sku_name="T-shirt red M", initial_stock=25, actor=actor)
    sku_create(sku_id="Mug-01", sku_name="Mug", initial_stock=4, actor=actor)
    store_sku_register(
        store_id="tokyo",
        sku_id="Tshirt-RED-M",
        manage_number="tshirt-red",
        variant_id="Tshirt-RED-M",
        actor=actor,
    )


def make_user(group: str | None, name: str | None = None, *, staff: bool = True) -> User:
    user = User.objects.create_user(name or f"{group}-user", password="pw", is_staff=staff)
    if group:
        user.groups.add(Group.objects.get(name=group))
    return user


def client_for(user: User) -> APIClient:
    _instance, token = ApiToken.objects.create(user=user, name="test")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


@pytest.fixture
def viewer(world) -> APIClient:
    return client_for(make_user("viewer"))


@pytest.fixture
def operator(world) -> APIClient:
    return client_for(make_user("operator"))


@pytest.fixture
def admin(world) -> APIClient:
    return client_for(make_user("admin"))
