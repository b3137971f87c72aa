"""Processes for the benchmark: start on loopback, wait until they answer, stop by PID, read peak RSS."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import attrs

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    """A loopback port nothing listens on right now (so also one that refuses connections)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@attrs.define
class Proc:
    """One child process, its name for messages, and where its output goes."""

    name: str
    popen: subprocess.Popen[bytes]
    log: Path

    @property
    def pid(self) -> int:
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None

    def tail(self, lines: int = 15) -> str:
        """The last lines of its output, for error messages."""
        try:
            text = self.log.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def stop(self) -> None:
        """SIGTERM by PID, then SIGKILL if it does not exit within 5 s."""
        if self.popen.poll() is not None:
            return
        self.popen.send_signal(signal.SIGTERM)
        try:
            self.popen.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            self.popen.wait(timeout=5)


@attrs.define
class Procs:
    """Every process the benchmark started, so one `finally` stops them all by PID."""

    logs: Path
    started: list[Proc] = attrs.field(factory=list)

    def start(self, name: str, args: list[str], *, env: dict[str, str] | None = None) -> Proc:
        """Start `python args...` from the repository root, output to a log file."""
        log = self.logs / f"{name}.log"
        full_env = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
        with log.open("wb") as out:
            popen = subprocess.Popen(
                [sys.executable, *args], cwd=ROOT, env=full_env, stdout=out, stderr=subprocess.STDOUT
            )
        proc = Proc(name, popen, log)
        self.started.append(proc)
        return proc

    def stop(self, proc: Proc) -> None:
        """Stop one process and forget it."""
        proc.stop()
        if proc in self.started:
            self.started.remove(proc)

    def stop_all(self) -> None:
        """Stop every process still running, newest first."""
        for proc in reversed(self.started):
            proc.stop()
        self.started.clear()


def wait_ready(proc: Proc, url: str, body: bytes, *, timeout: float = 20.0) -> None:
    """Wait until a POST of `body` to `url` answers 200; raise with the process' output if not."""
    deadline = time.monotonic() + timeout
    last = ""
    while time.monotonic() < deadline:
        if not proc.alive():
            raise RuntimeError(f"{proc.name} exited early:\n{proc.tail()}")
        request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=5) as resp:
                if resp.status == 200:
                    return
        except urllib.error.HTTPError as exc:
            last = f"HTTP {exc.code}: {exc.read()[:300]!r}"
        except OSError as exc:
            last = str(exc)
        time.sleep(0.1)
    raise RuntimeError(f"{proc.name} did not answer 200 at {url} ({last}):\n{proc.tail()}")


def memory_mb(pid: int | str, *fields: str) -> dict[str, float]:
    """Memory fields of /proc/<pid>/status (VmRSS, VmHWM, ...) in MB; empty if the process is gone."""
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return {}
    found: dict[str, float] = {}
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key in fields:
            found[key] = int(value.split()[0]) / 1024
    return found


def peak_rss_mb(pid: int) -> float | None:
    """The process' peak resident set (VmHWM) in MB, None if it is gone."""
    return memory_mb(pid, "VmHWM").get("VmHWM")


def stat_fields(pid: int) -> list[str] | None:
    """The fields of /proc/<pid>/stat after the command name (proc(5) field 3 first); None if gone."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return None


def family(pid: int) -> list[int]:
    """The process and its direct children (worker processes), by PID."""
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        children = []
    return [pid, *(int(c) for c in children)]


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time of the process and its children (workers), in seconds; 0 if gone."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for p in family(pid):
        fields = stat_fields(p)
        if fields is not None:
            total += int(fields[11]) + int(fields[12])  # utime and stime: fields 14 and 15 of proc(5)
    return total / ticks


def peak_rss_family_mb(pid: int) -> float | None:
    """The largest peak resident set among the process and its children: the per-process figure."""
    values = [v for p in family(pid) if (v := peak_rss_mb(p)) is not None]
    return max(values) if values else None
