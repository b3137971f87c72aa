"""Endpoint URLs: base_url plus the dialect's path, without doubling a version segment."""

from __future__ import annotations

import pytest

from gateway.providers.http import endpoint, retry_after


@pytest.mark.parametrize(
    ("base", "expected"),
    [
        ("https://api.siliconflow.cn", "https://api.siliconflow.cn/v1/rerank"),
        ("https://api.siliconflow.cn/", "https://api.siliconflow.cn/v1/rerank"),
        ("https://api.siliconflow.cn/v1", "https://api.siliconflow.cn/v1/rerank"),
        ("https://api.siliconflow.cn/v1/", "https://api.siliconflow.cn/v1/rerank"),
        ("http://gw.internal/cohere", "http://gw.internal/cohere/v1/rerank"),
        ("http://gw.internal/cohere/v1", "http://gw.internal/cohere/v1/rerank"),
    ],
)
def test_base_url_joins_the_documented_path(base: str, expected: str) -> None:
    """A server root or a root ending in the version segment both give the documented endpoint."""
    assert endpoint(base_url=base, url=None, path="/v1/rerank") == expected


def test_explicit_url_wins() -> None:
    """An explicit `url` is used as it is."""
    assert endpoint(base_url="https://a", url="https://b/custom/rank", path="/v1/rerank") == "https://b/custom/rank"


@pytest.mark.parametrize(
    ("header", "seconds"),
    [("7", 7.0), (" 2 ", 2.0), ("", None), (None, None), ("soon", None), ("-3", None)],
)
def test_retry_after_seconds_and_garbage(header: str | None, seconds: float | None) -> None:
    """Retry-After as delta-seconds is read; empty, negative or garbage values are ignored."""
    assert retry_after(header) == seconds


def test_retry_after_http_date() -> None:
    """Retry-After as an HTTP date becomes the seconds until that date."""
    assert retry_after("Thu, 01 Jan 2026 00:00:10 GMT", now=1767225600.0) == 10.0
