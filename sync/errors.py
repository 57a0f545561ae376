"""What can go wrong talking to a platform, the same for every platform.

Each platform's client raises its own errors (``RmsError``, …) that subclass
these, so the engine treats a 401, a 429, a 5xx or a timeout alike whatever the
store: an auth error stops the run and is never retried by the engine; a busy or
unreachable platform puts the work back with backoff (honouring ``retry_after``);
a bad request refuses rows, which fail alone.
"""

from __future__ import annotations


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
