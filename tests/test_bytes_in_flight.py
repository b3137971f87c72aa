"""`limits.max_bytes_in_flight`: past it, requests wait their turn once their body is here, within their deadline."""

from __future__ import annotations

import asyncio
import gzip
from typing import Any

import orjson
import pytest
from aiohttp import ClientResponse
from aiohttp.test_utils import TestClient

from gateway import config as config_mod
from tests.conftest import SEED, StartFake, StartGateway, chunked, model
from tests.fakes.clock import FakeClock
from tests.fakes.upstream import FakeUpstream, hang, ok
from tests.gateway_process import until
from tests.test_metrics import scrape, until_sample, value

SEED_BYTES = len(orjson.dumps(SEED))


async def gateway(
    start_fake: StartFake, start_gateway: StartGateway, *, limit: int | None, clock: FakeClock | None = None
) -> tuple[FakeUpstream, TestClient[Any, Any]]:
    fake, url = await start_fake("cohere")
    client = await start_gateway(
        {
            "providers": {"p": {"type": "cohere", "base_url": url}},
            "models": {"m": model(("p", "x"))},
            "limits": {"max_bytes_in_flight": limit},
            "cache": {"enabled": False},  # every request here must reach the upstream
        },
        clock=clock,
    )
    return fake, client


async def waiting(client: TestClient[Any, Any], count: int) -> None:
    """Return once `count` requests wait for room (as /metrics shows)."""
    await until_sample(client, "rerank_gateway_requests_waiting_for_room", count)


async def reached(fake: FakeUpstream, calls: int) -> None:
    """Return once the upstream has seen `calls` requests."""
    await until(lambda: fake.calls >= calls)


Post = asyncio.Task[ClientResponse]


async def held_and_waiting(client: TestClient[Any, Any], fake: FakeUpstream, **second: Any) -> tuple[Post, Post]:
    """A request the upstream holds for a second, then one (posted with `second`) waiting for room behind it."""
    fake.then(ok(delay=1.0))
    first = asyncio.create_task(client.post("/v1/rerank", json=SEED))
    await reached(fake, 1)
    waiter = asyncio.create_task(client.post("/v1/rerank", **(second or {"json": SEED})))
    await waiting(client, 1)
    assert fake.calls == 1  # the waiting body is not sent upstream
    return first, waiter


async def test_a_request_past_the_limit_waits_until_room_is_given_back(
    start_fake: StartFake, start_gateway: StartGateway
) -> None:
    """With room for one body, a second request reaches the upstream only after the first is answered."""
    fake, client = await gateway(start_fake, start_gateway, limit=SEED_BYTES + 10)
    first, second = await held_and_waiting(client, fake)  # the second body is not even read
    assert (await first).status == 200
    resp = await second
    assert resp.status == 200
    assert fake.calls == 2
    samples = await scrape(client)
    assert value(samples, "rerank_gateway_requests_waited_for_room_total") == 1
    assert value(samples, "rerank_gateway_request_bytes_in_flight") == 0
    assert value(samples, "rerank_gateway_requests_waiting_for_room") == 0


async def test_a_body_larger_than_the_limit_is_served_alone(start_fake: StartFake, start_gateway: StartGateway) -> None:
    """The limit never refuses a body the size limit admits: alone, it proceeds."""
    fake, client = await gateway(start_fake, start_gateway, limit=10)
    resp = await client.post("/v1/rerank", json=SEED)
    assert resp.status == 200
    assert fake.calls == 1


async def test_no_limit_means_no_wait(start_fake: StartFake, start_gateway: StartGateway) -> None:
    """`max_bytes_in_flight: null` lets every request through at once."""
    fake, client = await gateway(start_fake, start_gateway, limit=None)
    fake.then(hang(), hang())
    tasks = [asyncio.create_task(client.post("/v1/rerank", json=SEED, headers={"x-request-timeout": "0.5"}))]
    tasks.append(asyncio.create_task(client.post("/v1/rerank", json=SEED, headers={"x-request-timeout": "0.5"})))
    await reached(fake, 2)  # both reached the upstream while the first was still unanswered
    assert [r.status for r in await asyncio.gather(*tasks)] == [504, 504]


async def test_a_wait_past_the_deadline_is_a_503_with_retry_after(
    start_fake: StartFake, start_gateway: StartGateway
) -> None:
    """A request still waiting for room when its deadline passes gets 503 `overloaded`, never reaching upstream."""
    fake, client = await gateway(start_fake, start_gateway, limit=SEED_BYTES)
    fake.then(hang())
    first = asyncio.create_task(client.post("/v1/rerank", json=SEED, headers={"x-request-timeout": "2"}))
    await reached(fake, 1)
    resp = await client.post("/v1/rerank", json=SEED, headers={"x-request-timeout": "0.2"})
    assert resp.status == 503
    assert resp.headers["Retry-After"] == "1"
    data = await resp.json()
    assert data["type"] == "overloaded"
    assert "max_bytes_in_flight" in data["message"]
    assert fake.calls == 1
    assert (await first).status == 504  # the hung upstream: the first request's own deadline
    assert value(await scrape(client), "rerank_gateway_request_bytes_in_flight") == 0


async def test_the_wait_counts_against_the_request_deadline(start_fake: StartFake, start_gateway: StartGateway) -> None:
    """A request that waited longer than its model's deadline (on the gateway's clock) gets 504 without a call."""
    clock = FakeClock()
    fake, client = await gateway(start_fake, start_gateway, limit=SEED_BYTES, clock=clock)
    fake.then(ok(delay=0.5))
    first = asyncio.create_task(client.post("/v1/rerank", json=SEED))
    await reached(fake, 1)
    second = asyncio.create_task(client.post("/v1/rerank", json=SEED))
    await waiting(client, 1)
    clock.advance(60)  # longer than the default 30 s deadline, while the second waits
    assert (await first).status == 200
    resp = await second
    assert resp.status == 504
    assert (await resp.json())["type"] == "deadline_exceeded"
    assert fake.calls == 1


