import datetime as dt
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from knox.settings import knox_settings

from api.models import ApiToken
from events.actors import Actor
from events.models import AuditAction
from events.services import audit_record


class Command(BaseCommand):
    help = "Create an API token for a staff user and print it (once: only its digest is kept)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--user", required=True, help="The staff user the token acts as.")
        parser.add_argument("--name", default="", help="What the token is for.")
        parser.add_argument(
            "--days", type=int, help="Days until it expires (default API_TOKEN_DAYS; 0: never)."
        )

    def handle(self, *args: Any, user: str, name: str, days: int | None, **options: Any) -> None:
        account = get_user_model().objects.filter(username=user, is_active=True).first()
        if account is None or not account.is_staff:
            raise CommandError(f"No active staff user {user!r}.")
        if days is not None and days < 0:
            raise CommandError("--days must be 0 (never) or more.")
        ttl = knox_settings.TOKEN_TTL if days is None else (dt.timedelta(days=days) or None)
        instance, token = ApiToken.objects.create(user=account, expiry=ttl, name=name[:100])
        audit_record(
            actor=Actor.cli(),
            action=AuditAction.TOKEN_CREATE,
            details={"token_key": instance.token_key, "name": instance.name, "user": user},
        )
        self.stdout.write(token)
