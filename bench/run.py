"""The benchmark: direct-to-upstream vs a bare forwarder vs the gateway, printed as one table.

    python -m bench.run            # about 4 minutes
    python -m bench.run --quick    # about 1.5 minutes, shorter cells

Everything runs on loopback: a fake Cohere v1 upstream (several processes on one port), the bare
aiohttp forwarder, the gateway on a temporary config, and wrk as the load generator. Every process
is stopped by PID when the run ends, however it ends.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

import aiohttp
import orjson

if not __package__:  # run as `python bench/run.py`: make the repository root importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import report
from bench.harness import Bench, check_config, serve_help
from bench.procs import peak_rss_mb
from bench.report import Row

DEFAULT_BREAKER = "providers: {primary: {breaker: {failures: 1, cooldown: 600}}}"


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """The command line; `--quick` shortens every cell."""
    p = argparse.ArgumentParser(prog="python -m bench.run", description="Benchmark the gateway against a floor.")
    p.add_argument("--quick", action="store_true", help="2 s cells instead of 5 s")
    p.add_argument("--duration", type=int, default=5, help="seconds per cell (default 5)")
    p.add_argument("--concurrency", default="1,16,64", help="comma-separated (default 1,16,64)")
    p.add_argument("--docs", default="20,1000", help="document counts (default 20,1000; 200 is added at c=1)")
    p.add_argument("--repeat", type=int, default=1, help="runs per cell (interleaved in the grid); the best is kept")
    p.add_argument("--wrk-threads", type=int, default=1, help="wrk threads (default 1: only 2 cores here)")
    p.add_argument("--upstream-procs", type=int, default=2, help="fake upstream processes on one port (default 2)")
    p.add_argument("--workers", type=int, default=2, help="N for the `--workers N` row, if serve has it")
    p.add_argument("--breaker-yaml", default=DEFAULT_BREAKER, help="YAML merged into the breaker row's config")
    p.add_argument("--no-extras", action="store_true", help="only the direct / forwarder / gateway grid")
    p.add_argument("--profile", type=Path, help="py-spy the gateway during its grid cells into this file")
    p.add_argument("--json", type=Path, help="also write every row as JSON to this file")
    args = p.parse_args(argv)
    if args.quick:
        args.duration = 2
    return args


def grid(bench: Bench, gateway: str, gw_pid: int, forwarder: str, fw_pid: int) -> None:
    """Direct, forwarder and gateway side by side per size and concurrency, and 200 documents at c=1.

    The three are interleaved cell by cell, so a burst of other work on a shared machine hits them alike.
    """
    targets = [
        ("direct", bench.upstream + "/v1/rerank", None),
        ("forwarder", forwarder, fw_pid),
        ("gateway", gateway, gw_pid),
    ]
    for docs in sorted({*bench.docs, 200}):
        for _, url, _ in targets:
            bench.warm(url, docs)
        for conc in bench.concs if docs != 200 else [1]:
            runs: dict[str, list[Row]] = {}
            for _ in range(bench.args.repeat):
                for label, url, pid in targets:
                    if docs == 200 and label == "forwarder":
                        continue
                    runs.setdefault(label, []).append(bench.cell(label, url, docs=docs, conc=conc, pid=pid))
            for cells in runs.values():
                bench.rows.append(max(cells, key=lambda r: r.measured.rps if r.measured else 0.0))


def extras(bench: Bench) -> None:
    """Failover, breaker, score cache, fast lane off, access log and --workers rows, each on its own gateway process."""
    config = bench.config(failover=True, retries=0)
    proc, url = bench.start_gateway(config, name="gateway-failover")
    bench.warm(url, 20)
    for conc in (1, 64):
        bench.measure(report.FAILOVER, url, docs=20, conc=conc, pid=proc.pid, note="primary max_retries=0")
    bench.procs.stop(proc)

    config = bench.config(failover=True, retries=2)
    proc, url = bench.start_gateway(config, name="gateway-failover-retries")
    bench.measure(report.FAILOVER_RETRIES, url, docs=20, conc=1, pid=proc.pid, note="connect errors retried")
    bench.procs.stop(proc)

    config = bench.config(failover=True, retries=0, extra=bench.args.breaker_yaml)
    problem = check_config(config)
    if problem is not None:
        bench.skip(report.BREAKER, f"no breaker support in this config: {problem}")
    else:
        proc, url = bench.start_gateway(config, name="gateway-breaker")
        bench.warm(url, 20)  # the failures of the warm-up open the breaker
        for conc in (1, 64):
            bench.measure(report.BREAKER, url, docs=20, conc=conc, pid=proc.pid)
        bench.procs.stop(proc)

    # The default config keeps scores: wrk's one body is then answered from the cache after the first.
    proc, url = bench.start_gateway(bench.config(cache=True), name="gateway-cache")
    bench.warm(url, 20)
    for conc in (1, 64):
        bench.measure(report.CACHE_HITS, url, docs=20, conc=conc, pid=proc.pid, note="no upstream call")
    bench.procs.stop(proc)

    # Every request read by aiohttp's server, as before the fast lane: what the fast lane saves.
    proc, url = bench.start_gateway(bench.config(extra="server: {fast_lane: false}"), name="gateway-aiohttp")
    bench.warm(url, 20)
    for conc in (1, 64):
        bench.measure(report.NO_FAST_LANE, url, docs=20, conc=conc, pid=proc.pid, note="aiohttp reads all")
    bench.procs.stop(proc)

    config = bench.config()
    proc, url = bench.start_gateway(config, name="gateway-access-log", flags=("--log-level", "info"))
    bench.warm(url, 20)
    bench.measure(report.ACCESS_LOG, url, docs=20, conc=64, pid=proc.pid, note="JSON lines to a file")
    bench.procs.stop(proc)

    label = report.WORKERS.format(n=bench.args.workers)
    if "--workers" not in serve_help():
        bench.skip(label, "`gateway serve --help` has no --workers", conc=64)
        return
    flags = ("--log-level", "warning", "--workers", str(bench.args.workers))
    # A fresh port: the access-log gateway's may not be free again yet.
    proc, url = bench.start_gateway(bench.config(), name="gateway-workers", flags=flags)
    bench.warm(url, 20)
    for conc in (16, 64):
        bench.measure(label, url, docs=20, conc=conc, pid=proc.pid, note="RSS: largest process")
    bench.procs.stop(proc)


def machine(args: argparse.Namespace) -> list[str]:
    """Where the figures come from, and what they share the machine with."""
    cpu = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    versions = f"python {platform.python_version()}, aiohttp {aiohttp.__version__}, orjson {orjson.__version__}"
    return [
        f"machine: {os.cpu_count()} cores (nproc), {cpu}, {platform.system()} {platform.release()}; {versions}",
        f"cells: {args.duration} s each after a 1 s warm-up"
        + (f", every cell best of {args.repeat} runs (grid cells interleaved)" if args.repeat > 1 else "")
        + f"; wrk -t{args.wrk_threads}; fake upstream: "
        f"{args.upstream_procs} processes on one port (SO_REUSEPORT); everything on loopback",
        "note: wrk, the upstream and the server under test share these cores, so absolute figures are lower",
        "      than on separate machines; compare rows of the same run (ratios), not runs.",
    ]


def run(args: argparse.Namespace, folder: Path) -> int:
    """Start everything, measure, print the table and the targets."""
    bench = Bench(args, folder)
    try:
        bench.start_upstream()
        fw_proc, forwarder = bench.start_forwarder()
        gw_proc, gateway = bench.start_gateway(bench.config(), name="gateway")
        spy = _profile(args.profile, gw_proc.pid) if args.profile else None
        try:
            grid(bench, gateway, gw_proc.pid, forwarder, fw_proc.pid)
        finally:
            if spy is not None:
                spy.send_signal(signal.SIGINT)
                spy.wait(timeout=60)
        peak = peak_rss_mb(gw_proc.pid)
        bench.procs.stop(gw_proc)
        bench.procs.stop(fw_proc)
        if not args.no_extras:
            extras(bench)
    finally:
        bench.procs.stop_all()
    print("\n".join(machine(args)))
    print()
    print(report.table(bench.rows))
    print()
    print(f"gateway peak RSS over the whole grid (VmHWM): {peak:.1f} MB" if peak else "gateway peak RSS: unknown")
    print("targets (issue 7; ratios within this run):")
    print("\n".join(report.targets(bench.rows)))
    if args.json:
        args.json.write_bytes(orjson.dumps([r.as_dict() for r in bench.rows], option=orjson.OPT_INDENT_2))
    return 0


def _profile(path: Path, pid: int) -> subprocess.Popen[bytes]:
    """py-spy record on the gateway; the format follows the file name (.svg, .json speedscope, else raw)."""
    fmt = {".svg": "flamegraph", ".json": "speedscope"}.get(path.suffix, "raw")
    spy = shutil.which("py-spy")
    if spy is None:
        raise RuntimeError("py-spy is not installed: pip install -e '.[dev]'")
    cmd = [spy, "record", "--nonblocking", "--rate", "200", "--format", fmt, "-o", str(path), "-p", str(pid)]
    return subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m bench.run`: see the module docstring."""
    args = parse_args(argv)
    folder = Path(tempfile.mkdtemp(prefix="rerank-bench-"))
    try:
        return run(args, folder)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
