"""A kit for stateful fakes of the platforms we sync with, served over HTTP on loopback.

A platform's sandbox holds only its own API: a `SandboxState` subclass with its data and
endpoints' behaviour, a `SandboxHandler` subclass with its routes, and a `LoopbackServer`
subclass naming that handler. The kit brings what every platform needs the same way: the
control API under /_sandbox/, fault injection, the call log, rate limits and persistence.
"""

from .calls import Call, Caller
from .errors import ApiError
from .faults import FAULT_KINDS, Fault
from .persistence import Autosave, json_default, parse_datetime
from .server import LoopbackServer, Route, SandboxHandler, is_loopback, route
from .state import SandboxState

__all__ = [
    "FAULT_KINDS",
    "ApiError",
    "Autosave",
    "Call",
    "Caller",
    "Fault",
    "LoopbackServer",
    "Route",
    "SandboxHandler",
    "SandboxState",
    "is_loopback",
    "json_default",
    "parse_datetime",
    "route",
]
