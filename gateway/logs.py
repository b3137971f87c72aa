"""JSON log lines on stderr: one object per line, never a key, a query or a document."""

from __future__ import annotations

import atexit
import logging
import logging.handlers
import queue
import sys
import time
from typing import Any

import orjson

_STD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    """Render a record as one JSON object; `extra=` fields become top-level keys."""

    #: (second, its formatted stamp): strftime once a second, not once a line (~16k instructions).
    _stamp: tuple[int, str] = (-1, "")

    def format(self, record: logging.LogRecord) -> str:
        second = int(record.created)
        stamp = self._stamp
        if stamp[0] != second:
            stamp = self._stamp = (second, time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second)))
        line: dict[str, Any] = {
            "ts": f"{stamp[1]}.{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "pid": record.process,
            "msg": record.getMessage(),
        }
        fields = vars(record)
        # A set difference finds the `extra=` keys in C; walking all ~35 attributes cost 28k instructions.
        for key in sorted(fields.keys() - _STD):
            if not key.startswith("_"):
                line[key] = fields[key]
        if record.exc_info and record.exc_info[0] is not None:
            line["exc_type"] = record.exc_info[0].__name__
        return orjson.dumps(line, default=str).decode()


def setup(level: str = "info", *, background: bool = False) -> None:
    """Send every gateway log line to stderr as JSON at `level`.

    With `background`, records go through a queue to a thread that formats and writes them, so a
    slow or full stderr pipe never stalls the event loop (`serve` asks for it; tests read stderr
    synchronously and do not).
    """
    global _listener  # noqa: PLW0603 - one listener per process, replaced when setup runs again
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    stop_background()
    root = logging.getLogger()
    if background:
        records: queue.SimpleQueue[logging.LogRecord] = queue.SimpleQueue()
        _listener = logging.handlers.QueueListener(records, handler)
        _listener.start()
        root.handlers[:] = [_Enqueue(records)]
    else:
        root.handlers[:] = [handler]
    set_level(level)
    # aiohttp's own access log would repeat ours in another format.
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
    # No line shows the thread or the calling frame: don't collect them for every record (the
    # logging HOWTO's "Optimization" switches; finding the caller alone cost ~20k instructions).
    # The process id stays: every line carries `pid`, which tells --workers apart.
    logging.logThreads = False
    logging.logMultiprocessing = False
    logging._srcfile = None


def set_level(level: str) -> None:
    """Change the level of every gateway log line (`debug`, `info`, `warning`, `error`)."""
    logging.getLogger().setLevel(level.upper())


_listener: logging.handlers.QueueListener | None = None


@atexit.register
def stop_background() -> None:
    """Write what is queued and stop the writer thread, if there is one (also run at exit)."""
    global _listener  # noqa: PLW0603 - see setup()
    if _listener is not None:
        _listener.stop()
        _listener = None


class _Enqueue(logging.handlers.QueueHandler):
    """Queue the record itself: the listener thread formats it (the base class formats here)."""

    def prepare(self, record: logging.LogRecord) -> logging.LogRecord:
        return record
