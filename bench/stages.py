"""CPU cost of each step of the gateway's fast path, in process, without any network.

    python -m bench.stages

The load benchmark (bench/run.py) shares two cores with wrk, the upstream and whatever else runs,
so its figures move by 10-30% between runs; this script times the gateway's own per-request
work (decode, parse, the score cache's keys, build, parse the upstream answer, sort, render) with
the best of several repeats, which is stable enough to show what a change to the fast path is worth.
"""

from __future__ import annotations

import argparse
import gc
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import orjson

if not __package__:  # run as `python bench/stages.py`: make the repository root importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import corpus, fake_upstream
from gateway.config import LimitsConfig
from gateway.dialects import CLIENT_ROUTES, PROVIDER_DIALECTS
from gateway.model import RerankResult, sort_and_cut
from gateway.router.cache import score_keys
from gateway.web import handlers


def steps(count: int) -> list[tuple[str, Callable[[], Any]]]:
    """The fast path's steps for a request of `count` documents, each a callable on prepared input."""
    client = CLIENT_ROUTES["/v1/rerank"]
    provider = PROVIDER_DIALECTS["cohere"]
    raw = corpus.body(count)
    body = orjson.loads(raw)
    request = client.parse(body)
    sent = provider.build(request, model="rerank-bench", documents=request.documents, top_n=None)
    answer = fake_upstream.answer(count).split(b"\r\n\r\n", 1)[1]
    data = orjson.loads(answer)
    ranking = provider.parse(data, count=count, expected=count)
    result = RerankResult(
        id="x", model="bench", results=sort_and_cut(list(ranking.results), None), usage=ranking.usage,
        provider="fake", attempts=(),
    )  # fmt: skip
    rendered = client.render(result, request)
    limits = LimitsConfig()
    docs = request.documents
    return [
        ("decode client body (orjson.loads)", lambda: orjson.loads(raw)),
        ("parse client request (dialect.parse)", lambda: client.parse(body)),
        ("check limits", lambda: handlers._check_limits(request, limits, paths={})),
        # On by default; the benchmarks turn the cache off, so only this row shows its per-document cost.
        ("score cache keys (score_keys)", lambda: score_keys("provider", request)),
        ("build provider body (build)", lambda: provider.build(request, model="m", documents=docs, top_n=None)),
        ("encode provider body (orjson.dumps)", lambda: orjson.dumps(sent)),
        ("decode upstream answer (orjson.loads)", lambda: orjson.loads(answer)),
        ("parse upstream answer (dialect.parse)", lambda: provider.parse(data, count=count, expected=count)),
        ("sort and cut", lambda: sort_and_cut(list(ranking.results), None)),
        ("render answer (dialect.render)", lambda: client.render(result, request)),
        ("encode answer (orjson.dumps)", lambda: orjson.dumps(rendered)),
    ]  # fmt: skip


def best_us(fn: Callable[[], Any], *, budget: float = 0.2, repeats: int = 5) -> float:
    """Microseconds per call: the best of `repeats` runs of about `budget` seconds each."""
    fn()
    start = time.process_time()
    fn()
    once = max(time.process_time() - start, 1e-7)
    loops = max(1, int(budget / once))
    best = float("inf")
    for _ in range(repeats):
        start = time.process_time()
        for _ in range(loops):
            fn()
        best = min(best, (time.process_time() - start) / loops)
    return best * 1e6


def main(argv: Sequence[str] | None = None) -> int:
    """Print one column of microseconds per document count."""
    p = argparse.ArgumentParser(prog="python -m bench.stages", description="Time the gateway's fast-path steps.")
    p.add_argument("--docs", default="20,1000", help="document counts (default 20,1000)")
    counts = [int(x) for x in p.parse_args(argv).docs.split(",")]
    prepared = {n: steps(n) for n in counts}
    # As `gateway serve` does: what exists before traffic is frozen out of the collector, so the cost
    # of collections depends on what a step allocates, not on what this script happens to hold.
    gc.collect()
    gc.freeze()
    table = {n: [(name, best_us(fn)) for name, fn in prepared[n]] for n in counts}
    names = [name for name, _ in table[counts[0]]]
    print(f"{'step (us per request)':<42}" + "".join(f"{f'{n} docs':>12}" for n in counts))
    for i, name in enumerate(names):
        print(f"{name:<42}" + "".join(f"{table[n][i][1]:>12.1f}" for n in counts))
    print(f"{'total':<42}" + "".join(f"{sum(us for _, us in table[n]):>12.1f}" for n in counts))
    return 0


if __name__ == "__main__":
    sys.exit(main())
