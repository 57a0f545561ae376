"""Login throttling, the Content-Security-Policy and HSTS."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.urls import reverse

from events.models import AuditLog

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.django_db


def login(client, username, password):
    return client.post(
        reverse("admin:login"), {"username": username, "password": password, "next": "/"}
    )


def test_repeated_failed_logins_lock_that_user_out_from_that_address(client, settings):
    User.objects.create_user("clerk", password="right-pass-1", is_staff=True)
    User.objects.create_user("other", password="other-pass-1", is_staff=True)
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert login(client, "clerk", "wrong").status_code == 200  # the form again
    assert login(client, "clerk", "wrong").status_code == 429  # the last one allowed
    locked = login(client, "clerk", "right-pass-1")  # even the right password now
    assert locked.status_code == 429
    assert "_auth_user_id" not in client.session
    assert AuditLog.objects.filter(action="login_failed").count() >= settings.AXES_FAILURE_LIMIT
    assert login(client, "other", "other-pass-1").status_code == 302  # others unaffected


def test_pages_send_a_content_security_policy_without_inline_scripts(client):
    client.force_login(User.objects.create_superuser("boss", password="pw"))
    response = client.get(reverse("sync:dashboard"))
    policy = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    assert "unsafe-inline" not in policy.split("script-src")[1].split(";")[0]
    assert "frame-ancestors 'none'" in policy
    page = response.content.decode()
    assert "onchange=" not in page
    assert "sync/language.js" in page  # the language switch, as an external script


def test_https_turns_on_hsts_and_the_redirect():
    def loaded(**env):
        clean = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_HTTPS")}
        code = (
            "import inventory_site.settings as s;"
            "print(getattr(s, 'SECURE_HSTS_SECONDS', 0), getattr(s, 'SECURE_SSL_REDIRECT', False))"
        )
        result = subprocess.run(  # noqa: S603 - our own settings module
            [sys.executable, "-c", code],
            cwd=ROOT,
            env={**clean, **env},
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        )
        return result.stdout.split()

    assert loaded(DJANGO_HTTPS="1") == ["31536000", "True"]
    assert loaded() == ["0", "False"]
