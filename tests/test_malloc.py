"""The serving process pins glibc's mmap threshold, unless the operator's environment already sets it."""

from __future__ import annotations

import os

import pytest

from gateway import malloc

needs_glibc = pytest.mark.skipif(not os.confstr("CS_GNU_LIBC_VERSION"), reason="glibc only")


@needs_glibc
def test_threshold_is_pinned_on_glibc(monkeypatch: pytest.MonkeyPatch) -> None:
    """With no allocator setting in the environment, the threshold is set."""
    monkeypatch.delenv("MALLOC_MMAP_THRESHOLD_", raising=False)
    monkeypatch.delenv("GLIBC_TUNABLES", raising=False)
    assert malloc.tune() is True


@pytest.mark.parametrize(
    ("name", "value"),
    [("MALLOC_MMAP_THRESHOLD_", "262144"), ("GLIBC_TUNABLES", "glibc.malloc.mmap_threshold=262144")],
)
def test_an_operator_setting_wins(monkeypatch: pytest.MonkeyPatch, name: str, value: str) -> None:
    """A threshold chosen in the environment is left as the operator set it."""
    monkeypatch.setenv(name, value)
    assert malloc.tune() is False


@needs_glibc
def test_other_tunables_do_not_stop_it(monkeypatch: pytest.MonkeyPatch) -> None:
    """GLIBC_TUNABLES that set something else do not count as choosing the threshold."""
    monkeypatch.delenv("MALLOC_MMAP_THRESHOLD_", raising=False)
    monkeypatch.setenv("GLIBC_TUNABLES", "glibc.malloc.arena_max=2")
    assert malloc.tune() is True
