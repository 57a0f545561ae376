"""Who may use the API: tokens (hashed, shown once, expiring, revocable), 401 and 403."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
from django.core.cache import cache
from django.utils import timezone
from rest_framework.test import APIClient

from api.models import ApiToken
from events.models import AuditLog

from .conftest import client_for, make_user

pytestmark = pytest.mark.django_db


def test_no_token_is_401_with_a_www_authenticate_header(world):
    response = APIClient().get("/api/skus")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"
    assert response.json()["code"] == "not_authenticated"


def test_a_wrong_or_expired_token_is_401(world):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token is_" + "x" * 64)
    assert client.get("/api/skus").status_code == 401
    user = make_user("viewer")
    instance, token = ApiToken.objects.create(user=user, expiry=dt.timedelta(days=1))
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert client.get("/api/skus").status_code == 200
    ApiToken.objects.filter(pk=instance.pk).update(expiry=timezone.now() - dt.timedelta(seconds=1))
    response = client.get("/api/skus")
    assert response.status_code == 401
    assert not ApiToken.objects.filter(pk=instance.pk).exists()  # knox drops expired tokens


def test_a_user_who_is_not_staff_cannot_use_a_token(world):
    client = client_for(make_user("viewer", "customer", staff=False))
    response = client.get("/api/skus")
    assert response.status_code == 401
    assert "may not use the API" in response.json()["detail"]


def test_a_staff_user_without_the_permission_gets_403(world):
    client = client_for(make_user(None, "nobody"))
    response = client.get("/api/skus")
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"


def test_a_token_is_shown_once_and_only_its_digest_is_kept(world):
    user = make_user("viewer")
    client = APIClient()
    client.force_authenticate(user)
    response = client.post("/api/tokens", {"name": "WMS", "expires_in_days": 30}, format="json")
    assert response.status_code == 201
    token = response.json()["token"]
    assert token.startswith("is_")
    stored = ApiToken.objects.get(user=user)
    assert stored.name == "WMS"
    assert stored.digest == hashlib.sha512(token.encode()).hexdigest()
    assert token not in str(list(ApiToken.objects.values()))
    assert 29 <= (stored.expiry - timezone.now()).days <= 30
    listed = client.get("/api/tokens").json()["results"]
    assert [row["token_key"] for row in listed] == [token[:15]]
    assert "token" not in listed[0]
    entry = AuditLog.objects.get(action="token.create")
    assert token not in str(entry.details)
    assert entry.user == user.username


def test_a_token_without_expiry_and_the_default_lifetime(world, settings):
    client = APIClient()
    client.force_authenticate(make_user("viewer"))
    forever = client.post("/api/tokens", {"expires_in_days": None}, format="json").json()
    assert forever["expiry"] is None
    default = client.post("/api/tokens", {}, format="json").json()
    days = (dt.datetime.fromisoformat(default["expiry"]) - timezone.now()).days
    assert days == settings.REST_KNOX["TOKEN_TTL"].days - 1


def test_users_revoke_their_own_tokens_and_admins_anyones(world):
    olivia, vera = make_user("operator", "olivia"), make_user("viewer", "vera")
    ApiToken.objects.create(user=vera, name="vera's")
    olivia_client = client_for(olivia)
    vera_key = ApiToken.objects.get(user=vera, name="vera's").token_key
    # Olivia neither sees nor revokes Vera's token.
    assert {row["user"] for row in olivia_client.get("/api/tokens").json()["results"]} == {"olivia"}
    assert olivia_client.delete(f"/api/tokens/{vera_key}").status_code == 404
    boss = make_user(None, "boss")
    boss.is_superuser = True
    boss.save()
    boss_client = client_for(boss)
    assert "vera" in {row["user"] for row in boss_client.get("/api/tokens").json()["results"]}
    assert boss_client.delete(f"/api/tokens/{vera_key}").status_code == 204
    assert not ApiToken.objects.filter(token_key=vera_key).exists()
    assert AuditLog.objects.filter(action="token.revoke").count() == 1


def test_a_revoked_token_stops_working_at_once(world):
    user = make_user("viewer")
    client = client_for(user)
    key = ApiToken.objects.get(user=user).token_key
    assert client.get("/api/skus").status_code == 200
    assert client.delete(f"/api/tokens/{key}").status_code == 204
    assert client.get("/api/skus").status_code == 401


def test_the_session_works_for_the_browsable_api_and_needs_csrf_for_writes(world):
    user = make_user("operator")
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(user)
    assert client.get("/api/skus").status_code == 200
    response = client.post(
        "/api/events/manual", {"sku_id": "mug-01", "quantity": 1, "reason": "x"}, format="json"
    )
    assert response.status_code == 403
    assert "CSRF" in response.json()["detail"]


def test_requests_are_throttled_per_token(world, settings):
    cache.clear()
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"api": "3/minute"},
    }
    first, second = client_for(make_user("viewer", "a")), client_for(make_user("viewer", "b"))
    assert [first.get("/api/skus").status_code for _ in range(4)] == [200, 200, 200, 429]
    assert second.get("/api/skus").status_code == 200  # its own allowance
    response = first.get("/api/skus")
    assert response.json()["code"] == "throttled"
    assert int(response["Retry-After"]) > 0
    cache.clear()


def test_the_command_prints_a_token_once_for_a_staff_user(world):
    import io

    from django.core.management import CommandError, call_command

    user = make_user("operator", "olivia")
    out = io.StringIO()
    call_command("api_token_create", user="olivia", name="WMS", days=0, stdout=out)
    token = out.getvalue().strip()
    stored = ApiToken.objects.get(user=user)
    assert (stored.name, stored.expiry) == ("WMS", None)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert client.get("/api/skus").status_code == 200
    make_user(None, "customer", staff=False)
    with pytest.raises(CommandError, match="No active staff user"):
        call_command("api_token_create", user="customer")
    with pytest.raises(CommandError, match="--days"):
        call_command("api_token_create", user="olivia", days=-1)


def test_admins_list_and_revoke_tokens_in_the_admin_and_never_see_one(world, client):
    boss = make_user(None, "boss")
    boss.is_superuser = True
    boss.save()
    user = make_user("viewer", "vera")
    instance, token = ApiToken.objects.create(user=user, name="WMS")
    client.force_login(boss)
    index = client.get("/admin/").content.decode()
    assert "/admin/api/apitoken/" in index
    assert "/admin/knox/" not in index  # knox's own model is replaced
    listing = client.get("/admin/api/apitoken/").content.decode()
    assert instance.token_key in listing
    assert token not in listing  # only its SHA-512 digest is kept (it is the row's key)
    assert client.get("/admin/api/apitoken/add/").status_code == 403
    response = client.post(
        f"/admin/api/apitoken/{instance.pk}/delete/", {"post": "yes"}, follow=True
    )
    assert response.status_code == 200
    assert not ApiToken.objects.filter(pk=instance.pk).exists()
    assert AuditLog.objects.filter(action="token.revoke").count() == 1