async def test_a_request_let_in_after_its_deadline_uses_no_quota(
    start_fake: StartFake, start_gateway: StartGateway
) -> None:
    """The 504 for a wait that outlasted the deadline comes before the key's quota is charged."""
    clock = FakeClock(now=1200.0)  # the minute of the quota window holds the whole test
    fake, url = await start_fake("cohere")
    client = await start_gateway(
        {
            "providers": {"p": {"type": "cohere", "base_url": url}},
            "models": {"m": model(("p", "x"))},
            "limits": {"max_bytes_in_flight": SEED_BYTES},
            "cache": {"enabled": False},
            "auth": {"api_keys": [{"name": "a", "key": "ka", "rpm": 2}]},
        },
        clock=clock,
    )
    fake.then(ok(delay=0.5))
    auth = {"Authorization": "Bearer ka"}
    first = asyncio.create_task(client.post("/v1/rerank", json=SEED, headers=auth))
    await reached(fake, 1)
    late = asyncio.create_task(client.post("/v1/rerank", json=SEED, headers=auth))
    await waiting(client, 1)
    clock.advance(31)  # past the 30 s deadline, within the quota's minute
    assert (await first).status == 200
    assert (await late).status == 504
    assert (await client.post("/v1/rerank", json=SEED, headers=auth)).status == 200  # the second of rpm 2


async def test_a_chunked_body_is_counted_once_it_has_arrived(
    start_fake: StartFake, start_gateway: StartGateway
) -> None:
    """A body of unknown length takes room for what it turned out to be, and waits for it like any other."""
    fake, client = await gateway(start_fake, start_gateway, limit=SEED_BYTES + 10)
    post = {"data": chunked(orjson.dumps(SEED), 16), "headers": {"Content-Type": "application/json"}}
    first, second = await held_and_waiting(client, fake, **post)
    assert (await first).status == 200
    assert (await second).status == 200
    assert value(await scrape(client), "rerank_gateway_request_bytes_in_flight") == 0


async def test_a_compressed_body_is_counted_by_what_it_decodes_to(
    start_fake: StartFake, start_gateway: StartGateway
) -> None:
    """A gzip body's Content-Length counts encoded bytes: the room it holds is its decoded size."""
    big = {**SEED, "documents": ["apple banana fruit " * 50] * 60}
    raw = orjson.dumps(big)
    packed = gzip.compress(raw)
    assert len(packed) * 20 < len(raw)
    fake, client = await gateway(start_fake, start_gateway, limit=len(raw) + 10)
    fake.then(ok(delay=1.0))
    headers = {"Content-Type": "application/json", "Content-Encoding": "gzip"}
    first = asyncio.create_task(client.post("/v1/rerank", data=packed, headers=headers))
    await reached(fake, 1)
    assert value(await scrape(client), "rerank_gateway_request_bytes_in_flight") == len(raw)
    second = asyncio.create_task(client.post("/v1/rerank", data=packed, headers=headers))
    await waiting(client, 1)
    assert fake.calls == 1
    assert (await first).status == 200
    assert (await second).status == 200
    assert fake.calls == 2
    assert value(await scrape(client), "rerank_gateway_request_bytes_in_flight") == 0


async def test_a_client_that_leaves_while_waiting_leaves_the_queue(
    start_fake: StartFake, start_gateway: StartGateway
) -> None:
    """A waiting request whose client disconnects holds no room and no place in the queue."""
    fake, client = await gateway(start_fake, start_gateway, limit=SEED_BYTES + 10)
    first, gone = await held_and_waiting(client, fake)
    gone.cancel()
    await waiting(client, 0)
    assert (await first).status == 200
    resp = await client.post("/v1/rerank", json=SEED)
    assert resp.status == 200
    assert fake.calls == 2
    assert value(await scrape(client), "rerank_gateway_request_bytes_in_flight") == 0


@pytest.mark.parametrize(
    ("body", "status"),
    [(b"{not json", 400), (orjson.dumps({**SEED, "model": "nope"}), 404), (orjson.dumps({"query": "q"}), 400)],
)
async def test_refused_requests_give_their_room_back(
    start_fake: StartFake, start_gateway: StartGateway, body: bytes, status: int
) -> None:
    """Bad JSON, an unknown model or a missing field answer 4xx and leave no bytes counted in flight."""
    _, client = await gateway(start_fake, start_gateway, limit=SEED_BYTES)
    resp = await client.post("/v1/rerank", data=body, headers={"Content-Type": "application/json"})
    assert resp.status == status
    assert value(await scrape(client), "rerank_gateway_request_bytes_in_flight") == 0
    assert (await client.post("/v1/rerank", json=SEED)).status == 200


@pytest.mark.parametrize("bad", [0, -1, True, "8MiB"])
def test_the_limit_must_be_a_positive_integer_or_null(bad: object) -> None:
    """A zero, negative or non-integer limit is a config error naming the field."""
    text = orjson.dumps(
        {
            "providers": {"l": {"type": "local"}},
            "models": {"m": model(("l", "x"))},
            "limits": {"max_bytes_in_flight": bad},
        }
    ).decode()
    with pytest.raises(config_mod.ConfigError) as caught:
        config_mod.parse(text, env={})
    assert any("$.limits.max_bytes_in_flight" in p for p in caught.value.problems)
