"""Typed errors of the futureshop client. Messages never carry credentials or tokens."""

from __future__ import annotations

from dataclasses import dataclass

from sync.errors import (
    PlatformAuthError,
    PlatformBadRequest,
    PlatformBusy,
    PlatformError,
    PlatformMalformed,
    PlatformServerError,
    PlatformTimeout,
)


@dataclass(frozen=True, slots=True)
class FutureshopErrorDetail:
    """One error futureshop reported (or the client found), with what it concerns."""

    code: str
    message: str
    path: str | None = None
    product_no: str | None = None
    # Index into the caller's list (the updates passed to inventory_update).
    row: int | None = None

    def __str__(self) -> str:
        where = f" at {self.path}" if self.path else ""
        product = f" (productNo {self.product_no})" if self.product_no else ""
        return f"{self.code}: {self.message}{where}{product}"


class FutureshopError(PlatformError):
    """Anything that went wrong talking to futureshop."""

    retryable = False

    def __init__(
        self,
        message: str,
        *,
        endpoint: str = "",
        status: int | None = None,
        details: list[FutureshopErrorDetail] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.endpoint = endpoint
        self.status = status
        self.details = details or []
        # For an update sent in several requests: the products of the requests that
        # futureshop answered before the failing one (their results, if any).
        self.applied: tuple[str, ...] = ()

    @property
    def codes(self) -> list[str]:
        return [detail.code for detail in self.details]

    def __str__(self) -> str:
        head = f"{self.endpoint}: " if self.endpoint else ""
        status = f" (HTTP {self.status})" if self.status else ""
        extra = "; ".join(str(detail) for detail in self.details)
        return f"{head}{self.message}{status}" + (f" [{extra}]" if extra else "")


class FutureshopRequestInvalid(FutureshopError, PlatformBadRequest, ValueError):
    """Refused by the client before any call: futureshop would refuse it too."""


class FutureshopAuthError(FutureshopError, PlatformAuthError):
    """401 after a fresh token, 403, or the token call refused: wrong client id/secret or
    shop key, or an outbound IP not registered with futureshop."""


class FutureshopBadRequest(FutureshopError, PlatformBadRequest):
    """futureshop refused the request (WrongFormat, TooMany, …); sending it again won't help."""


class FutureshopNotFound(FutureshopBadRequest):
    """404: the path or the object does not exist."""


class FutureshopBusy(FutureshopError, PlatformBusy):
    """429: wait `retry_after` seconds (when futureshop said) and try again."""

    retryable = True

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class FutureshopServerError(FutureshopError, PlatformServerError):
    """5xx or a dropped connection."""

    retryable = True


class FutureshopTimeout(FutureshopError, PlatformTimeout):
    """No answer in time: futureshop may or may not have applied the request."""

    retryable = True


class FutureshopMalformed(FutureshopError, PlatformMalformed):
    """futureshop answered something that is not its documented shape."""
