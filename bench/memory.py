"""Where the gateway's memory goes: resident set after start and under load, and what holds the peak.

    python -m bench.memory                          # RSS of a `gateway serve` process: start, peak, after
    python -m bench.memory --docs 1000 --concurrency 64 --seconds 5
    python -m bench.memory --env MALLOC_ARENA_MAX=2 # the same, with an allocator setting to compare
    python -m bench.memory --trace                  # in process under tracemalloc: the lines holding the peak

The default mode starts the fake upstream and a real `gateway serve` process on a temporary config
(score cache off, like every benchmark), reads /proc/<pid>/status after start, loads it with wrk, and
prints VmRSS/VmHWM. `--trace` instead serves the same app in this process with tracemalloc on,
samples the traced total while wrk runs, keeps the snapshot at the largest total and prints the
source lines (and the modules) that held it. tracemalloc slows the gateway down (so more requests
wait at each step than without it) and counts requested bytes, not pages: use it for where, and
the default mode for how much.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import shutil
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Sequence
from pathlib import Path

import yaml

if not __package__:  # run as `python bench/memory.py`: make the repository root importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import corpus
from bench.harness import Bench
from bench.load import run_wrk, wrk_path
from bench.procs import memory_mb, stat_fields

MB = 1024 * 1024


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.memory", description="The gateway's memory under load.")
    p.add_argument("--docs", type=int, default=1000, help="documents per request (default 1000)")
    p.add_argument("--concurrency", type=int, default=64, help="wrk connections (default 64)")
    p.add_argument("--seconds", type=int, default=5, help="seconds of load (default 5)")
    p.add_argument("--env", action="append", default=[], help="NAME=VALUE for the gateway process (repeatable)")
    p.add_argument("--trace", action="store_true", help="in process under tracemalloc: what holds the peak")
    p.add_argument("--top", type=int, default=25, help="lines to print in --trace mode (default 25)")
    p.add_argument("--upstream-procs", type=int, default=2, help="fake upstream processes (default 2)")
    return p.parse_args(argv)


def _bench(args: argparse.Namespace, folder: Path) -> Bench:
    ns = argparse.Namespace(docs=str(args.docs), concurrency=str(args.concurrency), duration=args.seconds,
                            wrk_threads=1, upstream_procs=args.upstream_procs)  # fmt: skip
    return Bench(ns, folder)


def measure_process(args: argparse.Namespace, folder: Path) -> None:
    """A real `gateway serve` process: RSS after start, peak under load, RSS after the load."""
    bench = _bench(args, folder)
    try:
        bench.start_upstream()
        config = bench.config()
        env = dict(item.split("=", 1) for item in args.env)
        port = yaml.safe_load(config.read_text())["server"]["port"]
        proc = bench.procs.start("gateway", ["-m", "gateway", "serve", "--config", str(config)], env=env)
        url = f"http://127.0.0.1:{port}/v1/rerank"
        _wait_port(proc.pid, port)
        started = memory_mb(proc.pid, "VmRSS", "VmHWM")
        print(f"after start (no request yet): VmRSS {started['VmRSS']:.1f} MB  VmHWM {started['VmHWM']:.1f} MB")
        cpu = _cpu(proc.pid)
        m = run_wrk(url, body=bench.bodies[args.docs], script=bench.script, connections=args.concurrency,
                    seconds=args.seconds)  # fmt: skip
        count = max(1, m.requests)
        user, system, faults = (1e6 * (b - a) / count for a, b in zip(cpu, _cpu(proc.pid), strict=True))
        loaded = memory_mb(proc.pid, "VmRSS", "VmHWM")
        time.sleep(1.0)
        idle = memory_mb(proc.pid, "VmRSS", "VmHWM")
        print(f"{args.docs} docs, c={args.concurrency}, {args.seconds} s: {m.rps:.0f} req/s, errors {m.errors}")
        print(f"gateway per request: CPU user {user:.0f} us, system {system:.0f} us; {faults:.0f} page faults")
        print(f"peak under load: VmHWM {loaded['VmHWM']:.1f} MB")
        print(f"1 s after the load: VmRSS {idle['VmRSS']:.1f} MB")
    finally:
        bench.procs.stop_all()


def _cpu(pid: int) -> tuple[float, float, float]:
    """User and system CPU seconds of a process so far, and its minor page faults."""
    fields = stat_fields(pid)
    if fields is None:
        raise RuntimeError("the gateway exited")
    ticks = os.sysconf("SC_CLK_TCK")
    # utime, stime and minflt: fields 14, 15 and 10 of proc(5)
    return int(fields[11]) / ticks, int(fields[12]) / ticks, int(fields[7]) / 1e6


def _wait_port(pid: int, port: int, timeout: float = 20.0) -> None:
    """Wait until the gateway listens (without sending a request, so the start figure is clean)."""
    import socket  # noqa: PLC0415 - only this helper needs it

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not Path(f"/proc/{pid}").exists():
            raise RuntimeError("the gateway exited early")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                time.sleep(0.2)  # readiness settles (start hooks ran before listen, so this is slack)
                return
        time.sleep(0.05)
    raise RuntimeError("the gateway did not listen")


async def trace_in_process(args: argparse.Namespace, folder: Path) -> None:
    """Serve the real app in this process under tracemalloc and print what held the peak."""
    from aiohttp import web  # noqa: PLC0415 - only the trace mode serves in process

    from gateway import config as config_mod  # noqa: PLC0415
    from gateway.app import create_app  # noqa: PLC0415

    bench = _bench(args, folder)
    try:
        bench.start_upstream()
        path = bench.config()
        config = config_mod.load(str(path))
        app = create_app(config)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", config.server.port)
        await site.start()
        url = f"http://127.0.0.1:{config.server.port}/v1/rerank"
        body = bench.bodies[args.docs]
        await asyncio.to_thread(run_wrk, url, body=body, script=bench.script, connections=4, seconds=1)
        gc.collect()
        tracemalloc.start(8)
        base = tracemalloc.take_snapshot()
        done = asyncio.Event()
        best: list[tuple[int, tracemalloc.Snapshot | None]] = [(0, None)]

        async def sample() -> None:
            while not done.is_set():
                current, _ = tracemalloc.get_traced_memory()
                if current > best[0][0] * 1.02:
                    best[0] = (current, tracemalloc.take_snapshot())
                await asyncio.sleep(0.05)

        sampler = asyncio.create_task(sample())
        m = await asyncio.to_thread(run_wrk, url, body=body, script=bench.script, connections=args.concurrency,
                                    seconds=args.seconds, timeout=30)  # fmt: skip
        done.set()
        await sampler
        _, peak_total = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        await runner.cleanup()
    finally:
        bench.procs.stop_all()
    total, snap = best[0]
    print(f"{args.docs} docs, c={args.concurrency}: {m.rps:.0f} req/s under tracemalloc, errors {m.errors}")
    print(f"traced above the idle gateway: peak {peak_total / MB:.1f} MB; largest sample {total / MB:.1f} MB")
    if snap is not None:
        _print_breakdown(snap.compare_to(base, "lineno"), snap.compare_to(base, "filename"), top=args.top)


def _print_breakdown(
    lines: list[tracemalloc.StatisticDiff], files: list[tracemalloc.StatisticDiff], *, top: int
) -> None:
    print("\nlargest sample, growth over idle, by source line:")
    for stat in lines[:top]:
        if stat.size_diff <= 0:
            continue
        frame = stat.traceback[0]
        print(f"  {stat.size_diff / MB:7.2f} MB {stat.count_diff:>8} blocks  {_short(frame.filename)}:{frame.lineno}")
    print("\nby file:")
    for stat in files[:12]:
        if stat.size_diff > 0:
            print(f"  {stat.size_diff / MB:7.2f} MB  {_short(stat.traceback[0].filename)}")


def _short(filename: str) -> str:
    for marker in ("site-packages/", "/gateway/", "/bench/"):
        if marker in filename:
            head = "" if marker == "site-packages/" else marker.strip("/") + "/"
            return head + filename.split(marker, 1)[1]
    return filename.rsplit("/", 2)[-1] if "python3" in filename else filename


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m bench.memory`: see the module docstring."""
    args = parse_args(argv)
    wrk_path()
    folder = Path(tempfile.mkdtemp(prefix="rerank-memory-"))
    try:
        corpus.write(folder, args.docs)
        if args.trace:
            asyncio.run(trace_in_process(args, folder))
        else:
            measure_process(args, folder)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    sys.exit(main())
