"""The load generator: wrk with a Lua script that POSTs one body and prints its latency percentiles."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import attrs

#: wrk runs `init` in every thread (the body is read there) and `done` once, after the run.
LUA = """
function init(args)
  local f = assert(io.open(args[1], "rb"))
  wrk.body = f:read("*a")
  f:close()
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("BENCH-RESULT %d %d %d %d %d %d %d %.1f %.1f %.1f %.1f\\n",
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(99), latency:percentile(99.9), latency.mean))
end
"""


@attrs.frozen(kw_only=True)
class Measured:
    """One wrk run: throughput, latency percentiles in milliseconds, and errors of any kind."""

    requests: int
    seconds: float
    errors: int
    p50: float
    p99: float
    p999: float
    mean: float

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def wrk_path() -> str:
    """The wrk binary, or an error saying how to install it."""
    found = shutil.which("wrk")
    if found is None:
        raise RuntimeError("wrk is not installed: apt-get install wrk")
    return found


def write_script(folder: Path) -> Path:
    """Write the Lua script once; every run uses it."""
    path = folder / "post.lua"
    path.write_text(LUA)
    return path


def run_wrk(
    url: str, *, body: Path, script: Path, connections: int, seconds: float, threads: int = 1, timeout: float = 10.0
) -> Measured:
    """Run wrk against `url` for `seconds` with `connections` keep-alive connections."""
    threads = max(1, min(threads, connections))
    cmd = [
        wrk_path(),
        f"-t{threads}",
        f"-c{connections}",
        f"-d{max(1, round(seconds))}s",
        f"--timeout={timeout:g}s",
        "-s",
        str(script),
        url,
        "--",
        str(body),
    ]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + timeout + 30, check=False)
    return parse(out.stdout, stderr=out.stderr)


def parse(stdout: str, *, stderr: str = "") -> Measured:
    """Read the `BENCH-RESULT` line the Lua `done` hook printed."""
    for line in stdout.splitlines():
        if line.startswith("BENCH-RESULT "):
            f = line.split()[1:]
            requests, duration_us = int(f[0]), int(f[1])
            errors = sum(int(x) for x in f[2:7])
            p50, p99, p999, mean = (float(x) / 1000 for x in f[7:11])
            return Measured(
                requests=requests, seconds=duration_us / 1e6, errors=errors, p50=p50, p99=p99, p999=p999, mean=mean
            )
    raise RuntimeError(f"wrk printed no result:\n{stdout}\n{stderr}")
