"""What can go wrong talking to a platform, the same for every platform.

Each platform's client raises its own errors (``RmsError``, …) that subclass
these, so the engine treats a 401, a 429, a 5xx or a timeout alike whatever the
store: an auth error stops the run and is never retried by the engine; a busy or
unreachable platform puts the work back with backoff (honouring ``retry_after``);
a bad request refuses rows, which fail alone.
"""

from __future__ import annotations

import http.client
import ssl
from urllib.parse import urlsplit

import requests
from urllib3.exceptions import NewConnectionError


class PlatformError(Exception):
    """Anything that went wrong talking to a platform."""

    retryable = False
    retry_after: float | None = None


class PlatformAuthError(PlatformError):
    """The platform refused the store's credentials (or they are missing or expired)."""


class PlatformBadRequest(PlatformError):
    """The platform refused the request; sending it again will not help."""


class PlatformBusy(PlatformError):
    """Rate-limited or temporarily unavailable: try again after ``retry_after`` seconds."""

    retryable = True


class PlatformServerError(PlatformBusy):
    """A 5xx answer or a dropped connection."""


class PlatformTimeout(PlatformBusy):
    """No answer in time: the platform may or may not have applied the request."""


class PlatformMalformed(PlatformError):
    """The platform answered something that is not its documented shape."""


class PlatformNotConfigured(PlatformError):
    """No adapter is registered for the store's platform, or the store lacks settings."""


def connection_failure(exc: requests.RequestException, url: str) -> str:
    """What a failed connection says, read from the socket error under requests' exception:
    "could not connect to http://127.0.0.1:8765/: connection refused", or "connection
    failed: connection reset by peer (https://…/)" once connected. Never the exception's own
    text: it holds the URL, and a URL's query may hold a secret (RMS's licence key travels in
    one, an OAuth callback's code in another). Shared by every platform's client."""
    parts = urlsplit(url)
    origin = f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}/"
    connecting, reason = False, type(exc).__name__
    causes: list[BaseException | None] = [exc]
    seen: set[int] = set()
    while causes:
        cause = causes.pop(0)
        if cause is None or id(cause) in seen:
            continue
        seen.add(id(cause))
        connecting = connecting or isinstance(cause, NewConnectionError)
        if isinstance(cause, ssl.SSLError):
            reason = f"TLS error ({cause.reason or type(cause).__name__})"
            break
        if isinstance(cause, OSError) and cause.strerror:
            reason = cause.strerror.lower()
            break
        if isinstance(cause, http.client.HTTPException):
            reason = str(cause).lower() or type(cause).__name__
            break
        args = [arg for arg in cause.args if isinstance(arg, BaseException)]
        causes += [cause.__cause__, cause.__context__, getattr(cause, "reason", None), *args]
    if connecting:
        return f"could not connect to {origin}: {reason}"
    return f"connection failed: {reason} ({origin})"
