"""Typed errors of the RMS client. Messages never carry credentials."""

from __future__ import annotations

from dataclasses import dataclass

from sync.errors import (
    PlatformAuthError,
    PlatformBadRequest,
    PlatformBusy,
    PlatformError,
    PlatformMalformed,
    PlatformNotConfigured,
    PlatformServerError,
    PlatformTimeout,
)


@dataclass(frozen=True, slots=True)
class RmsErrorDetail:
    """One error RMS reported, with the request row it concerns when it names one."""

    code: str
    message: str
    property_path: str | None = None
    # Index into the request's list ("inventories[3].quantity" -> 3).
    row: int | None = None
    # The order number an order-API message concerns.
    order_number: str | None = None

    def __str__(self) -> str:
        where = f" at {self.property_path}" if self.property_path else ""
        return f"{self.code}: {self.message}{where}"


class RmsError(PlatformError):
    """Anything that went wrong talking to RMS."""

    retryable = False

    def __init__(
        self,
        message: str,
        *,
        endpoint: str = "",
        status: int | None = None,
        details: list[RmsErrorDetail] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.endpoint = endpoint
        self.status = status
        self.details = details or []
        # For a multi-batch write: how many rows were sent before the failing batch.
        self.applied: int | None = None

    @property
    def codes(self) -> list[str]:
        return [detail.code for detail in self.details]

    def __str__(self) -> str:
        head = f"{self.endpoint}: " if self.endpoint else ""
        status = f" (HTTP {self.status})" if self.status else ""
        extra = "; ".join(str(detail) for detail in self.details)
        return f"{head}{self.message}{status}" + (f" [{extra}]" if extra else "")


class RmsNotConfigured(RmsError, PlatformNotConfigured):
    """The store cannot be called as it is set up (its API address is not RMS's)."""


class RmsRequestInvalid(RmsError, PlatformBadRequest, ValueError):
    """Refused by the client before any call: RMS would refuse it too."""


class RmsAuthError(RmsError, PlatformAuthError):
    """401/403: bad credentials, an API function not enabled, or an expired licence key."""

    @property
    def license_expired(self) -> bool:
        return "GA0001" in self.codes


class RmsBadRequest(RmsError, PlatformBadRequest):
    """400-class answer: RMS refused the request; retrying will not help."""


class RmsNotFound(RmsBadRequest):
    """404: the path or the object does not exist."""


class RmsRateLimited(RmsError, PlatformBusy):
    retryable = True

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class RmsServerError(RmsError, PlatformServerError):
    """5xx, a 409 "busy, retry later" (CE0001) or a dropped connection."""

    retryable = True


class RmsTimeout(RmsError, PlatformTimeout):
    retryable = True


class RmsMalformedResponse(RmsError, PlatformMalformed):
    """RMS answered something that is not the documented shape."""
