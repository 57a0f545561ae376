"""How the eBay sandbox says no: eBay's error shapes, ids and messages.

The Sell APIs answer `{"errors": [{errorId, domain, subdomain, category, message, longMessage,
parameters}]}`; the ids and messages of the Inventory and Fulfillment APIs are those of eBay's
OpenAPI documents (their `x-response-codes`), the OAuth ones those of eBay's token endpoint.
Where eBay publishes nothing the sandbox's choice is marked "sandbox".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sync.sandbox.errors import ApiError
from sync.sandbox.faults import Fault

# What a "malformed" fault answers with 200: a page of inventory items cut off in the middle.
MALFORMED_BODY = b'{"href": "/sell/inventory/v1/inventory_item", "inventoryItems": [{"sku": "CE1'

INVENTORY = "API_INVENTORY"
FULFILLMENT = "API_FULFILLMENT"
ACCESS = "ACCESS"
REQUEST = "REQUEST"
APPLICATION = "APPLICATION"

# --- the gateway's errors (every Sell API) -------------------------------------------------
MSG_1001 = "Invalid access token"
LONG_1001 = "Invalid access token. Check the value of the Authorization HTTP request header."
MSG_1002 = "Missing access token"
LONG_1002 = "Access token is missing in the Authorization HTTP request header."
MSG_ACCESS_DENIED = "Access denied"
LONG_ACCESS_DENIED = "Insufficient permissions to fulfill the request."
MSG_TOO_MANY = "Too many requests. The request limit has been reached for the resource."
MSG_INVALID_REQUEST = "Invalid request"
LONG_INVALID_REQUEST = "The request has errors. For help, see the documentation for this API."
MSG_INTERNAL = "Internal error"
LONG_INTERNAL = (
    "There was a problem with an eBay internal system or process. "
    "Contact eBay developer support for assistance."
)
MSG_NOT_FOUND = "Resource not found"  # sandbox: the id and text of an unknown path
LONG_NOT_FOUND = "The requested resource does not exist. Check the URI and the HTTP method."

# --- Sell Inventory v1 ---------------------------------------------------------------------
MSG_SYSTEM = "A system error has occurred."
MSG_USER = "A user error has occurred."
MSG_SKU_INVALID = (
    "This is an invalid value for a SKU.  Only alphanumeric characters can be used for SKUs, "
    "and their length must not exceed 50 characters."
)
MSG_NOT_FOUND_ENTITY = (
    "We didn't find the resource/entity you are requesting. Please verify the request"
)
MSG_AUCTION_ALLOCATION = (
    "shipToLocationAvailability quantity value should be greater than or equal to auction "
    "allocation. Please provide valid quantity or unpublish auction offers of the sku."
)
MSG_CONCURRENT = (
    "Concurrent access of the same Inventory or Inventory Item Group object is not allowed. "
    "Please try again later."
)
MSG_SKU_UNIQUE = "SKU should be unique in the request."
# sandbox: eBay documents the 250-a-day limit but not the error it answers past it.
MSG_REVISION_LIMIT = (
    "A user error has occurred. The listing {listing_id} has reached the {budget} revisions "
    "eBay allows a listing in one calendar day; it can be revised again tomorrow."
)
MSG_CANNOT_REVISE = "Cannot revise listing. {detail}"

# --- Sell Fulfillment v1 -------------------------------------------------------------------
MSG_ORDER_SYSTEM = "System error"

# --- OAuth (identity/v1/oauth2/token) ------------------------------------------------------
OAUTH_INVALID_CLIENT = "client authentication failed"
OAUTH_INVALID_CODE = (
    "the provided authorization grant code is invalid or was issued to another client"
)
OAUTH_INVALID_REFRESH = (
    "the provided authorization refresh token is invalid or was issued to another client"
)
OAUTH_INVALID_SCOPE = (
    "The requested scope is invalid, unknown, malformed, or exceeds the scope granted to the client"
)
OAUTH_UNSUPPORTED_GRANT = "grant type in request is not supported by the authorization server"
OAUTH_INVALID_REQUEST = "request is missing a required parameter or malformed."
# The consent page's own refusals (auth.ebay.com answers these as a page, not a redirect).
CONSENT_UNKNOWN_CLIENT = "The OAuth client was not found."
CONSENT_BAD_REDIRECT = "Input request parameters are invalid."
CONSENT_BAD_RESPONSE_TYPE = "The authorization server does not support this response type."


@dataclass(frozen=True)
class Page:
    """An HTML answer (the consent page and its errors), not JSON."""

    html: str


@dataclass(frozen=True)
class Redirect:
    """A 302 to `location` (the consent's answer to the app)."""

    location: str


def error_entry(
    error_id: int,
    domain: str,
    category: str,
    message: str,
    long_message: str | None = None,
    parameters: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """One entry of an `errors` (or `warnings`) array, as eBay writes it."""
    entry: dict[str, Any] = {"errorId": error_id, "domain": domain}
    if domain in (INVENTORY, FULFILLMENT):
        entry["subdomain"] = "Selling"
    entry["category"] = category
    entry["message"] = message
    if long_message:
        entry["longMessage"] = long_message
    if parameters:
        entry["parameters"] = [{"name": k, "value": str(v)} for k, v in parameters.items()]
    return entry


def sell_error(status: int, *entries: dict[str, Any], **headers: str) -> ApiError:
    return ApiError(status, {"errors": list(entries)}, headers)


def inventory_error(
    status: int, error_id: int, message: str, parameters: dict[str, Any] | None = None
) -> ApiError:
    category = APPLICATION if status >= 500 else REQUEST
    return sell_error(status, error_entry(error_id, INVENTORY, category, message, None, parameters))


def fulfillment_error(
    status: int, error_id: int, message: str, parameters: dict[str, Any] | None = None
) -> ApiError:
    category = APPLICATION if status >= 500 else REQUEST
    entry = error_entry(error_id, FULFILLMENT, category, message, None, parameters)
    return sell_error(status, entry)


def invalid_token() -> ApiError:
    """An unknown, expired or revoked access token (eBay does not tell them apart)."""
    entry = error_entry(1001, "OAuth", REQUEST, MSG_1001, LONG_1001)
    return sell_error(401, entry)


def missing_token() -> ApiError:
    entry = error_entry(1002, "OAuth", REQUEST, MSG_1002, LONG_1002)
    return sell_error(401, entry)


def insufficient_scope() -> ApiError:
    entry = error_entry(1100, ACCESS, REQUEST, MSG_ACCESS_DENIED, LONG_ACCESS_DENIED)
    return sell_error(403, entry)


def too_many_requests(retry_after: float) -> ApiError:
    """A call over its rate limit or daily quota, and an injected "429" (also the token
    endpoint's: eBay answers its quota in the Sell APIs' shape)."""
    entry = error_entry(2001, ACCESS, REQUEST, MSG_TOO_MANY)
    return sell_error(429, entry, **{"Retry-After": f"{retry_after:g}"})


def invalid_request(reason: str) -> ApiError:
    """A body eBay cannot read: not JSON, or a field of the wrong type."""
    entry = error_entry(
        2004, ACCESS, REQUEST, MSG_INVALID_REQUEST, LONG_INVALID_REQUEST, {"reason": reason}
    )
    return sell_error(400, entry)


def not_serializable(field_path: str) -> ApiError:
    """A field of the wrong type, in eBay's words (its JSON binder refuses the whole body)."""
    return invalid_request(f"Could not serialize field [{field_path}]")


def internal_error(status: int = 500) -> ApiError:
    entry = error_entry(2003, ACCESS, APPLICATION, MSG_INTERNAL, LONG_INTERNAL)
    return sell_error(status, entry)


def resource_not_found(status: int = 404) -> ApiError:
    entry = error_entry(2002, ACCESS, REQUEST, MSG_NOT_FOUND, LONG_NOT_FOUND)
    return sell_error(status, entry)


def oauth_error(status: int, error: str, description: str) -> ApiError:
    return ApiError(status, {"error": error, "error_description": description})


def family(endpoint: str) -> str:
    """Which API an endpoint belongs to: "consent", "token", "inventory" or "fulfillment"."""
    if endpoint.startswith("consent"):
        return "consent"
    if endpoint == "token":
        return "token"
    if endpoint.startswith("order."):
        return "fulfillment"
    return "inventory"


def fault_error(fault: Fault) -> ApiError:
    """An injected fault as eBay would answer it on the faulted endpoint ("hang" and
    "malformed" never get here). `fault.endpoint` is the call's own endpoint (see
    `Sandbox.fault_take`), so a "*" fault still answers in the right API's shape."""
    api = family(fault.endpoint)
    if fault.kind == "429":
        return too_many_requests(fault.retry_after or 1)
    if api == "consent":
        status = 401 if fault.kind in ("401", "expired") else int(fault.kind)
        return ApiError(status, Page(f"<h1>{status}</h1><p>injected fault</p>"))
    if api == "token":
        match fault.kind:
            case "401" | "expired":
                return oauth_error(401, "invalid_client", OAUTH_INVALID_CLIENT)
            case "503":
                return oauth_error(503, "temporarily_unavailable", "service unavailable")
        return oauth_error(int(fault.kind), "server_error", "internal server error")
    match fault.kind:
        case "401" | "expired":
            return invalid_token()
        case "503":
            return internal_error(503)
        case "409" if api == "inventory":
            return inventory_error(409, 25025, MSG_CONCURRENT)
        case "500" if api == "inventory":
            return inventory_error(500, 25001, MSG_SYSTEM)
    return fulfillment_error(int(fault.kind), 30500, MSG_ORDER_SYSTEM)
