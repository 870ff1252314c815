"""The token bucket on a clock the test moves, and the error statuses documented for a router that arrives later."""

from __future__ import annotations

from fastapi import APIRouter

from mmi.api.app import _application
from mmi.api.dependencies import Caller
from mmi.api.parameters import RowId
from mmi.api.ratelimit import RateLimiter


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_token_gets_its_burst_then_waits_for_the_rate_and_other_tokens_are_not_affected() -> None:
    clock = Clock()
    limiter = RateLimiter(per_second=2.0, burst=3, clock=clock)
    alice, bob = ("alice", "jti-1"), ("bob", "jti-2")
    assert [limiter.take(alice) for _ in range(3)] == [0, 0, 0]
    assert limiter.take(alice) == 1  # empty: one request comes back after 1/2 s, said as whole seconds
    assert limiter.take(bob) == 0
    clock.now += 0.5
    assert limiter.take(alice) == 0 and limiter.take(alice) == 1
    clock.now += 60
    assert [limiter.take(alice) for _ in range(4)] == [0, 0, 0, 1]  # refilled to the burst, never beyond


def test_a_slow_rate_says_how_long_to_wait_and_a_rate_of_zero_turns_the_limit_off() -> None:
    clock = Clock()
    slow = RateLimiter(per_second=0.1, burst=1, clock=clock)
    assert slow.take(("a", "b")) == 0 and slow.take(("a", "b")) == 10
    off = RateLimiter(per_second=0, burst=0, clock=clock)
    assert all(off.take(("a", "b")) == 0 for _ in range(1000))


def test_a_router_included_later_has_its_error_statuses_documented() -> None:
    app = _application()
    later = APIRouter()

    @later.get("/v1/later/{thing_id}")
    def read_thing(thing_id: RowId, principal: Caller) -> dict[str, int]:
        return {"id": thing_id}

    @later.get("/v1/later-open")
    def open_route() -> dict[str, str]:
        return {}

    app.include_router(later)
    document = app.openapi()
    guarded = document["paths"]["/v1/later/{thing_id}"]["get"]["responses"]
    assert {"400", "401", "403", "404", "422", "429"} <= set(guarded)
    assert guarded["429"]["headers"]["Retry-After"] and guarded["401"]["headers"]["WWW-Authenticate"]
    assert guarded["401"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/ErrorDetail"}
    assert set(document["paths"]["/v1/later-open"]["get"]["responses"]) == {"200"}  # no token, no parameters: nothing to refuse
    assert document["components"]["schemas"]["ErrorDetail"]["required"] == ["detail"]
