#!/usr/bin/env python3
"""A gateway cluster on one machine: redis-server, N gateway replicas and HAProxy, all on loopback.

    python deploy/local-cluster/cluster.py start     # starts whatever is not running yet
    python deploy/local-cluster/cluster.py status    # exit 0 only when everything runs
    python deploy/local-cluster/cluster.py stop      # HAProxy, then the replicas (drained), then Redis

Every process gets a PID file and a log file in the run directory (default: ./run beside this
script). `start` is idempotent: after a replica died, `start` again brings back just that one.
The ports chosen at the first start are kept in the run directory, so later commands agree.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Sequence
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
HAPROXY_CFG = """\
global
    maxconn 4096
    log stderr format raw local0 info

defaults
    mode http
    log global
    option httplog
    timeout connect 1s
    timeout client 60s
    timeout server 60s
    timeout check 1s
    # A replica that refuses the connection, or closes it without answering (SIGKILL, or an idle
    # keep-alive connection closed at shutdown), gets the request retried on another replica.
    retries 3
    option redispatch 1
    retry-on conn-failure empty-response

frontend gateway
    bind 127.0.0.1:{lb_port}
    default_backend replicas

backend replicas
    balance roundrobin
    # Readiness, not liveness: a draining replica answers 503 here and leaves the rotation first.
    option httpchk GET /readyz
    http-check expect status 200
    default-server inter 300ms fall 2 rise 2
{servers}
"""


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    run = Path(args.dir).resolve()
    run.mkdir(parents=True, exist_ok=True)
    layout = _layout(run, args)
    if args.command == "start":
        return _start(run, layout)
    if args.command == "stop":
        return _stop(run, layout)
    return _status(run, layout)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description="Run Redis, gateway replicas and HAProxy on loopback.")
    p.add_argument("command", choices=["start", "stop", "status"])
    p.add_argument("--dir", default=str(HERE / "run"), help="PID files, logs and generated config")
    p.add_argument("--config", default=str(HERE / "gateway.yaml"), help="the gateway config of every replica")
    p.add_argument("--replicas", type=int, default=3)
    p.add_argument("--lb-port", type=int, default=8000, help="HAProxy listens here")
    p.add_argument("--base-port", type=int, default=8081, help="replica i listens on base-port + i - 1")
    p.add_argument("--redis-port", type=int, default=6380)
    return p


def _layout(run: Path, args: argparse.Namespace) -> dict[str, object]:
    """Ports and config chosen at the first start; kept in the run directory for later commands."""
    saved = run / "cluster.json"
    if saved.exists():
        layout: dict[str, object] = json.loads(saved.read_text())
        return layout
    layout = {
        "config": str(Path(args.config).resolve()),
        "lb_port": args.lb_port,
        "redis_port": args.redis_port,
        "replicas": [args.base_port + i for i in range(args.replicas)],
    }
    if args.command == "start":
        saved.write_text(json.dumps(layout, indent=2))
    return layout


def _replicas(layout: dict[str, object]) -> list[tuple[str, int]]:
    ports = layout["replicas"]
    assert isinstance(ports, list)
    return [(f"gateway-{i}", int(port)) for i, port in enumerate(ports, 1)]


# --- processes and their PID files ---------------------------------------------------------------

#: What each component's command line must contain, so a stale PID file never hits another process.
SIGNATURE = {"redis": "redis-server", "haproxy": "haproxy", "gateway": "gateway"}


def _pid(run: Path, name: str) -> int | None:
    """The PID of `name` if it is running (and is what its PID file says it is)."""
    path = run / f"{name}.pid"
    try:
        pid = int(path.read_text().strip())
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, ValueError, IndexError):
        return None
    if state == "Z" or SIGNATURE[name.split("-", maxsplit=1)[0]] not in cmdline:
        return None
    return pid


def _launch(run: Path, name: str, cmd: list[str], env: dict[str, str] | None = None) -> None:
    log = (run / f"{name}.log").open("ab")
    proc = subprocess.Popen(
        cmd,
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=log,
        start_new_session=True,  # outlives this script, and a Ctrl-C here does not reach it
    )
    (run / f"{name}.pid").write_text(f"{proc.pid}\n")


def _wait(what: str, ready: object, *, seconds: float = 30) -> None:
    assert callable(ready)
    end = time.monotonic() + seconds
    while not ready():
        if time.monotonic() > end:
            raise SystemExit(f"{what} did not become ready within {seconds:g}s; see its log in the run directory")
        time.sleep(0.05)


def _http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1) as resp:
            return bool(resp.status == 200)
    except OSError:
        return False


def _redis_ok(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as s:
            s.sendall(b"PING\r\n")
            return s.recv(16).startswith(b"+PONG")
    except OSError:
        return False


# --- commands ------------------------------------------------------------------------------------


def _start(run: Path, layout: dict[str, object]) -> int:
    for tool in ("redis-server", "haproxy"):
        if shutil.which(tool) is None:
            raise SystemExit(f"{tool} is not installed (Debian: apt-get install {tool})")
    redis_port = int(str(layout["redis_port"]))
    if _pid(run, "redis") is None:
        cmd = ["redis-server", "--port", str(redis_port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        _launch(run, "redis", [*cmd, "--dir", str(run), "--daemonize", "no"])
    _wait("redis", lambda: _redis_ok(redis_port))
    env = {"CLUSTER_REDIS_PORT": str(redis_port), "PYTHONPATH": str(ROOT)}
    started = []
    for name, port in _replicas(layout):
        if _pid(run, name) is None:
            cmd = [sys.executable, "-m", "gateway", "serve", "--config", str(layout["config"]), "--port", str(port)]
            _launch(run, name, [*cmd, "--host", "127.0.0.1"], env)
            started.append((name, port))
    for name, port in started:
        _wait(name, lambda port=port: _http_ok(f"http://127.0.0.1:{port}/readyz"))
    lb_port = int(str(layout["lb_port"]))
    if _pid(run, "haproxy") is None:
        servers = "\n".join(f"    server {n} 127.0.0.1:{p} check" for n, p in _replicas(layout))
        cfg = run / "haproxy.cfg"
        cfg.write_text(HAPROXY_CFG.replace("{lb_port}", str(lb_port)).replace("{servers}", servers))
        _launch(run, "haproxy", ["haproxy", "-db", "-f", str(cfg)])
    _wait("haproxy", lambda: _http_ok(f"http://127.0.0.1:{lb_port}/readyz"))
    return _status(run, layout)


def _stop(run: Path, layout: dict[str, object]) -> int:
    # The load balancer first, so no new request reaches a replica that is about to stop.
    names = ["haproxy", *(name for name, _ in _replicas(layout)), "redis"]
    for name in names:
        pid = _pid(run, name)
        if pid is not None:
            os.kill(pid, signal.SIGTERM)
            end = time.monotonic() + 30  # replicas drain in-flight requests first
            while _pid(run, name) is not None and time.monotonic() < end:
                time.sleep(0.05)
            if _pid(run, name) is not None:
                os.kill(pid, signal.SIGKILL)
        (run / f"{name}.pid").unlink(missing_ok=True)
    print(f"stopped: {', '.join(names)}")
    return 0


def _status(run: Path, layout: dict[str, object]) -> int:
    rows = [("redis", int(str(layout["redis_port"])))]
    rows += _replicas(layout)
    rows.append(("haproxy", int(str(layout["lb_port"]))))
    down = 0
    for name, port in rows:
        pid = _pid(run, name)
        down += pid is None
        state = f"running  pid {pid}" if pid else "stopped"
        print(f"{name:<12} 127.0.0.1:{port:<6} {state}")
    print(f"load balancer: http://127.0.0.1:{layout['lb_port']}/v1/rerank   run directory: {run}")
    return 3 if down else 0  # 3: "not running", as init scripts say


if __name__ == "__main__":
    sys.exit(main())
