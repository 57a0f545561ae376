"""The sandbox kit on its own, under a toy platform: shops that count things, behind a token."""

import datetime as dt
import json
import time
from dataclasses import asdict, dataclass, field

import pytest
import requests

from sync.sandbox import (
    FAULT_KINDS,
    ApiError,
    Autosave,
    LoopbackServer,
    SandboxHandler,
    SandboxState,
    is_loopback,
    parse_datetime,
    route,
)

OPENED = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC)


@dataclass
class ToyShop:
    shop_id: str
    token: str
    opened: dt.datetime
    things: dict[str, int] = field(default_factory=dict)


class ToySandbox(SandboxState):
    def __init__(self, **options):
        super().__init__(rate_limits={"thing.get": 50, "thing.put": 50}, **options)
        self.shops: dict[str, ToyShop] = {}

    def shop_add(self, shop_id, token):
        with self.lock:
            shop = self.shops[shop_id] = ToyShop(shop_id, token, OPENED)
        return shop

    def health(self):
        return {**super().health(), "shops": sorted(self.shops)}

    def platform_reset(self):
        self.shops.clear()

    def platform_dump(self):
        return {"shops": [asdict(shop) for shop in self.shops.values()]}

    def platform_load(self, data):
        self.shops = {
            raw["shop_id"]: ToyShop(
                raw["shop_id"], raw["token"], parse_datetime(raw["opened"]), raw["things"]
            )
            for raw in data["shops"]
        }

    def rate_limited_error(self, retry_after):
        # The toy's own 429: an injected "429" answers in it too.
        return ApiError(429, {"toy": "slow down"}, {"Retry-After": f"{retry_after:g}"})


class ToyHandler(SandboxHandler):
    routes = [
        route("thing.get", "GET", "/v1/things/{name}"),
        route("thing.put", "PUT", "/v1/things/{name}"),
    ]

    def authenticate(self):
        sandbox = self.server.sandbox
        token = self.headers.get("X-Token")
        with sandbox.lock:
            shop = next((s for s in sandbox.shops.values() if s.token == token), None)
        if shop is None:
            raise ApiError(401, {"toy": "who are you?"})
        return shop

    def call(self, endpoint, shop, args, query, body):
        (name,) = args
        if endpoint == "thing.put":
            shop.things[name] = int(body["count"])
            return 204, None
        if name not in shop.things:
            raise ApiError(404, {"toy": f"no {name}"}, {"X-Toy": "missing"})
        return 200, {"name": name, "count": shop.things[name]}

    def control(self, method, parts, query, body):
        match (method, *parts):
            case ("POST", "shops"):
                shop = self.server.sandbox.shop_add(body["shopId"], body["token"])
                return 201, {"shopId": shop.shop_id}
        return None


class ToyServer(LoopbackServer):
    handler_class = ToyHandler


@pytest.fixture
def toy():
    sandbox = ToySandbox(hang_seconds=0.3)
    sandbox.shop_add("shop-a", "token-a")
    sandbox.shop_add("shop-b", "token-b")
    return sandbox


@pytest.fixture
def server(toy, tmp_path):
    server = ToyServer(toy, state_file=tmp_path / "toy.json").start()
    yield server
    server.stop()


def api(server, method, path, caller="token-a", **kwargs):
    headers = {"X-Token": caller} if caller else {}
    return requests.request(method, server.url + path, headers=headers, timeout=5, **kwargs)


def control(server, method, path, **kwargs):
    return requests.request(method, f"{server.url}/_sandbox{path}", timeout=5, **kwargs)


def test_routes_pass_unquoted_path_arguments_and_answer_json_or_nothing(server):
    put = api(server, "PUT", "/v1/things/red%20cup", json={"count": 3})
    assert put.status_code == 204
    assert put.content == b""
    assert "Content-Type" not in put.headers
    got = api(server, "GET", "/v1/things/red%20cup")
    assert got.status_code == 200
    assert got.json() == {"name": "red cup", "count": 3}
    assert got.headers["Content-Type"] == "application/json"
    assert got.headers["Server"].startswith("Sandbox")


