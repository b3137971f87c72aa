"""The fast lane answers a well-formed rerank POST exactly as aiohttp's server does, and hands none of them over.

Every test sends the same request bytes to two gateways on the same config, one with the fast lane
(`fast_lane=True`, how the gateway runs) and one with aiohttp's server alone, and compares status,
reason, header fields and body (Date and the ids the gateway makes are masked: they differ by
nature). The fast-lane gateway is then checked for handovers: there must be none.
"""

from __future__ import annotations

from email.utils import parsedate_to_datetime
from typing import Any

from aiohttp.test_utils import TestClient

from tests.conftest import StartFake, StartGateway, model
from tests.fakes.upstream import FakeUpstream, ok, status
from tests.raw_http import Conn, Reply, Samples, handovers, port_of, post, scrape

DOCS = ["Paris is the capital of France.", "Berlin is in Germany.", "The capital of France has museums."]
#: One well-formed request per client route and dialect, then client errors, each with its own request id.
BATTERY: list[tuple[str, Any]] = [
    ("/v1/rerank", {"model": "m", "query": "capital of France", "documents": DOCS}),
    ("/v1/rerank", {"model": "m", "query": "Germany", "documents": [{"text": d} for d in DOCS], "top_n": 2}),
    ("/v1/rerank", {"model": "m", "query": "France", "documents": DOCS, "return_documents": True}),
    ("/v1/rerank", {"model": "m", "query": "museums", "documents": DOCS, "top_k": 1}),  # a voyageai SDK
    ("/v2/rerank", {"model": "m", "query": "capital", "documents": DOCS, "top_n": 1}),
    ("/jina/v1/rerank", {"model": "m", "query": "Berlin", "documents": DOCS, "return_documents": True}),
    ("/voyage/v1/rerank", {"model": "m", "query": "France", "documents": DOCS, "return_documents": True}),
    ("/rerank", {"query": "Germany", "texts": DOCS, "return_text": True}),  # TEI
    ("/rerank", {"model": "m", "query": "Germany", "documents": DOCS}),  # vLLM, Infinity
    ("/v1/ranking", {"model": "m", "query": {"text": "France"}, "passages": [{"text": d} for d in DOCS]}),
    ("/v1/rerank", b'{"model": "m", "query": '),  # not JSON
    ("/v1/rerank", b""),  # no body at all
    ("/v1/rerank", {"model": "m", "documents": DOCS}),  # no query
    ("/v2/rerank", {"model": "m", "query": "q", "documents": "not a list"}),
    ("/v1/rerank", {"model": "nope", "query": "q", "documents": DOCS}),  # unknown model: 404
    ("/v1/ranking", {"model": "m", "query": "plain string", "passages": []}),
]


def config(upstream: str, **extra: Any) -> dict[str, Any]:
    """A gateway for model `m` on one Cohere upstream, with no score cache (each request reaches the upstream)."""
    return {
        "providers": {"up": {"type": "cohere", "base_url": upstream, "max_retries": 1}},
        "models": {"m": model(("up", "x"))},
        "cache": {"enabled": False},
        **extra,
    }


async def pair(
    start_fake: StartFake, start_gateway: StartGateway, **extra: Any
) -> list[tuple[FakeUpstream, TestClient[Any, Any]]]:
    """Two gateways on the same config, each on a fake upstream of its own: the fast lane's, then aiohttp's alone."""
    gateways = []
    for fast_lane in (True, False):
        fake, url = await start_fake("cohere")
        gateways.append((fake, await start_gateway(config(url, **extra), fast_lane=fast_lane)))
    return gateways


async def answers(client: TestClient[Any, Any], requests: list[bytes]) -> list[Reply]:
    """The answers to `requests`, sent one after the other on one keep-alive connection."""
    replies = []
    async with await Conn.open(port_of(client)) as conn:
        for data in requests:
            await conn.send(data)
            replies.append(await conn.reply())
    return replies


