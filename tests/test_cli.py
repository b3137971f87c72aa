"""The command line: `check` validates and summarises, `serve` runs a real process, `--help` works."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from gateway.cli import main

ROOT = Path(__file__).resolve().parent.parent

GOOD = """
providers:
  cohere: {type: cohere, base_url: https://api.cohere.com, api_key: "${COHERE_TEST_KEY_UNSET}"}
  local: {type: local}
models:
  m:
    providers:
      - {provider: cohere, model: rerank-v3.5}
      - {provider: local, model: bm25}
"""


def test_check_summarises_a_good_config(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`check` exits 0 and lists models with their provider order, marking disabled providers."""
    path = tmp_path / "c.yaml"
    path.write_text(GOOD)
    assert main(["check", "--config", str(path)]) == 0
    out = capsys.readouterr().out
    assert "1. cohere -> rerank-v3.5 [disabled, skipped]" in out
    assert "2. local -> bm25" in out
    assert "disabled (${COHERE_TEST_KEY_UNSET} is not set)" in out


def test_check_hides_credentials_in_urls(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The summary shows a provider's URL without its user-info and query string, which may hold credentials."""
    path = tmp_path / "c.yaml"
    url = "https://user:${TOKEN_FOR_CHECK}@rerank.internal/v1/rerank?api_key=${TOKEN_FOR_CHECK}"
    path.write_text(GOOD.replace("{type: local}", f'{{type: tei, url: "{url}"}}'))
    monkeypatch.setenv("TOKEN_FOR_CHECK", "s3cret-token")
    assert main(["check", "--config", str(path)]) == 0
    out = capsys.readouterr().out
    assert "https://***@rerank.internal/v1/rerank?***" in out
    assert "s3cret-token" not in out
    assert "user" not in out


def test_check_lists_every_problem_and_exits_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`check` on a bad config prints each problem with its path and exits 1."""
    path = tmp_path / "c.yaml"
    path.write_text(
        GOOD.replace("{type: local}", "{type: local, bogus: 1}").replace("provider: local", "provider: lokal")
    )
    assert main(["check", "--config", str(path)]) == 1
    err = capsys.readouterr().err
    assert "$.providers.local: unknown field(s): bogus" in err


def test_check_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A config path that does not exist is a clear error, exit 1."""
    assert main(["check", "--config", str(tmp_path / "nope.yaml")]) == 1
    assert "cannot read config" in capsys.readouterr().err


def test_config_from_environment_variable(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without --config, $RERANK_GATEWAY_CONFIG names the config file."""
    path = tmp_path / "c.yaml"
    path.write_text(GOOD)
    monkeypatch.setenv("RERANK_GATEWAY_CONFIG", str(path))
    assert main(["check"]) == 0
    assert str(path) in capsys.readouterr().out


@pytest.mark.parametrize("args", [["--help"], ["serve", "--help"], ["check", "--help"]])
def test_help(args: list[str]) -> None:
    """`--help` works on the program and on each sub-command."""
    done = subprocess.run(
        [sys.executable, "-m", "gateway", *args], capture_output=True, text=True, cwd=ROOT, check=False
    )
    assert done.returncode == 0
    assert "usage: rerank-gateway" in done.stdout


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def test_serve_runs_the_seed_call_and_stops_on_sigterm(tmp_path: Path) -> None:
    """A real `serve` process on the default config answers the seed call and exits 0 on SIGTERM."""
    port = _free_port()
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    cmd = [sys.executable, "-m", "gateway", "serve", "--config", str(ROOT / "config.yaml"), "--port", str(port)]
    proc = subprocess.Popen(cmd, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        body = json.dumps(
            {"model": "bge-reranker-v2-m3", "query": "Apple", "documents": ["apple", "banana", "fruit", "vegetable"]}
        ).encode()
        request = urllib.request.Request(f"http://127.0.0.1:{port}/v1/rerank", data=body, method="POST")
        request.add_header("Content-Type", "application/json")
        deadline = time.monotonic() + 20
        while True:
            try:
                with urllib.request.urlopen(request, timeout=5) as resp:
                    data = json.load(resp)
                break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise
                time.sleep(0.1)
        assert data["results"][0]["index"] == 0
        assert len(data["results"]) == 4
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=30)
    assert proc.returncode == 0
    lines = [json.loads(line) for line in err.decode().splitlines() if line.strip()]
    access = [line for line in lines if line.get("logger") == "gateway.access"]
    assert access[0]["status"] == 200
    assert access[0]["provider"] == "local"
    assert "Apple" not in err.decode()


def test_serve_refuses_a_bad_config_before_binding(tmp_path: Path) -> None:
    """`serve` with an invalid config prints the problems and exits 1 without listening."""
    path = tmp_path / "bad.yaml"
    path.write_text("providers: {}\nmodels: {m: {providers: [{provider: x}]}}\n")
    done = subprocess.run(
        [sys.executable, "-m", "gateway", "serve", "--config", str(path)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    assert done.returncode == 1
    assert "$.models.m.providers[0].provider: unknown provider 'x'" in done.stderr
