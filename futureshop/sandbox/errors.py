"""How the futureshop sandbox says no.

Only the inventory update's codes and messages are official (seed 003); the shapes of the
token, 401, 404, 429 and 5xx answers are not documented: they are this sandbox's choices
(marked "sandbox"), in the `{"status", "errors": [{code, path, message}]}` shape of spec 003
or, for OAuth, in RFC 6749/6750's shape.
"""

from __future__ import annotations

from typing import Any

from sync.sandbox.errors import ApiError
from sync.sandbox.faults import Fault

# What a "malformed" fault answers with 200: an inventory search cut off in the middle.
MALFORMED_BODY = b'{"productList": [{"productNo": "gd1", "inventoryInfo": {"regul'

# Spec 003's codes and messages (its "errors" and "results" tables).
MESSAGES = {
    "WrongFormat": "リクエストデータがjson形式ではありません",
    # The table says "エラーが発生した商品があります"; both samples answer this:
    "ErrorsPresent": "エラーが発生しました",
    "TooMany": "productListの指定は100件までです",
    "InvalidFormat": "countの形式に誤りがあります",
    "WrongDateFormat": "dateの日付フォーマットを正しく指定してください",
    "Required": "productNoを指定してください",
    "DuplicatedProductNo": "productNoが重複しています",
    "DuplicatedPlannedDate": "dateが重複しています",
    "DuplicatedStock": "在庫指定が重複しています",
    "ProductNotFound": "指定された商品が登録されていません",
    "NotManagementSettings": "指定商品は、在庫管理を行わない設定になっています",
    "OverStock": "在庫数が999,999,999を越える為、登録できません",
    "StockNotFound": "指定された在庫が登録されていません",
    "PlannedStockDateNotFound": "指定された入荷予定日が登録されていません",
}


def too_long(field: str) -> str:
    """TooLong's messages: spec 003 gives them for verticalNo, horizontalNo and count."""
    if field == "count":
        return "countは9桁以内で指定してください"
    if field in ("verticalNo", "horizontalNo"):
        return f"{field}は100文字以内で指定してください"
    return f"{field}は32文字以内で指定してください"  # sandbox: productNo (32 bytes)


def required(field: str) -> str:
    """Required's message: spec 003 gives it for productNo only; the others are by analogy."""
    return f"{field}を指定してください"


def invalid_date(field: str) -> str:
    """InvalidDateFormat's message, "◯◯の日付フォーマットを正しく指定してください"."""
    return f"{field}の日付フォーマットを正しく指定してください"


def api_error(
    status: int, code: str, message: str, path: str | None = None, **headers: str
) -> ApiError:
    """A request-level refusal in spec 003's shape: top-level "failed" and one error."""
    error: dict[str, Any] = {"code": code, "message": message}
    if path:
        error["path"] = path
    return ApiError(status, {"status": "failed", "errors": [error], "results": []}, headers)


def oauth_error(status: int, error: str, description: str) -> ApiError:
    """The token endpoint's refusal (sandbox: RFC 6749 section 5.2's shape)."""
    return ApiError(status, {"error": error, "error_description": description})


def token_error(description: str) -> ApiError:
    """An API call without a valid token (sandbox: RFC 6750's 401 and challenge)."""
    return ApiError(
        401,
        {"error": "invalid_token", "error_description": description},
        {"WWW-Authenticate": f'Bearer error="invalid_token", error_description="{description}"'},
    )


def too_many_requests(retry_after: float) -> ApiError:
    """A call over its rate limit, and an injected "429" (sandbox: the limit is unpublished)."""
    return api_error(
        429,
        "TooManyRequests",
        "リクエスト数が上限を超えました",
        **{"Retry-After": f"{retry_after:g}"},
    )


def fault_error(fault: Fault) -> ApiError:
    """An injected fault as this sandbox renders it ("hang" and "malformed" never get here)."""
    match fault.kind:
        case "500":
            return api_error(500, "SystemError", "システムエラーが発生しました")
        case "503":
            return api_error(503, "ServiceUnavailable", "メンテナンス中です")
        case "429":
            return too_many_requests(fault.retry_after or 1)
        case "409":
            return api_error(409, "Conflict", "他の処理と競合しました。再度お試しください")
        case "expired":
            return token_error("The access token expired")
    return token_error("The access token is invalid")
