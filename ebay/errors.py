"""Typed errors of the eBay client. Messages never carry tokens, secrets or codes."""

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
class EbayErrorDetail:
    """One error eBay reported (``errors[]`` of the Sell APIs, or OAuth's ``error``)."""

    error_id: str
    message: str

    def __str__(self) -> str:
        return f"{self.error_id}: {self.message}" if self.error_id else self.message


class EbayError(PlatformError):
    """Anything that went wrong talking to eBay."""

    retryable = False

    def __init__(
        self,
        message: str,
        *,
        endpoint: str = "",
        status: int | None = None,
        details: list[EbayErrorDetail] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.endpoint = endpoint
        self.status = status
        self.details = details or []

    @property
    def codes(self) -> list[str]:
        return [detail.error_id for detail in self.details]

    def __str__(self) -> str:
        head = f"{self.endpoint}: " if self.endpoint else ""
        status = f" (HTTP {self.status})" if self.status else ""
        extra = "; ".join(str(detail) for detail in self.details)
        return f"{head}{self.message}{status}" + (f" [{extra}]" if extra else "")


class EbayRequestInvalid(EbayError, PlatformBadRequest, ValueError):
    """Refused by the client before any call: eBay would refuse it too."""


class EbayAuthError(EbayError, PlatformAuthError):
    """eBay refused the app keys or the seller's tokens. ``reconnect``: the refresh token is
    gone (refused, revoked, expired, or never given): the seller must consent again."""

    def __init__(self, message: str, *, reconnect: bool = False, **kwargs) -> None:
        super().__init__(message, **kwargs)
        self.reconnect = reconnect


class EbayBadRequest(EbayError, PlatformBadRequest):
    """eBay refused the request; sending it again will not help."""


class EbayNotFound(EbayBadRequest):
    """404: the path or the object does not exist."""


class EbayBusy(EbayError, PlatformBusy):
    """429: wait ``retry_after`` seconds (when eBay said) and try again."""

    retryable = True

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class EbayServerError(EbayError, PlatformServerError):
    """5xx or a dropped connection."""

    retryable = True


class EbayTimeout(EbayError, PlatformTimeout):
    """No answer in time: eBay may or may not have applied the request."""

    retryable = True


class EbayMalformed(EbayError, PlatformMalformed):
    """eBay answered something that is not its documented shape."""
