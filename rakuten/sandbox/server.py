"""HTTP for the sandbox: the RMS API as RMS serves it, plus a control API under /_sandbox/.

The control API has no authentication; the server only listens on loopback.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from ..client import redact
from ..endpoints import ENDPOINTS, JSON_CONTENT_TYPE
from .state import (
    ApiError,
    Call,
    Fault,
    Sandbox,
    SandboxOrder,
    gateway_error,
    inventory_error,
    order_error,
)

logger = logging.getLogger("rakuten.sandbox")

MALFORMED_BODY = b'{"orderNumberList": ["100001-20260101-0000'


def _route(path: str) -> re.Pattern[str]:
    pattern = (
        re.escape(path)
        .replace(r"\{manage_number\}", "([^/]+)")
        .replace(r"\{variant_id\}", "([^/]+)")
    )
    return re.compile(f"^{pattern}$")


ROUTES = [(name, endpoint.method, _route(endpoint.path)) for name, endpoint in ENDPOINTS.items()]


def order_json(order: SandboxOrder) -> dict[str, Any]:
    return {
        "orderNumber": order.order_number,
        "orderProgress": order.progress,
        "orderDatetime": order.ordered_at.isoformat(),
        "modifyFlag": order.modify_flag,
        "lines": [
            {
                "manageNumber": line.manage_number,
                "variantId": line.variant_id,
                "units": line.units,
                "deleted": line.deleted,
            }
            for line in order.lines
        ],
    }


class SandboxServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(
        self,
        sandbox: Sandbox,
        host: str = "127.0.0.1",
        port: int = 0,
        state_file: Path | None = None,
    ) -> None:
        super().__init__((host, port), Handler)
        self.sandbox = sandbox
        self.state_file = state_file
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> SandboxServer:
        """Serve from a background thread (tests, benchmarks)."""
        self._thread = threading.Thread(target=self.serve_forever, name="rms-sandbox", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.shutdown()
        self.server_close()
        if self._thread:
            self._thread.join(timeout=5)


class Handler(BaseHTTPRequestHandler):
    server: SandboxServer
    protocol_version = "HTTP/1.1"
    server_version = "RMS-Sandbox"
    # One write per answer and no Nagle: keep-alive answers without the 40 ms delayed-ACK stall.
    wbufsize = 1 << 16
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("%s %s", self.address_string(), redact(format % args))

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_PUT(self) -> None:
        self._dispatch("PUT")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    # --- plumbing ---------------------------------------------------------------

    def _read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _send(self, status: int, body: Any = None, headers: dict[str, str] | None = None) -> None:
        payload = b""
        if isinstance(body, bytes):
            payload = body
        elif body is not None:
            payload = json.dumps(body, ensure_ascii=False).encode()
        try:
            self.send_response(status)
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            if status != 204:
                self.send_header("Content-Type", JSON_CONTENT_TYPE)
                self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            if status != 204:
                self.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (a timeout): nothing to answer

    def _dispatch(self, method: str) -> None:
        url = urlsplit(self.path)
        query = dict(parse_qsl(url.query))
        raw = self._read_body()
        if url.path.startswith("/_sandbox/"):
            try:
                status, body = self._control(method, url.path, query, raw)
            except ApiError as error:
                status, body = error.status, error.body
            except (KeyError, TypeError, ValueError) as exc:
                status, body = 400, {"error": f"bad control request: {exc}"}
            self._send(status, body)
            return
        self._api(method, url.path, query, raw)

    # --- the RMS API --------------------------------------------------------------

    def _api(self, method: str, path: str, query: dict[str, str], raw: bytes) -> None:
        sandbox = self.server.sandbox
        endpoint, args = None, ()
        path_matched = False
        for name, route_method, pattern in ROUTES:
            match = pattern.match(path)
            if match:
                path_matched = True
                if route_method == method:
                    endpoint, args = name, tuple(unquote(g) for g in match.groups())
                    break
        if endpoint is None:
            error = (
                gateway_error(405, "ES02-05", "Method Not Allowed")
                if path_matched
                else inventory_error(404, [("GE0007", "The path is invalid.", None)])
            )
            sandbox.call_record(Call(time.time(), None, path, method, error.status))
            self._send(error.status, error.body)
            return
        shop = None
        fault: Fault | None = None
        status = 500
        body = None
        try:
            auth_error = None
            try:
                shop = sandbox.authenticate(self.headers.get("Authorization"))
            except ApiError as error:
                auth_error = error
            fault = sandbox.fault_take(shop.shop_id if shop else None, endpoint)
            if fault is not None:
                if fault.kind == "malformed":
                    status = 200
                    self._send(200, MALFORMED_BODY)
                    return
                self._fault(fault)
            if auth_error is not None:
                raise auth_error
            sandbox.rate_check(shop, endpoint)
            body = self._json_body(endpoint, method, raw)
            status, answer = self._call(endpoint, shop, args, query, body)
            self._send(status, answer)
        except ApiError as error:
            status = error.status
            self._send(error.status, error.body, error.headers)
        finally:
            sandbox.call_record(
                Call(
                    time.time(),
                    shop.shop_id if shop else None,
                    endpoint,
                    method,
                    status,
                    fault.kind if fault else None,
                    body,
                )
            )

    def _fault(self, fault: Fault) -> None:
        kind = fault.kind
        if kind == "hang":
            time.sleep(self.server.sandbox.hang_seconds)
            return  # then answer as usual, long after the client gave up
        if kind in ("500", "503"):
            raise ApiError(int(kind), {"errors": [{"code": "X0000", "message": "System error."}]})
        if kind == "429":
            raise gateway_error(
                429,
                "ES04-02",
                "Too Many Requests",
                **{"Retry-After": f"{fault.retry_after or 1:g}"},
            )
        if kind == "409":
            raise inventory_error(
                409, [("CE0001", "Conflict with another process. Retry later.", None)]
            )
        if kind == "expired":
            raise gateway_error(401, "GA0001", "License key is expired.")
        raise gateway_error(401, "ES01-01", "Un-Authorised")

    def _json_body(self, endpoint: str, method: str, raw: bytes) -> Any:
        if method not in ("POST", "PUT"):
            return None
        self.server.sandbox.content_type_check(self.headers.get("Content-Type"))
        if not raw:
            return None
        try:
            return json.loads(raw)
        except (ValueError, UnicodeDecodeError):
            if endpoint.startswith("order."):
                raise order_error(
                    400, "ORDER_EXT_API_ERROR_001", "リクエストの形式が不正です。"
                ) from None
            raise inventory_error(400, [("GE0011", "Request body is not JSON.", None)]) from None

    def _call(
        self, endpoint: str, shop: Any, args: tuple[str, ...], query: dict[str, str], body: Any
    ) -> tuple[int, Any]:
        sandbox = self.server.sandbox
        if endpoint.startswith("order.") and not isinstance(body, dict):
            raise order_error(400, "ORDER_EXT_API_ERROR_001", "リクエストの形式が不正です。")
        match endpoint:
            case "order.search":
                return 200, sandbox.order_search(shop, body)
            case "order.get":
                return 200, sandbox.order_get(shop, body)
            case "order.confirm":
                return 200, sandbox.order_confirm(shop, body)
            case "inventory.bulk_get":
                return 200, sandbox.inventory_bulk_get(shop, body)
            case "inventory.bulk_upsert":
                sandbox.inventory_bulk_upsert(shop, body)
                return 204, None
            case "inventory.variant.get":
                return 200, sandbox.variant_get(shop, *args)
            case "inventory.variant.upsert":
                sandbox.variant_upsert(shop, *args, body)
                return 204, None
            case "items.search":
                return 200, sandbox.items_search(shop, query)
            case _:
                return 200, sandbox.license_expiry(shop, query)

    # --- the control API ------------------------------------------------------------

    def _control(
        self, method: str, path: str, query: dict[str, str], raw: bytes
    ) -> tuple[int, Any]:
        sandbox = self.server.sandbox
        body = json.loads(raw) if raw else {}
        parts = path.strip("/").split("/")[1:]
        route = (method, *parts)
        match route:
            case ("GET", "health"):
                return 200, {"ok": True, "shops": sorted(sandbox.shops)}
            case ("GET", "state"):
                return 200, sandbox.dump()
            case ("POST", "reset"):
                with sandbox.lock:
                    sandbox.shops.clear()
                    sandbox.faults.clear()
                    sandbox.calls.clear()
                return 200, {"ok": True}
            case ("POST", "save"):
                if not self.server.state_file:
                    return 400, {"error": "the sandbox was started without --state"}
                sandbox.save(self.server.state_file)
                return 200, {"saved": str(self.server.state_file)}
            case ("POST", "tick"):
                sandbox.tick()
                return 200, {"ok": True}
            case ("POST", "generate"):
                placed = sandbox.generate(int(body.get("count", 1)))
                return 200, {"orders": [order.order_number for order in placed]}
            case ("PUT", "rate-limits"):
                sandbox.rate_limits.update({k: float(v) for k, v in body.items()})
                return 200, sandbox.rate_limits
            case ("POST", "faults"):
                fault = sandbox.fault_add(
                    body["endpoint"],
                    str(body["kind"]),
                    int(body.get("count", 1)),
                    shop_id=body.get("shop"),
                    retry_after=body.get("retryAfter"),
                )
                return 201, {
                    "endpoint": fault.endpoint,
                    "kind": fault.kind,
                    "count": fault.remaining,
                }
            case ("DELETE", "faults"):
                with sandbox.lock:
                    sandbox.faults.clear()
                return 200, {"ok": True}
            case ("GET", "calls"):
                calls = sandbox.calls_matching(
                    shop_id=query.get("shop"), endpoint=query.get("endpoint")
                )
                return 200, {
                    "calls": [
                        {
                            "at": call.at,
                            "shop": call.shop_id,
                            "endpoint": call.endpoint,
                            "method": call.method,
                            "status": call.status,
                            "fault": call.fault,
                        }
                        for call in calls
                    ]
                }
            case ("DELETE", "calls"):
                with sandbox.lock:
                    sandbox.calls.clear()
                return 200, {"ok": True}
            case ("POST", "shops"):
                expires = body.get("licenseExpiresAt")
                shop = sandbox.shop_add(
                    shop_id=body["shopId"],
                    service_secret=body["serviceSecret"],
                    license_key=body["licenseKey"],
                    license_expires_at=dt.datetime.fromisoformat(expires) if expires else None,
                    item_api=bool(body.get("itemApi", True)),
                    items=body.get("items", []),
                )
                return 201, {"shopId": shop.shop_id, "items": len(shop.items)}
            case ("POST", "shops", shop_id, "items"):
                item = sandbox.item_add(shop_id, body)
                return 201, {"manageNumber": item.manage_number, "variants": sorted(item.variants)}
            case ("POST", "shops", shop_id, "licence"):
                with sandbox.lock:
                    sandbox.shop(shop_id).license_expires_at = dt.datetime.fromisoformat(
                        body["expiresAt"]
                    )
                return 200, {"ok": True}
            case ("PUT", "shops", shop_id, "stock"):
                sandbox.stock_set(
                    shop_id, body["manageNumber"], body["variantId"], int(body["quantity"])
                )
                return 200, {"ok": True}
            case ("GET", "shops", shop_id, "inventory"):
                shop = sandbox.shop(shop_id)
                with sandbox.lock:
                    rows = [
                        {
                            "manageNumber": mn,
                            "variantId": vid,
                            "quantity": row.quantity,
                            "listed": shop.variant(mn, vid) is not None,
                        }
                        for (mn, vid), row in sorted(shop.stock.items())
                    ]
                return 200, {"inventory": rows}
            case ("GET", "shops", shop_id, "orders"):
                shop = sandbox.shop(shop_id)
                with sandbox.lock:
                    orders = [order_json(order) for order in shop.orders.values()]
                return 200, {"orders": orders}
            case ("POST", "shops", shop_id, "orders"):
                at = body.get("orderDatetime")
                order = sandbox.order_place(
                    shop_id,
                    body["lines"],
                    ordered_at=dt.datetime.fromisoformat(at) if at else None,
                    allow_oversell=bool(body.get("allowOversell", False)),
                )
                return 201, order_json(order)
            case ("POST", "shops", shop_id, "orders", number, "progress"):
                order = sandbox.order_progress(shop_id, number, int(body["orderProgress"]))
                return 200, order_json(order)
            case ("POST", "shops", shop_id, "orders", number, "units"):
                order = sandbox.order_units(
                    shop_id, number, int(body.get("line", 0)), int(body["units"])
                )
                return 200, order_json(order)
        return 404, {"error": f"no control route {method} {path}"}
