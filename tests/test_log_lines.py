"""JSON log lines: what one line holds, and the background writer that serve uses."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import orjson
import pytest

from gateway import logs


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    """Put the root logger back as it was, so other tests keep pytest's capture."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    logs.stop_background()
    root.handlers[:] = handlers
    root.setLevel(level)


def _lines(text: str) -> list[dict[str, object]]:
    return [orjson.loads(line) for line in text.splitlines() if line.startswith("{")]


def test_a_line_has_the_head_fields_and_every_extra(capsys: pytest.CaptureFixture[str]) -> None:
    """A record becomes one JSON object: ts, level, logger, msg, then the `extra=` fields."""
    logs.setup("info")
    logging.getLogger("gateway.access").info("request", extra={"status": 200, "model": "m", "key": None})
    (line,) = _lines(capsys.readouterr().err)
    assert list(line)[:5] == ["ts", "level", "logger", "pid", "msg"]
    assert line["level"] == "info"
    assert line["logger"] == "gateway.access"
    assert line["msg"] == "request"
    assert (line["status"], line["model"], line["key"]) == (200, "m", None)
    assert isinstance(line["ts"], str)
    assert line["ts"].endswith("Z")
    assert len(line["ts"]) == len("2026-01-01T00:00:00.000Z")


def test_background_lines_are_all_written_by_the_time_it_stops(capsys: pytest.CaptureFixture[str]) -> None:
    """With the background writer every line reaches stderr, in order, once the writer stops."""
    logs.setup("info", background=True)
    for i in range(50):
        logging.getLogger("gateway.access").info("request", extra={"n": i})
    logs.stop_background()
    assert [line["n"] for line in _lines(capsys.readouterr().err)] == list(range(50))


def test_level_filters_before_anything_is_written(capsys: pytest.CaptureFixture[str]) -> None:
    """At warning level the access log's info lines are not written at all."""
    logs.setup("warning", background=True)
    logging.getLogger("gateway.access").info("request", extra={"n": 1})
    logging.getLogger("gateway").warning("careful")
    logs.stop_background()
    assert [line["msg"] for line in _lines(capsys.readouterr().err)] == ["careful"]
