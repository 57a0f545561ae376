"""API tokens: knox's hashed, expiring tokens, each with a name its owner gives it."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _
from knox.models import AbstractAuthToken


class ApiToken(AbstractAuthToken):
    """A user's API token. Only a SHA-512 digest is stored; the token itself is shown once,
    when it is created. ``token_key`` (its first 15 characters) names it in lists."""

    name = models.CharField(_("name"), max_length=100, blank=True, default="")
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)

    class Meta:
        db_table = "api_token"
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self) -> str:
        return f"{self.token_key}… ({self.user})"
