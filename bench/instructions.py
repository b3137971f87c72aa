"""CPU instructions per request of the gateway or the forwarder, counted by valgrind (callgrind).

    python -m bench.instructions                  # gateway and forwarder, 20 documents
    python -m bench.instructions --docs 1000 --requests 50 --only gateway

Wall and CPU time move by 30% between runs on a shared 2-core machine; the number of instructions
a server executes per request does not. Each server runs under callgrind; its counters are zeroed
after a first answer and dumped after N more (callgrind_control), so start-up and shutdown are
not counted: the total over N is the cost of one request in user space, all threads included
(kernel time is not). Slow: about a minute per figure. Needs `valgrind` (apt-get install valgrind).
"""

from __future__ import annotations

import argparse
import http.client
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

if not __package__:  # run as `python bench/instructions.py`: make the repository root importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import yaml

from bench import corpus
from bench.harness import gateway_config
from bench.procs import ROOT, free_port


def server_args(kind: str, *, port: int, upstream: str, folder: Path, log_level: str) -> list[str]:
    """The `python` arguments that start the gateway (on a fresh config) or the forwarder."""
    if kind == "forwarder":
        return ["-m", "bench.forwarder", "--port", str(port), "--upstream", upstream]
    config = folder / f"gateway-{port}.yaml"
    config.write_text(yaml.safe_dump(gateway_config(port=port, upstream=upstream, log_level=log_level)))
    return ["-m", "gateway", "serve", "--config", str(config), "--log-level", log_level]


def counted(args: list[str], *, port: int, body: bytes, requests: int, folder: Path) -> float:
    """Instructions per request of the server: counters zeroed after a first answer, dumped after N more."""
    out = folder / "callgrind.out"
    cmd = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", sys.executable, *args]
    env = {"PYTHONHASHSEED": "0", "PYTHONPATH": str(ROOT), "PATH": os.environ.get("PATH", "/usr/bin:/bin")}
    with (folder / "server.log").open("w") as log:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        conn = _first_answer(port, body, proc)
        _control(proc.pid, "--zero")
        for _ in range(requests):
            conn.request("POST", "/v1/rerank", body, {"Content-Type": "application/json"})
            resp = conn.getresponse()
            resp.read()
            if resp.status != 200:
                raise RuntimeError(f"answer {resp.status}")
        _control(proc.pid, "--dump")
        conn.close()
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=120)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    # callgrind_control --dump writes callgrind.out.1; the dump at exit goes to callgrind.out itself.
    requested = folder / "callgrind.out.1"
    text = requested.read_text(errors="replace") if requested.exists() else ""
    for dump in folder.glob("callgrind.out*"):
        dump.unlink()
    found = re.search(r"^(?:totals|summary): (\d+)", text, re.MULTILINE)
    if found is None:
        raise RuntimeError("callgrind wrote no dump for the requests")
    return int(found.group(1)) / requests


def _control(pid: int, action: str) -> None:
    subprocess.run(["callgrind_control", action, str(pid)], check=True, capture_output=True, timeout=120)


def _first_answer(port: int, body: bytes, proc: subprocess.Popen[bytes]) -> http.client.HTTPConnection:
    deadline = time.monotonic() + 300  # start-up under valgrind takes tens of seconds
    while time.monotonic() < deadline and proc.poll() is None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        try:
            conn.request("POST", "/v1/rerank", body, {"Content-Type": "application/json"})
            resp = conn.getresponse()
            resp.read()
        except (OSError, http.client.HTTPException):
            conn.close()
            time.sleep(0.5)
            continue
        return conn
    raise RuntimeError("the server never answered under valgrind")


def main(argv: Sequence[str] | None = None) -> int:
    """Print instructions per request for each server."""
    p = argparse.ArgumentParser(prog="python -m bench.instructions", description="Instructions per request.")
    p.add_argument("--docs", type=int, default=20, help="documents per request (default 20)")
    p.add_argument("--requests", type=int, default=200, help="requests counted (default 200)")
    p.add_argument("--only", choices=["gateway", "forwarder"], help="measure one server only")
    p.add_argument("--log-level", default="warning", help="the gateway's log level (info: with access log)")
    args = p.parse_args(argv)
    if shutil.which("valgrind") is None:
        print("valgrind is not installed: apt-get install valgrind", file=sys.stderr)
        return 2
    body = corpus.body(args.docs)
    folder = Path(tempfile.mkdtemp(prefix="rerank-instr-"))
    up_port = free_port()
    upstream = subprocess.Popen(
        [sys.executable, "-m", "bench.fake_upstream", "--port", str(up_port)], cwd=ROOT, stdout=subprocess.DEVNULL
    )
    try:
        for kind in [args.only] if args.only else ["forwarder", "gateway"]:
            port = free_port()
            server = server_args(
                kind, port=port, upstream=f"http://127.0.0.1:{up_port}", folder=folder, log_level=args.log_level
            )
            per = counted(server, port=port, body=body, requests=args.requests, folder=folder)
            print(f"{kind:<9} {args.docs:>5} docs  {per:>12,.0f} instructions per request", flush=True)
    finally:
        upstream.terminate()
        upstream.wait(timeout=10)
        shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
