"""The Redis client is imported only by a process whose config uses the Redis backend, and then works."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from tests.procs import RedisServer

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = textwrap.dedent(
    """
    import asyncio, sys
    from gateway import cli, server  # everything `gateway serve` imports
    from gateway import config as config_mod
    from gateway import state
    from gateway.app import create_app
    from gateway.state.settings import CacheConfig, RedisConfig, StateConfig

    text = "providers: {l: {type: local}}\\nmodels: {m: {providers: [{provider: l}]}}\\n"
    app = create_app(config_mod.parse(text, env={}))
    print("memory:", sorted(m for m in sys.modules if m.split(".")[0] == "redis")[:1])

    async def shared() -> None:
        st = state.build(StateConfig(backend="redis", redis=RedisConfig(url=sys.argv[1])), CacheConfig())
        await st.start()
        await st.scores.put({"k": 0.5})
        print("redis:", st.shared, await st.scores.get(["k"]), st.counters.redis_up)
        await st.close()

    asyncio.run(shared())
    """
)


def test_memory_backend_never_imports_redis_and_the_redis_backend_still_works(redis_server: RedisServer) -> None:
    """A memory-backed app loads no redis module; a Redis backend built later imports it and talks to Redis."""
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT, redis_server.url],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
        cwd=ROOT,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines() == ["memory: []", "redis: True [0.5] 1"]
