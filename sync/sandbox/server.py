"""HTTP for a platform's sandbox: a loopback-only server and a handler that routes and answers.

The handler answers /_sandbox/ from the control API and everything else from the platform's
routes, in this order: route, authenticate, injected fault, rate limit, body, endpoint. Every
API call, answered or refused, goes into the call log.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import re
import socket
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar, Self
from urllib.parse import parse_qsl, unquote, urlsplit

from .calls import Call, Caller
from .control import control_answer
from .errors import ApiError
from .faults import Fault
from .state import SandboxState


@dataclass(frozen=True)
class Route:
    endpoint: str  # the name faults, rate limits and the call log use
    method: str
    pattern: re.Pattern[str]


def route(endpoint: str, method: str, path: str) -> Route:
    """A route for `path`, where each {name} is one path segment, passed to `call` unquoted."""
    pattern = re.sub(r"\\\{\w+\\\}", "([^/]+)", re.escape(path))
    return Route(endpoint, method, re.compile(f"^{pattern}$"))


def is_loopback(host: str) -> bool:
    """Whether every address `host` names is a loopback one ("" and 0.0.0.0 are not)."""
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, None)
    except (socket.gaierror, UnicodeError):
        return False
    return all(ipaddress.ip_address(info[4][0]).is_loopback for info in infos)


class SandboxHandler(BaseHTTPRequestHandler):
    """Parses a request and answers it; a platform's subclass says what its API is.

    A platform sets `routes` and implements `authenticate` and `call`; it may override
    `route_error`, `body_parse` and `log_redact`, and add control routes in `control`.
    """

    server: LoopbackServer
    routes: ClassVar[list[Route]] = []
    content_type = "application/json"
    logger = logging.getLogger("sync.sandbox")
    protocol_version = "HTTP/1.1"
    server_version = "Sandbox"
    # One write per answer and no Nagle: keep-alive answers without the 40 ms delayed-ACK stall.
    wbufsize = 1 << 16
    disable_nagle_algorithm = True

    # --- what a platform fills in -----------------------------------------------------

    def authenticate(self) -> Caller:
        """The shop the request's credentials open, or an ApiError (answered after faults)."""
        raise NotImplementedError

    def call(
        self,
        endpoint: str,
        shop: Caller,
        args: tuple[str, ...],
        query: dict[str, str],
        body: Any,
    ) -> tuple[int, Any]:
        """Run an endpoint: (status, body) of its answer; `args` are the path's {names}."""
        raise NotImplementedError

    def control(
        self, method: str, parts: list[str], query: dict[str, str], body: Any
    ) -> tuple[int, Any] | None:
        """The platform's own control routes (see `control.control_answer`), None if none."""
        return None

    def route_error(self, path: str, path_matched: bool) -> ApiError:
        """No route: 405 when the path exists for another method, else 404."""
        if path_matched:
            return ApiError(405, {"error": f"method not allowed on {path}"})
        return ApiError(404, {"error": f"no route {path}"})

    def body_parse(self, endpoint: str, method: str, raw: bytes) -> Any:
        """The JSON body of a POST or PUT (None when empty); a body that is not JSON is a 400."""
        if method not in ("POST", "PUT") or not raw:
            return None
        try:
            return json.loads(raw)
        except (ValueError, UnicodeDecodeError):
            raise ApiError(400, {"error": "the body is not JSON"}) from None

    def log_redact(self, line: str) -> str:
        """A request line as logged: mask any credential a platform carries in its URLs."""
        return line

    # --- plumbing ---------------------------------------------------------------------

    def log_message(self, format: str, *args: Any) -> None:
        self.logger.debug("%s %s", self.address_string(), self.log_redact(format % args))

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_PUT(self) -> None:
        self._dispatch("PUT")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    def respond(self, status: int, body: Any = None, headers: dict[str, str] | None = None) -> None:
        """Answer with JSON (or raw bytes); a 204 has neither body nor Content-Type."""
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
                self.send_header("Content-Type", self.content_type)
                self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            if status != 204:
                self.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (a timeout): nothing to answer

    def _dispatch(self, method: str) -> None:
        url = urlsplit(self.path)
        query = dict(parse_qsl(url.query))
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        if url.path.startswith("/_sandbox/"):
            try:
                status, body = self._control(method, url.path, query, raw)
            except ApiError as error:
                status, body = error.status, error.body
            except (KeyError, TypeError, ValueError) as exc:
                status, body = 400, {"error": f"bad control request: {exc}"}
            self.respond(status, body)
            return
        self._api(method, url.path, query, raw)

    def _control(
        self, method: str, path: str, query: dict[str, str], raw: bytes
    ) -> tuple[int, Any]:
        body = json.loads(raw) if raw else {}
        parts = path.strip("/").split("/")[1:]
        answer = control_answer(
            self.server.sandbox, self.server.state_file, method, parts, query, body
        )
        if answer is None:
            answer = self.control(method, parts, query, body)
        if answer is None:
            return 404, {"error": f"no control route {method} {path}"}
        return answer

    def _route(self, method: str, path: str) -> tuple[str | None, tuple[str, ...], bool]:
        """(endpoint, path arguments, whether the path matched some route at all)."""
        path_matched = False
        for candidate in self.routes:
            match = candidate.pattern.match(path)
            if match:
                path_matched = True
                if candidate.method == method:
                    return candidate.endpoint, tuple(unquote(g) for g in match.groups()), True
        return None, (), path_matched

    def _api(self, method: str, path: str, query: dict[str, str], raw: bytes) -> None:
        sandbox = self.server.sandbox
        endpoint, args, path_matched = self._route(method, path)
        if endpoint is None:
            error = self.route_error(path, path_matched)
            sandbox.call_record(Call(time.time(), None, path, method, error.status))
            self.respond(error.status, error.body, error.headers)
            return
        shop: Caller | None = None
        fault: Fault | None = None
        status = 500
        body = None
        try:
            # A fault is injected whoever calls, so bad credentials are only refused after it.
            auth_error = None
            try:
                shop = self.authenticate()
            except ApiError as error:
                auth_error = error
            fault = sandbox.fault_take(shop.shop_id if shop else None, endpoint)
            if fault is not None and fault.kind == "malformed":
                status = 200
                self.respond(200, sandbox.malformed_body)
                return
            if fault is not None and fault.kind == "hang":
                time.sleep(sandbox.hang_seconds)  # then answer as usual, after the client gave up
            elif fault is not None:
                raise sandbox.fault_error(fault)
            if auth_error is not None:
                raise auth_error
            sandbox.rate_check(shop, endpoint)
            body = self.body_parse(endpoint, method, raw)
            status, answer = self.call(endpoint, shop, args, query, body)
            self.respond(status, answer)
        except ApiError as error:
            status = error.status
            self.respond(error.status, error.body, error.headers)
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


class LoopbackServer(ThreadingHTTPServer):
    """A sandbox served on a loopback address only: its control API has no authentication.

    A platform's subclass sets `handler_class` (and `thread_name`, for thread dumps).
    """

    daemon_threads = True
    allow_reuse_address = True
    handler_class: type[SandboxHandler] = SandboxHandler
    thread_name = "sandbox"

    def __init__(
        self,
        sandbox: SandboxState,
        host: str = "127.0.0.1",
        port: int = 0,
        state_file: Path | None = None,
    ) -> None:
        if not is_loopback(host):
            raise ValueError(f"a sandbox listens on loopback only, not on {host!r}")
        super().__init__((host, port), self.handler_class)
        self.sandbox = sandbox
        self.state_file = state_file  # where POST /_sandbox/save writes
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> Self:
        """Serve from a background thread (tests, benchmarks)."""
        self._thread = threading.Thread(
            target=self.serve_forever, name=self.thread_name, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self.shutdown()
        self.server_close()
        if self._thread:
            self._thread.join(timeout=5)
