"""Start-up: lifecycle settings are checked like the rest of the config, and a taken port is a plain error."""

from __future__ import annotations

import logging
import socket
from pathlib import Path

import pytest
import yaml

from gateway import cli, server
from gateway import config as config_mod
from gateway.config import ConfigError

BASE = {"providers": {"l": {"type": "local"}}, "models": {"m": {"providers": [{"provider": "l"}]}}}


@pytest.mark.parametrize(
    ("server", "problem"),
    [
        ({"drain_timeout": 0}, "$.server.drain_timeout: must be greater than 0"),
        ({"pre_stop_delay": -1}, "$.server.pre_stop_delay: must be 0 or more"),
        ({"config_poll_interval": -0.5}, "$.server.config_poll_interval: must be 0 or more"),
    ],
)
def test_bad_lifecycle_settings_are_refused(server: dict[str, float], problem: str) -> None:
    """A zero drain timeout (aiohttp reads 0 as 'wait forever') and negative delays are config errors."""
    with pytest.raises(ConfigError) as caught:
        config_mod.parse(yaml.safe_dump({**BASE, "server": server}), env={})
    assert caught.value.problems == [problem]


def test_defaults_drain_within_the_kubernetes_grace_period() -> None:
    """By default the pre-stop delay and the drain fit inside Kubernetes' 30 s termination grace period."""
    server = config_mod.parse(yaml.safe_dump(BASE), env={}).server
    assert server.pre_stop_delay + server.drain_timeout < 30


def test_workers_must_be_positive(capsys: pytest.CaptureFixture[str]) -> None:
    """`--workers 0` is a usage error naming the flag, before anything starts."""
    with pytest.raises(SystemExit) as caught:
        cli.main(["serve", "--workers", "0"])
    assert caught.value.code == 2
    assert "--workers: must be 1 or more" in capsys.readouterr().err


async def test_a_taken_port_is_a_log_line_and_exit_code_1(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """When the port is in use, serving ends at once with exit code 1 and a `cannot listen` error line."""
    config = config_mod.parse(yaml.safe_dump(BASE), env={})
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        listen = server.Listen(host="127.0.0.1", port=port)
        assert await server.serve(config, path=str(tmp_path / "c.yaml"), listen=listen) == 1
    [line] = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert (line.getMessage(), vars(line)["port"]) == ("cannot listen", port)
