"""The harness: start the upstream, the forwarder and gateways; measure one cell; remember the rows."""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from bench import corpus, procs
from bench.load import run_wrk, write_script
from bench.procs import Proc, Procs, cpu_seconds, free_port, peak_rss_family_mb, wait_ready
from bench.report import Row


class Bench:
    """One benchmark run: the processes it started, where its files are, and the rows it measured."""

    def __init__(self, args: argparse.Namespace, folder: Path) -> None:
        self.args = args
        self.folder = folder
        self.procs = Procs(folder)
        self.script = write_script(folder)
        self.rows: list[Row] = []
        self.bodies = {n: corpus.write(folder, n) for n in {*self.docs, 200, 20}}
        self.upstream = ""

    @property
    def docs(self) -> list[int]:
        return [int(x) for x in self.args.docs.split(",")]

    @property
    def concs(self) -> list[int]:
        return [int(x) for x in self.args.concurrency.split(",")]

    def measure(self, label: str, url: str, *, docs: int, conc: int, pid: int | None = None, note: str = "") -> Row:
        """Run one cell `--repeat` times and keep the best row, as the grid does, so rows compare alike."""
        cells = [self.cell(label, url, docs=docs, conc=conc, pid=pid, note=note) for _ in range(self.args.repeat)]
        row = max(cells, key=lambda r: r.measured.rps if r.measured else 0.0)
        self.rows.append(row)
        return row

    def cell(self, label: str, url: str, *, docs: int, conc: int, pid: int | None = None, note: str = "") -> Row:
        """Run one cell; the row has the server's CPU time per request and its peak RSS after the cell."""
        cpu_before = cpu_seconds(pid) if pid else 0.0
        m = run_wrk(url, body=self.bodies[docs], script=self.script, connections=conc,
                    seconds=self.args.duration, threads=self.args.wrk_threads)  # fmt: skip
        cpu_us = (cpu_seconds(pid) - cpu_before) / m.requests * 1e6 if pid and m.requests else None
        rss = peak_rss_family_mb(pid) if pid else None
        row = Row(label=label, docs=docs, conc=conc, measured=m, rss_mb=rss, cpu_us=cpu_us, note=note)
        print(f"  {label:<32} docs={docs:<5} c={conc:<3} {m.rps:8.0f} req/s  p50 {m.p50:.2f} ms  "
              f"p99 {m.p99:.2f} ms  errors {m.errors}", file=sys.stderr, flush=True)  # fmt: skip
        return row

    def warm(self, url: str, docs: int) -> None:
        run_wrk(url, body=self.bodies[docs], script=self.script, connections=16, seconds=1)

    def skip(self, label: str, note: str, *, docs: int = 20, conc: int = 1) -> None:
        self.rows.append(Row(label=label, docs=docs, conc=conc, measured=None, note=note))
        print(f"  {label}: skipped ({note})", file=sys.stderr, flush=True)

    # --- processes -------------------------------------------------------------------------------

    def start_upstream(self) -> None:
        port = free_port()
        fakes = [
            self.procs.start(f"upstream-{i}", ["-m", "bench.fake_upstream", "--port", str(port)])
            for i in range(self.args.upstream_procs)
        ]
        for fake in fakes:
            _wait_log(fake, "listening")
        self.upstream = f"http://127.0.0.1:{port}"

    def start_forwarder(self) -> tuple[Proc, str]:
        port = free_port()
        proc = self.procs.start(
            "forwarder", ["-m", "bench.forwarder", "--port", str(port), "--upstream", self.upstream]
        )
        url = f"http://127.0.0.1:{port}/v1/rerank"
        wait_ready(proc, url, self.bodies[20].read_bytes())
        return proc, url

    def config(
        self, *, failover: bool = False, retries: int = 0, extra: str | None = None, cache: bool = False
    ) -> Path:
        port = free_port()
        config = gateway_config(port=port, upstream=self.upstream, failover=failover, retries=retries, cache=cache)
        if extra:
            _merge(config, yaml.safe_load(extra))
        path = self.folder / f"gateway-{port}.yaml"
        path.write_text(yaml.safe_dump(config))
        return path

    def start_gateway(
        self, config: Path, *, name: str, flags: Sequence[str] = ("--log-level", "warning")
    ) -> tuple[Proc, str]:
        port = yaml.safe_load(config.read_text())["server"]["port"]
        proc = self.procs.start(name, ["-m", "gateway", "serve", "--config", str(config), *flags])
        url = f"http://127.0.0.1:{port}/v1/rerank"
        wait_ready(proc, url, self.bodies[20].read_bytes())
        return proc, url


def _wait_log(proc: Proc, text: str, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if text in proc.tail(5):
            return
        if not proc.alive():
            break
        time.sleep(0.05)
    raise RuntimeError(f"{proc.name} did not start:\n{proc.tail()}")


def gateway_config(
    *,
    port: int,
    upstream: str,
    log_level: str = "warning",
    failover: bool = False,
    retries: int = 0,
    cache: bool = False,
) -> dict[str, Any]:
    """The gateway's config for a benchmark: one `cohere` provider on the fake upstream, auth off.

    `failover` puts a primary in front that refuses connections (with `retries`); the score cache
    is off unless asked (wrk posts one body over and over: with the cache on, every request after
    the first would be answered from it and never reach the upstream).
    """
    providers: dict[str, Any] = {"fake": {"type": "cohere", "base_url": upstream, "api_key": "bench-key"}}
    routes = [{"provider": "fake", "model": "rerank-bench"}]
    if failover:
        dead = f"http://127.0.0.1:{free_port()}"
        providers["primary"] = {"type": "cohere", "base_url": dead, "api_key": "k", "max_retries": retries}
        routes.insert(0, {"provider": "primary", "model": "rerank-bench"})
    return {
        "server": {"host": "127.0.0.1", "port": port},
        "log_level": log_level,
        "providers": providers,
        "models": {corpus.MODEL: {"type": "rerank", "providers": routes}},
        "cache": {"enabled": cache},
    }


def _merge(into: dict[str, Any], extra: Any) -> None:
    for key, value in (extra or {}).items():
        if isinstance(value, dict) and isinstance(into.get(key), dict):
            _merge(into[key], value)
        else:
            into[key] = value


def serve_help() -> str:
    out = subprocess.run([sys.executable, "-m", "gateway", "serve", "--help"], cwd=procs.ROOT,
                         capture_output=True, text=True, check=False, timeout=30)  # fmt: skip
    return out.stdout


def check_config(config: Path) -> str | None:
    """None if `gateway check` accepts the config, else its first problem."""
    out = subprocess.run([sys.executable, "-m", "gateway", "check", "--config", str(config)], cwd=procs.ROOT,
                         capture_output=True, text=True, check=False, timeout=30)  # fmt: skip
    if out.returncode == 0:
        return None
    lines = [ln.strip() for ln in out.stderr.splitlines() if ln.strip()]
    return lines[1] if len(lines) > 1 else (lines[0] if lines else "rejected")
