"""The OpenAPI schema: committed (api/openapi.yaml), and the code's must be the same. After
changing the API, regenerate it with `make schema` and commit the file."""

from __future__ import annotations

import io

import pytest
from django.conf import settings
from django.core.management import call_command

COMMITTED = settings.BASE_DIR / "api" / "openapi.yaml"

pytestmark = pytest.mark.django_db


def test_the_committed_schema_is_the_codes(settings):
    settings.LANGUAGE_CODE = "en-us"
    out = io.StringIO()
    call_command("spectacular", "--validate", "--fail-on-warn", stdout=out)
    assert out.getvalue() == COMMITTED.read_text(encoding="utf-8"), (
        "api/openapi.yaml is not the code's schema: run `make schema` and commit it"
    )


def test_the_schema_and_docs_need_a_staff_login(world):
    from rest_framework.test import APIClient

    for url in ("/api/schema/", "/api/docs/", "/api/redoc/"):
        assert APIClient().get(url).status_code == 401, url


def test_the_schema_and_docs_are_served_without_a_cdn_or_inline_script(admin):
    schema = admin.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert schema.status_code == 200
    assert "/api/events/manual" in schema.json()["paths"]
    docs = admin.get("/api/docs/")
    assert docs.status_code == 200
    html = docs.content.decode()
    assert "swagger-ui" in html
    assert "cdn." not in html
    assert "unpkg" not in html
    assert "jsdelivr" not in html
    assert "<script>" not in html  # the Content-Security-Policy allows no inline script
    redoc = admin.get("/api/redoc/").content.decode()
    assert "redoc" in redoc.lower()
    assert "cdn." not in redoc
    assert "<script>" not in redoc
