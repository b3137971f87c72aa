"""A real gateway process for the lifecycle tests: `python -m gateway serve`, its JSON log lines, signals."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import attrs
import orjson

ROOT = Path(__file__).resolve().parent.parent
#: No lifecycle test may wait longer than this for one thing to happen.
PATIENCE = 20.0

Line = dict[str, Any]


@attrs.define
class GatewayProcess:
    """A running `python -m gateway serve`; every stderr line is kept, decoded."""

    proc: asyncio.subprocess.Process
    lines: list[Line] = attrs.field(factory=list)
    _new_line: asyncio.Event = attrs.field(factory=asyncio.Event)
    _reader: asyncio.Task[None] | None = None

    @classmethod
    async def start(cls, config: Path, *args: str) -> GatewayProcess:
        """Start the gateway on `config` (extra command-line `args`) and read its log in the background."""
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        env.pop("RERANK_GATEWAY_CONFIG", None)
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "gateway", "serve", "--config", str(config), *args,
            cwd=ROOT, env=env, stdin=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
            start_new_session=True,  # its own process group, so teardown can stop workers too
        )  # fmt: skip
        gateway = cls(proc)
        gateway._reader = asyncio.create_task(gateway._read())
        return gateway

    async def _read(self) -> None:
        assert self.proc.stderr is not None
        async for raw in self.proc.stderr:
            try:
                line = orjson.loads(raw)
            except orjson.JSONDecodeError:
                line = {"msg": "not json", "raw": raw.decode(errors="replace")}
            self.lines.append(line)
            self._new_line.set()

    async def wait_for(self, match: Callable[[Line], bool], *, count: int = 1) -> list[Line]:
        """Wait until `count` log lines match; fail with the log so far if the process exits first."""

        async def found() -> list[Line]:
            while True:
                hits = [line for line in self.lines if match(line)]
                if len(hits) >= count:
                    return hits
                if self.proc.returncode is not None or (self._reader is not None and self._reader.done()):
                    raise AssertionError(f"gateway exited ({self.proc.returncode}) first; log: {self.lines}")
                self._new_line.clear()
                await self._new_line.wait()

        return await asyncio.wait_for(found(), PATIENCE)

    async def port(self, *, workers: int = 1) -> int:
        """The port the gateway listens on, from its `listening` line(s)."""
        lines = await self.wait_for(lambda line: line.get("msg") == "listening", count=workers)
        ports = {line["port"] for line in lines}
        assert len(ports) == 1, lines
        return int(ports.pop())

    def signal(self, signum: signal.Signals) -> None:
        """Send a signal to the gateway process."""
        self.proc.send_signal(signum)

    async def exit_code(self) -> int:
        """Wait for the process to exit and return its exit code."""
        code = await asyncio.wait_for(self.proc.wait(), PATIENCE)
        if self._reader is not None:
            await asyncio.wait_for(self._reader, PATIENCE)
        return code

    async def kill(self) -> None:
        """Make sure the process and any workers it started are gone (for test teardown)."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        await self.proc.wait()
        if self._reader is not None:
            await self._reader


async def until(condition: Callable[[], bool], *, step: float = 0.02) -> None:
    """Poll `condition` until it holds; fail after PATIENCE seconds rather than hang."""
    for _ in range(int(PATIENCE / step)):
        if condition():
            return
        await asyncio.sleep(step)
    raise AssertionError(f"still not true after {PATIENCE} s")


def write_config(path: Path, config: dict[str, Any]) -> Path:
    """Write a config as YAML (JSON is YAML) atomically, so a watcher never reads half a file; returns the path."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(orjson.dumps(config, option=orjson.OPT_INDENT_2))
    os.replace(tmp, path)
    return path


def configmap(root: Path, version: str, config: dict[str, Any]) -> None:
    """Lay out or update a directory the way the kubelet mounts a ConfigMap: `..data` swapped atomically."""
    data = root / f"..{version}"
    data.mkdir()
    write_config(data / "config.yaml", config)
    link = root / "..data_tmp"
    link.symlink_to(data.name)
    os.replace(link, root / "..data")
    if not (root / "config.yaml").is_symlink():
        (root / "config.yaml").symlink_to("..data/config.yaml")