def test_an_api_error_is_the_answer_with_its_status_body_and_headers(server):
    missing = api(server, "GET", "/v1/things/nothing")
    assert (missing.status_code, missing.json()) == (404, {"toy": "no nothing"})
    assert missing.headers["X-Toy"] == "missing"
    stranger = api(server, "GET", "/v1/things/nothing", caller="wrong")
    assert (stranger.status_code, stranger.json()) == (401, {"toy": "who are you?"})
    garbled = api(server, "PUT", "/v1/things/cup", data=b"{not json")
    assert (garbled.status_code, garbled.json()) == (400, {"error": "the body is not JSON"})


def test_no_route_is_404_another_method_405_and_both_are_logged(server, toy):
    assert api(server, "GET", "/v1/nowhere").json() == {"error": "no route /v1/nowhere"}
    wrong = api(server, "DELETE", "/v1/things/cup")
    assert (wrong.status_code, wrong.json()) == (
        405,
        {"error": "method not allowed on /v1/things/cup"},
    )
    logged = [(c.shop_id, c.endpoint, c.method, c.status) for c in toy.calls]
    assert logged == [(None, "/v1/nowhere", "GET", 404), (None, "/v1/things/cup", "DELETE", 405)]


def test_the_call_log_keeps_every_call_and_filters_by_shop_and_endpoint(server, toy):
    api(server, "PUT", "/v1/things/cup", json={"count": 1})
    api(server, "GET", "/v1/things/cup")
    api(server, "GET", "/v1/things/cup", caller="token-b")
    calls = control(server, "GET", "/calls", params={"shop": "shop-b"}).json()["calls"]
    assert [(c["shop"], c["endpoint"], c["status"], c["fault"]) for c in calls] == [
        ("shop-b", "thing.get", 404, None)
    ]
    assert isinstance(calls[0]["at"], float)
    puts = control(server, "GET", "/calls", params={"endpoint": "thing.put"}).json()["calls"]
    assert [(c["shop"], c["method"], c["status"]) for c in puts] == [("shop-a", "PUT", 204)]
    # The request body stays in memory, for tests to check what was sent.
    assert toy.calls_matching(endpoint="thing.put")[0].body == {"count": 1}
    assert len(toy.calls_matching(shop_id="shop-a")) == 2
    assert control(server, "DELETE", "/calls").json() == {"ok": True}
    assert control(server, "GET", "/calls").json() == {"calls": []}


def test_control_health_state_platform_routes_and_reset(server, toy):
    assert control(server, "GET", "/health").json() == {"ok": True, "shops": ["shop-a", "shop-b"]}
    added = control(server, "POST", "/shops", json={"shopId": "shop-c", "token": "token-c"})
    assert (added.status_code, added.json()) == (201, {"shopId": "shop-c"})
    api(server, "PUT", "/v1/things/cup", caller="token-c", json={"count": 2})
    state = control(server, "GET", "/state").json()
    assert state["shops"][2] == {
        "shop_id": "shop-c",
        "token": "token-c",
        "opened": "2026-01-02T03:04:05+00:00",
        "things": {"cup": 2},
    }
    control(server, "POST", "/faults", json={"endpoint": "*", "kind": "500"})
    assert control(server, "POST", "/reset").json() == {"ok": True}
    assert control(server, "GET", "/health").json() == {"ok": True, "shops": []}
    assert toy.faults == []
    assert list(toy.calls) == []


def test_control_refuses_what_it_cannot_do(server):
    nope = control(server, "GET", "/nope")
    assert (nope.status_code, nope.json()) == (
        404,
        {"error": "no control route GET /_sandbox/nope"},
    )
    garbled = control(server, "POST", "/shops", data=b"{")
    assert garbled.status_code == 400
    assert garbled.json()["error"].startswith("bad control request: ")
    missing = control(server, "POST", "/shops", json={"shopId": "x"})
    assert missing.json() == {"error": "bad control request: 'token'"}


