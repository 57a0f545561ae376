"""Who did something, and from where: the subject of every audit entry."""

from dataclasses import dataclass
from ipaddress import ip_address

from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str | None:
    """The peer address of the request (a proxy in front must set REMOTE_ADDR)."""
    raw = (request.META.get("REMOTE_ADDR") or "").strip()
    try:
        return str(ip_address(raw))
    except ValueError:
        return None


@dataclass(frozen=True)
class Actor:
    """A staff user (with the client's IP) or a named system process."""

    username: str
    ip: str | None = None
    is_system: bool = False

    @classmethod
    def from_request(cls, request: HttpRequest) -> "Actor":
        user = getattr(request, "user", None)
        name = user.get_username() if user is not None and user.is_authenticated else "anonymous"
        return cls(username=name[:100], ip=client_ip(request))

    @classmethod
    def system(cls, name: str = "system") -> "Actor":
        return cls(username=name[:100], is_system=True)

    @classmethod
    def cli(cls, name: str = "manage.py") -> "Actor":
        """A staff action run from the shell (a management command)."""
        return cls(username=name[:100])
