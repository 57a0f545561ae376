"""API tokens: knox's hashed, expiring tokens, each with a name its owner gives it."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from knox.models import AbstractAuthToken
from knox.settings import CONSTANTS


class ApiToken(AbstractAuthToken):
    """A user's API token. Only a SHA-512 digest is stored; the token itself is shown once,
    when it is created. ``token_key`` (its first 15 characters) names it in lists."""

    # knox's fields, as knox declares them, with names the admin can translate (only the
    # verbose names differ: the columns stay knox's).
    digest = models.CharField(_("digest"), max_length=CONSTANTS.DIGEST_LENGTH, primary_key=True)
    token_key = models.CharField(
        _("token key"),
        max_length=CONSTANTS.MAXIMUM_TOKEN_PREFIX_LENGTH + CONSTANTS.TOKEN_KEY_LENGTH,
        db_index=True,
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=False,
        blank=False,
        related_name="auth_token_set",
        on_delete=models.CASCADE,
        verbose_name=_("user"),
    )
    created = models.DateTimeField(_("created"), auto_now_add=True)
    expiry = models.DateTimeField(_("expiry"), null=True, blank=True)
    name = models.CharField(_("name"), max_length=100, blank=True, default="")
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)

    class Meta:
        db_table = "api_token"
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self) -> str:
        return f"{self.token_key}… ({self.user})"