def test_faults_are_added_listed_and_cleared(server):
    added = control(
        server, "POST", "/faults", json={"endpoint": "thing.get", "kind": "500", "count": 2}
    )
    assert (added.status_code, added.json()) == (
        201,
        {"endpoint": "thing.get", "kind": "500", "count": 2},
    )
    control(
        server,
        "POST",
        "/faults",
        json={"endpoint": "*", "kind": 429, "shop": "shop-b", "retryAfter": 3},
    )
    assert control(server, "GET", "/faults").json() == {
        "faults": [
            {"endpoint": "thing.get", "kind": "500", "count": 2, "shop": None, "retryAfter": None},
            {"endpoint": "*", "kind": "429", "count": 1, "shop": "shop-b", "retryAfter": 3},
        ]
    }
    bad_kind = control(server, "POST", "/faults", json={"endpoint": "thing.get", "kind": "boom"})
    assert bad_kind.status_code == 400
    assert bad_kind.json()["error"] == (
        "fault kind must be one of 500, 503, 429, 409, 401, expired, hang, malformed"
    )
    unknown = control(server, "POST", "/faults", json={"endpoint": "thing.nope", "kind": "500"})
    assert unknown.json() == {"error": "unknown endpoint thing.nope"}
    assert control(server, "DELETE", "/faults").json() == {"ok": True}
    assert control(server, "GET", "/faults").json() == {"faults": []}


ERROR_FAULTS = {
    "500": (500, {"error": "injected fault: 500"}),
    "503": (503, {"error": "injected fault: 503"}),
    "409": (409, {"error": "injected fault: 409"}),
    "401": (401, {"error": "injected fault: 401"}),
    "expired": (401, {"error": "injected fault: expired"}),
    "429": (429, {"toy": "slow down"}),  # the platform's shape, from rate_limited_error
}


def test_every_fault_kind_is_covered_here():
    assert set(ERROR_FAULTS) | {"hang", "malformed"} == set(FAULT_KINDS)


@pytest.mark.parametrize("kind", sorted(ERROR_FAULTS))
def test_an_error_fault_answers_once_then_the_endpoint_does(server, toy, kind):
    toy.shops["shop-a"].things["cup"] = 1
    toy.fault_add("thing.get", kind, retry_after=2.5)
    faulted = api(server, "GET", "/v1/things/cup")
    assert (faulted.status_code, faulted.json()) == ERROR_FAULTS[kind]
    if kind == "429":
        assert faulted.headers["Retry-After"] == "2.5"
    assert api(server, "GET", "/v1/things/cup").json() == {"name": "cup", "count": 1}
    assert [call.fault for call in toy.calls] == [kind, None]


def test_a_hang_fault_answers_late_but_answers(server, toy):
    toy.shops["shop-a"].things["cup"] = 1
    toy.fault_add("thing.get", "hang")
    started = time.monotonic()
    answer = api(server, "GET", "/v1/things/cup")
    assert time.monotonic() - started >= 0.3
    assert answer.json() == {"name": "cup", "count": 1}
    assert toy.calls[0].fault == "hang"


def test_a_malformed_fault_answers_200_with_json_cut_short(server, toy):
    toy.fault_add("*", "malformed")
    answer = api(server, "GET", "/v1/things/anything")
    assert answer.status_code == 200
    assert answer.content == toy.malformed_body
    with pytest.raises(json.JSONDecodeError):
        json.loads(answer.content)
    assert (toy.calls[0].status, toy.calls[0].fault) == (200, "malformed")


def test_a_fault_strikes_before_authentication_and_only_its_shop(server, toy):
    toy.fault_add("*", "503")
    # Whoever calls gets the fault: even a caller the platform would refuse.
    assert api(server, "GET", "/v1/things/cup", caller=None).status_code == 503
    toy.fault_add("thing.get", "500", 5, shop_id="shop-b")
    assert api(server, "GET", "/v1/things/cup", caller="token-a").status_code == 404
    assert api(server, "GET", "/v1/things/cup", caller="token-b").status_code == 500
    assert toy.faults[0].remaining == 4