def counted(samples: Samples) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """The request, attempt, document and token counters: what the edge records per request, whichever lane."""
    names = (
        "rerank_gateway_requests_total",
        "rerank_gateway_request_seconds_count",
        "rerank_gateway_upstream_attempts_total",
        "rerank_gateway_documents_total",
        "rerank_gateway_upstream_tokens_total",
    )
    return {key: v for key, v in samples.items() if key[0] in names}


async def test_each_route_and_client_error_is_answered_as_aiohttp_answers_it(
    start_fake: StartFake, start_gateway: StartGateway
) -> None:
    """Successes on every client route and 400/404 errors get the same answers, counters and no handover."""
    requests = [post(path, body, headers=[("x-request-id", f"parity-{i}")]) for i, (path, body) in enumerate(BATTERY)]
    requests.append(post("/v1/rerank", {"model": "m", "query": "q", "documents": DOCS}))  # no request id: made
    (fast_fake, fast), (plain_fake, plain) = await pair(start_fake, start_gateway)
    got, want = await answers(fast, requests), await answers(plain, requests)
    assert [r.comparable() for r in got] == [r.comparable() for r in want]
    assert [r.status for r in got] == [200] * 10 + [400, 400, 400, 400, 404, 400, 200]
    assert [r.header("x-request-id") for r in got[:-1]] == [f"parity-{i}" for i in range(len(BATTERY))]
    assert all(parsedate_to_datetime(r.header("Date") or "").tzname() == "UTC" for r in got)
    assert fast_fake.received == plain_fake.received
    fast_samples, plain_samples = await scrape(port_of(fast)), await scrape(port_of(plain))
    assert counted(fast_samples) == counted(plain_samples)
    assert handovers(fast_samples) == {}  # no handover at all


async def test_auth_errors_are_answered_as_aiohttp_answers_them(
    start_fake: StartFake, start_gateway: StartGateway
) -> None:
    """With auth on, a missing, wrong or non-Bearer key gets the same 401 and WWW-Authenticate; a good key, 200."""
    keys = {"auth": {"api_keys": [{"name": "team", "key": "secret-1"}]}}
    body = {"model": "m", "query": "France", "documents": DOCS}
    requests = [
        post("/v1/rerank", body, headers=[("x-request-id", "no-key")]),
        post("/v1/rerank", body, headers=[("Authorization", "Bearer wrong"), ("x-request-id", "bad-key")]),
        post("/v2/rerank", body, headers=[("Authorization", "Basic secret-1"), ("x-request-id", "basic")]),
        post("/v1/rerank", body, headers=[("Authorization", "Bearer secret-1"), ("x-request-id", "good")]),
    ]
    (_, fast), (_, plain) = await pair(start_fake, start_gateway, **keys)
    got, want = await answers(fast, requests), await answers(plain, requests)
    assert [r.comparable() for r in got] == [r.comparable() for r in want]
    assert [(r.status, r.header("WWW-Authenticate")) for r in got] == [(401, "Bearer")] * 3 + [(200, None)]
    assert all(b"secret-1" not in r.body for r in got)
    fast_samples, plain_samples = await scrape(port_of(fast)), await scrape(port_of(plain))
    assert counted(fast_samples) == counted(plain_samples)
    assert handovers(fast_samples) == {}


async def test_an_exhausted_upstream_503_with_retry_after_is_answered_as_aiohttp_answers_it(
    start_fake: StartFake, start_gateway: StartGateway
) -> None:
    """An upstream that keeps answering 503 with Retry-After gives the same error and Retry-After in both lanes."""
    gateways = await pair(start_fake, start_gateway)
    for fake, _ in gateways:
        fake.default = status(503, headers={"Retry-After": "2"})
    request = post("/v1/rerank", {"model": "m", "query": "q", "documents": DOCS}, headers=[("x-request-id", "r503")])
    (fast_fake, fast), (plain_fake, plain) = gateways
    [got], [want] = await answers(fast, [request]), await answers(plain, [request])
    assert got.comparable() == want.comparable()
    assert got.status == 503
    assert got.header("Retry-After") == "2"
    assert got.header("x-request-id") == "r503"
    assert fast_fake.calls == plain_fake.calls > 0
    assert handovers(await scrape(port_of(fast))) == {}


