"""Schemathesis runs the whole committed schema against the WSGI app in-process:
generated requests for every operation (valid and invalid), as an admin with a token.
No 5xx, every answer as the schema says, and no answer that shows a store's secret."""

from __future__ import annotations

import os

import pytest
import schemathesis
from django.conf import settings
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from schemathesis.checks import CheckContext, not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from events.actors import Actor
from skus.services import sku_create
from stores.services import store_create

from .conftest import client_for, make_user

SECRETS = ("SP999_schemathesis_service_secret", "SL999_schemathesis_licence", "fs-secret-xyz")

schema = schemathesis.openapi.from_path(settings.BASE_DIR / "api" / "openapi.yaml")
schema.app = get_wsgi_application()

pytestmark = [pytest.mark.django_db]


@schemathesis.check
def no_secret_shown(ctx: CheckContext, response, case) -> bool | None:
    body = response.text
    for secret in SECRETS:
        if secret in body:
            raise AssertionError(f"{case.method} {case.path} shows a secret")
    return None


@pytest.fixture
def keep_connection():
    """The WSGI handler closes the database connection after each request; in a test that
    would end the test's transaction (Django's own test client does the same as this)."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def token(world, settings, keep_connection) -> str:
    settings.INVENTORY_TEST_MODE = True
    actor = Actor.cli("test")
    store_create(
        store_id="rms-secret",
        store_name="RMS",
        credentials={"service_secret": SECRETS[0], "license_key": SECRETS[1]},
        actor=actor,
    )
    store_create(
        store_id="fs-secret",
        store_name="futureshop",
        platform_type="futureshop",
        credentials={"api_domain": "api.x.future-shop.jp", "client_secret": SECRETS[2]},
        actor=actor,
    )
    sku_create(sku_id="Schema-1", sku_name="schema", initial_stock=3, actor=actor)
    boss = make_user(None, "boss")
    boss.is_superuser = True
    boss.save()
    client = client_for(boss)
    return client._credentials["HTTP_AUTHORIZATION"]


# `make test` runs the same examples every time (a red build is then a real change, and it
# reproduces); API_FUZZ_RANDOM=1 explores new ones, API_FUZZ_EXAMPLES more per operation.
@schema.parametrize()
@hypothesis_settings(
    max_examples=int(os.environ.get("API_FUZZ_EXAMPLES", "25")),
    derandomize=os.environ.get("API_FUZZ_RANDOM") != "1",
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_every_operation_answers_as_its_schema_says(
    case, token, django_capture_on_commit_callbacks
):
    response = case.call(headers={"Authorization": token})
    case.validate_response(
        response,
        checks=[
            not_a_server_error,
            status_code_conformance,
            content_type_conformance,
            response_schema_conformance,
            no_secret_shown,
        ],
    )