def test_rate_limits_refuse_with_429_and_retry_after_per_shop_and_endpoint(server, toy):
    limits = control(server, "PUT", "/rate-limits", json={"thing.get": 2}).json()
    assert limits == {"thing.get": 2.0, "thing.put": 50}
    statuses = [api(server, "GET", "/v1/things/cup").status_code for _ in range(3)]
    assert statuses == [404, 404, 429]
    refused = api(server, "GET", "/v1/things/cup")
    assert refused.json() == {"toy": "slow down"}
    assert refused.headers["Retry-After"] == "1"
    assert api(server, "GET", "/v1/things/cup", caller="token-b").status_code == 404
    assert api(server, "PUT", "/v1/things/cup", json={"count": 1}).status_code == 204
    # A refused call did not run the endpoint, and was logged as refused.
    assert [c.status for c in toy.calls_matching(shop_id="shop-a", endpoint="thing.get")] == [
        404,
        404,
        429,
        429,
    ]


def test_the_rate_window_slides_over_one_second(monkeypatch):
    now = {"t": 100.0}
    monkeypatch.setattr("sync.sandbox.ratelimit.monotonic", lambda: now["t"])
    sandbox = SandboxState(rate_limits={"thing.get": 2})
    shop = ToyShop("shop-a", "token-a", OPENED)

    def answer(at):
        now["t"] = 100.0 + at
        try:
            sandbox.rate_check(shop, "thing.get")
        except ApiError as error:
            return error.status, error.body, error.headers
        return "admitted"

    refused = (429, {"error": "too many requests"}, {"Retry-After": "1"})
    assert [answer(at) for at in (0.0, 0.5, 0.9, 1.0, 1.2, 1.5)] == [
        "admitted",
        "admitted",
        refused,  # two in the last second
        "admitted",  # the first has left the window
        refused,
        "admitted",
    ]


def test_state_survives_a_save_and_a_load(server, toy, tmp_path):
    toy.shops["shop-a"].things["cup"] = 7
    saved = control(server, "POST", "/save").json()
    path = tmp_path / "toy.json"
    assert saved == {"saved": str(path)}
    assert not path.with_suffix(".tmp").exists()
    again = ToySandbox()
    assert again.load_file(path) is True
    assert again.shops["shop-a"].opened == OPENED
    assert again.shops["shop-a"].things == {"cup": 7}
    assert again.dump() == toy.dump()
    assert ToySandbox().load_file(tmp_path / "absent.json") is False


def test_save_needs_a_state_file(toy):
    server = ToyServer(toy).start()
    try:
        refused = control(server, "POST", "/save")
    finally:
        server.stop()
    assert (refused.status_code, refused.json()) == (
        400,
        {"error": "the sandbox was started without --state"},
    )


def test_autosave_saves_every_few_moments(toy, tmp_path):
    path = tmp_path / "auto.json"
    autosave = Autosave(toy, path, every=0.05).start()
    try:
        deadline = time.monotonic() + 5
        while not path.exists() and time.monotonic() < deadline:
            time.sleep(0.02)
        assert path.exists()  # before any stop()
    finally:
        autosave.stop()
    assert json.loads(path.read_text())["shops"][0]["shop_id"] == "shop-a"


def test_autosave_saves_once_more_on_stop(toy, tmp_path):
    path = tmp_path / "auto.json"
    autosave = Autosave(toy, path, every=60).start()
    toy.shop_add("shop-c", "token-c")
    assert not path.exists()
    autosave.stop()
    assert [shop["shop_id"] for shop in json.loads(path.read_text())["shops"]] == [
        "shop-a",
        "shop-b",
        "shop-c",
    ]


def test_the_kit_alone_serves_its_control_api_and_refuses_other_paths():
    server = LoopbackServer(SandboxState(rate_limits={})).start()
    try:
        assert control(server, "GET", "/health").json() == {"ok": True}
        assert control(server, "GET", "/state").json() == {}
        assert control(server, "GET", "/nope").status_code == 404
        assert requests.get(server.url + "/v1/anything", timeout=5).status_code == 404
    finally:
        server.stop()


def test_the_server_binds_loopback_only(toy):
    with pytest.raises(ValueError, match="loopback only"):
        ToyServer(toy, host="0.0.0.0")  # noqa: S104 - the point: it must be refused
    server = ToyServer(toy, host="localhost")
    try:
        assert server.url.startswith("http://127.0.0.1:")
    finally:
        server.server_close()
    assert is_loopback("127.0.0.2")
    assert is_loopback("::1")
    assert not is_loopback("192.0.2.1")
    assert not is_loopback("")