async def test_statuses_the_fast_lane_writes_itself_read_as_aiohttps(
    start_fake: StartFake, start_gateway: StartGateway
) -> None:
    """413, 403, 429 and 504 answers made in the fast lane have aiohttp's status lines, header fields and bodies."""
    _, url = await start_fake("cohere", default=ok(delay=2.0))
    limited = {
        "providers": {"local": {"type": "local"}, "slow": {"type": "cohere", "base_url": url}},
        "models": {"m": model(("local", "bm25")), "other": model(("local", "bm25")), "slow": model(("slow", "x"))},
        "limits": {"max_documents": 3},
        "auth": {"api_keys": [{"name": "k", "key": "key", "rpm": 1, "models": ["m", "slow"]}]},
    }
    key = [("Authorization", "Bearer key")]
    requests = [
        post("/v1/rerank", {"model": "m", "query": "q", "documents": ["a"] * 4}, headers=key),  # 413
        post("/v1/rerank", {"model": "other", "query": "q", "documents": ["a"]}, headers=key),  # 403
        post(
            "/v1/rerank",
            {"model": "slow", "query": "q", "documents": ["a"]},
            headers=[*key, ("x-request-timeout", "0.1")],
        ),
        post("/v1/rerank", {"model": "m", "query": "q", "documents": ["a"]}, headers=key),  # past the rpm: 429
    ]
    fast, plain = await start_gateway(limited), await start_gateway(limited, fast_lane=False)
    got, want = await answers(fast, requests), await answers(plain, requests)
    assert [r.status for r in got] == [413, 403, 504, 429]

    def without_retry_after(reply: Reply) -> Any:
        version, code, reason, headers, body = reply.comparable()
        return version, code, reason, [(k, v) for k, v in headers if k != "Retry-After"], body  # seconds left vary

    # The 504's list of attempts depends on where the 0.1 s deadline fell: compared by its type only.
    same = [0, 1, 3]
    assert [without_retry_after(got[i]) for i in same] == [without_retry_after(want[i]) for i in same]
    assert got[2].json()["type"] == want[2].json()["type"]
    assert [r.reason for r in got] == ["Request Entity Too Large", "Forbidden", "Gateway Timeout", "Too Many Requests"]
    assert got[3].header("Retry-After") is not None
    assert handovers(await scrape(port_of(fast))) == {}


async def test_header_names_are_matched_in_any_case(start_fake: StartFake, start_gateway: StartGateway) -> None:
    """The fast lane finds Authorization, x-request-id and x-request-timeout whatever the case of their names."""
    keys = {"auth": {"api_keys": [{"name": "team", "key": "secret-1"}]}}
    body = {"model": "m", "query": "France", "documents": DOCS}
    requests = [
        post("/v1/rerank", body, headers=[("AUTHORIZATION", "Bearer secret-1"), ("X-Request-ID", "upper")]),
        post("/v1/rerank", body, headers=[("authorization", "bearer secret-1"), ("X-REQUEST-TIMEOUT", "zero")]),
    ]
    (_, fast), (_, plain) = await pair(start_fake, start_gateway, **keys)
    got, want = await answers(fast, requests), await answers(plain, requests)
    assert [r.comparable() for r in got] == [r.comparable() for r in want]
    assert (got[0].status, got[0].header("x-request-id")) == (200, "upper")
    assert (got[1].status, got[1].json()["field"]) == (400, "x-request-timeout")
    assert handovers(await scrape(port_of(fast))) == {}
