"""`--workers N`: N serving processes share one port (SO_REUSEPORT), each with its own event loop.

The parent only supervises: it starts the workers, forwards SIGTERM, SIGINT and SIGHUP to them,
restarts one that dies on its own (giving up if they keep dying), and exits 0 once every worker
has drained and exited 0. The kernel spreads new connections across the workers' sockets.
"""

from __future__ import annotations

import logging
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from types import FrameType

import attrs

log = logging.getLogger("gateway.workers")

#: More unplanned worker exits than this within `RESTART_WINDOW` seconds: stop everything.
MAX_RESTARTS = 5
RESTART_WINDOW = 60.0
POLL_SECONDS = 0.2


def reserve_port(host: str, port: int) -> socket.socket:
    """Bind (without listening) a SO_REUSEPORT socket: picks the port when 0 and keeps it ours.

    A bound socket that never listens receives no connections; it only holds the port so that
    every worker binds the same one and no unrelated process can take it between restarts.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    return sock


@attrs.define
class Supervisor:
    """Starts and watches the worker processes; `argv` is the worker's command line without the port."""

    argv: Sequence[str]
    count: int
    stopping: bool = False
    procs: list[subprocess.Popen[bytes]] = attrs.field(factory=list)
    _restarts: list[float] = attrs.field(factory=list)

    def spawn(self) -> subprocess.Popen[bytes]:
        """Start one worker."""
        return subprocess.Popen([sys.executable, "-m", "gateway", *self.argv])

    def forward(self, signum: int, _frame: FrameType | None) -> None:
        """Pass a signal on to every worker; SIGTERM and SIGINT also mean: do not restart them."""
        if signum in (signal.SIGTERM, signal.SIGINT):
            if not self.stopping:
                log.info("stopping workers", extra={"signal": signal.Signals(signum).name})
            self.stopping = True
        for proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM if signum == signal.SIGINT else signum)

    def run(self) -> int:
        """Supervise until every worker has exited after a stop; returns the parent's exit code."""
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(sig, self.forward)
        self.procs = [self.spawn() for _ in range(self.count)]
        log.info("workers started", extra={"workers": self.count, "pids": [p.pid for p in self.procs]})
        while not self.stopping:
            time.sleep(POLL_SECONDS)
            if not self.stopping and not self._replace_dead():
                self.forward(signal.SIGTERM, None)
                break
        codes = [proc.wait() for proc in self.procs]
        log.info("workers stopped", extra={"exit_codes": codes})
        return 0 if all(code == 0 for code in codes) else 1

    def _replace_dead(self) -> bool:
        """Restart workers that exited on their own; False when they die too often to go on."""
        for i, proc in enumerate(self.procs):
            code = proc.poll()
            if code is None or self.stopping:
                continue
            now = time.monotonic()
            self._restarts = [t for t in self._restarts if now - t < RESTART_WINDOW] + [now]
            log.error("worker exited; restarting it", extra={"worker_pid": proc.pid, "exit_code": code})
            if len(self._restarts) > MAX_RESTARTS:
                log.error("workers keep exiting; stopping", extra={"restarts": len(self._restarts)})
                return False
            self.procs[i] = self.spawn()
        return True


def supervise(*, count: int, host: str, port: int, argv: Sequence[str]) -> int:
    """Run `count` workers on host:port (0 picks a free port for all of them); returns the exit code."""
    try:
        held = reserve_port(host, port)
    except OSError as exc:
        log.error("cannot listen", extra={"host": host, "port": port, "error": exc.strerror})
        return 1
    try:
        chosen = held.getsockname()[1]
        worker_argv = [*argv, "--host", host, "--port", str(chosen), "--reuse-port"]
        return Supervisor(worker_argv, count).run()
    finally:
        held.close()
