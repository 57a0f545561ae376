"""What every page's header needs to know."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest


def modes(request: HttpRequest) -> dict[str, bool]:
    """Test mode shows a banner and the test-reset link."""
    return {"test_mode": bool(getattr(settings, "INVENTORY_TEST_MODE", False))}
