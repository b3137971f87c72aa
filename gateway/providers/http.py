"""An HTTP provider: a dialect, a URL, credentials, limits and one pool of keep-alive connections."""

from __future__ import annotations

import asyncio
import ssl
import time
import urllib.request
from collections.abc import Sequence
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import attrs
import orjson
from yarl import URL

from gateway.config import ProviderConfig
from gateway.dialects.base import ProviderDialect
from gateway.errors import InvalidResponse, ProviderError
from gateway.model import Document, Ranked, Ranking, RerankRequest, Usage
from gateway.providers.wire import Pool
from gateway.providers.wire.parse import over_cap

#: Statuses after which the same provider may be tried again (TEI uses 424 for backend errors).
RETRYABLE_STATUSES = frozenset({408, 409, 424, 425, 429}) | frozenset(range(500, 600))


def endpoint(*, base_url: str | None, url: str | None, path: str) -> str:
    """The full endpoint: `url` as given, or `base_url` + the dialect path, without doubling `/v1`."""
    if url:
        return url
    assert base_url is not None  # config checks guarantee one of the two
    base = base_url.rstrip("/")
    base_path = urlsplit(base).path
    segments = path.strip("/").split("/")
    for k in range(len(segments) - 1, 0, -1):
        prefix = "/" + "/".join(segments[:k])
        if base_path.endswith(prefix):
            return base + "/" + "/".join(segments[k:])
    return base + path


def retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or an HTTP date); None if absent or garbage."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


@attrs.define
class HttpProvider:
    """Calls one upstream over HTTP, in its own dialect, splitting large lists into batches.

    Calls go through the gateway's own pooled HTTP/1.1 client (gateway/providers/wire); when
    `trust_env` is on and the environment names a proxy for the URL's scheme, they go through an
    aiohttp session instead, which speaks to proxies and applies NO_PROXY on every request.
    """

    name: str
    dialect: ProviderDialect
    config: ProviderConfig
    #: Honour HTTPS_PROXY / HTTP_PROXY / NO_PROXY (the provider's `trust_env`, else the global one).
    trust_env: bool = False
    url: str = attrs.field(init=False)
    headers: dict[str, str] = attrs.field(init=False)
    max_documents: int = attrs.field(init=False)
    _pool: Pool | None = attrs.field(default=None, init=False)
    _session: aiohttp.ClientSession | None = attrs.field(default=None, init=False)
    # Built once here rather than on every call: the parsed URL and the timeout of an attempt that
    # has the provider's whole timeout (the usual case); the headers go on the session.
    _target: URL = attrs.field(init=False)
    _full_timeout: aiohttp.ClientTimeout = attrs.field(init=False)

    def __attrs_post_init__(self) -> None:
        self.url = endpoint(base_url=self.config.base_url, url=self.config.url, path=self.dialect.path)
        self.headers = {
            "Content-Type": "application/json",
            "Accept": "application/json",
            **self.dialect.headers(self.config.api_key),
            **self.config.headers,
        }
        self.max_documents = self.config.max_documents or self.dialect.max_documents
        self._target = URL(self.url)
        self._full_timeout = _client_timeout(self.config.timeout, connect=self.config.connect_timeout)

    async def start(self) -> None:
        tls = self._tls() if self._target.scheme == "https" else None
        if not (self.trust_env and self._target.scheme in urllib.request.getproxies()):
            self._pool = Pool(
                url=self._target,
                headers=self.headers,
                ssl_context=tls,
                limit=self.config.max_connections,
                connect_timeout=self.config.connect_timeout,
                cap=self.config.max_response_bytes,
            )
            return
        connector = aiohttp.TCPConnector(limit=self.config.max_connections, keepalive_timeout=30, ssl=tls or True)
        self._session = aiohttp.ClientSession(
            connector=connector, headers=self.headers, raise_for_status=False, trust_env=True
        )

    def _tls(self) -> ssl.SSLContext:
        """Verification is always on; a CA bundle adds private roots. Built once, at start."""
        context = ssl.create_default_context()
        if self.config.ca_bundle:
            context.load_verify_locations(cafile=self.config.ca_bundle)
        return context

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.close()
        if self._session is not None:
            await self._session.close()

    async def rerank(self, request: RerankRequest, *, model: str, timeout: float) -> Ranking:
        docs = request.documents
        if len(docs) > self.max_documents:
            return await self._batches(request, model=model, timeout=timeout)
        return await self._call(request, model=model, documents=docs, top_n=request.top_n, timeout=timeout)

    async def _batches(self, request: RerankRequest, *, model: str, timeout: float) -> Ranking:
        """Concurrent batches to the same provider; one failure cancels the rest and fails the whole call."""
        docs = request.documents
        size = self.max_documents
        starts = range(0, len(docs), size)
        try:
            async with asyncio.TaskGroup() as group:
                tasks = [
                    group.create_task(
                        self._call(request, model=model, documents=docs[s : s + size], top_n=None, timeout=timeout)
                    )
                    for s in starts
                ]
        except* ProviderError as failed:
            raise failed.exceptions[0] from None
        results: list[Ranked] = []
        usage = Usage()
        for start, task in zip(starts, tasks, strict=True):
            part = task.result()
            results.extend(Ranked(r.index + start, r.score) for r in part.results)
            usage = usage + part.usage
        return Ranking(results=tuple(results), usage=usage)

    async def _call(
        self, request: RerankRequest, *, model: str, documents: Sequence[Document], top_n: int | None, timeout: float
    ) -> Ranking:
        if self._pool is None:
            body = orjson.dumps(self.dialect.build(request, model=model, documents=documents, top_n=top_n))
            raw = await self._post_aiohttp(body, timeout)
        else:
            # The pool makes the body once it has a connection and keeps no reference to it while
            # the upstream works (it makes it again only to re-send after a stale connection).
            resp = await self._pool.post(
                lambda: orjson.dumps(self.dialect.build(request, model=model, documents=documents, top_n=top_n)),
                timeout=timeout,
            )
            raw = _checked(resp.status, resp.headers, resp.body)
        return self._parse(raw, count=len(documents), top_n=top_n)

    def _parse(self, raw: bytes, *, count: int, top_n: int | None) -> Ranking:
        try:
            data: Any = orjson.loads(raw)
        except orjson.JSONDecodeError:
            raise InvalidResponse("body is not valid JSON") from None
        expected = count if top_n is None else min(top_n, count)
        return self.dialect.parse(data, count=count, expected=expected)

    def _limit(self, timeout: float) -> aiohttp.ClientTimeout:
        """The usual timeout object is built once, at start; one cut short by the deadline, per call."""
        if timeout == self.config.timeout:
            return self._full_timeout
        return _client_timeout(timeout, connect=self.config.connect_timeout)

    async def _post_aiohttp(self, body: bytes, timeout: float) -> bytes:
        """One call through the aiohttp session (the proxy-aware path); the same errors as the pool's."""
        assert self._session is not None, "provider used before start()"
        limit = self._limit(timeout)
        try:
            async with self._session.post(self._target, data=body, timeout=limit, allow_redirects=False) as resp:
                if not 200 <= resp.status < 300:
                    raise _status_error(resp.status, resp.headers.get("Retry-After"))
                if "json" not in resp.headers.get("Content-Type", "").lower():
                    raise InvalidResponse(f"content type {resp.content_type!r} is not JSON")
                return await _read_capped(resp, self.config.max_response_bytes)
        except ProviderError:
            raise
        except aiohttp.ConnectionTimeoutError:
            # Nothing reached the host: fail over at once rather than wait another connect timeout.
            raise ProviderError("connect_timeout", retryable=False) from None
        except TimeoutError:
            raise ProviderError("timeout", retryable=True) from None
        except (aiohttp.ClientConnectorCertificateError, aiohttp.ClientSSLError) as exc:
            # A certificate problem is configuration: the same call would fail again.
            raise ProviderError("tls_error", retryable=False, detail=type(exc).__name__) from None
        except aiohttp.ClientConnectorError:
            # Refused or unreachable: a retry at once would meet the same closed port; fail over instead.
            raise ProviderError("connect_error", retryable=False) from None
        except (aiohttp.ServerDisconnectedError, aiohttp.ClientPayloadError, aiohttp.ClientOSError):
            raise ProviderError("disconnected", retryable=True) from None
        except aiohttp.ClientResponseError:
            raise ProviderError("bad_http", retryable=True) from None
        except aiohttp.ClientError as exc:
            raise ProviderError("client_error", retryable=True, detail=type(exc).__name__) from None


def _checked(status: int, headers: dict[str, str], body: bytes | None) -> bytes:
    """The body of a pooled call's response, or the error its status or content type means."""
    if not 200 <= status < 300:
        raise _status_error(status, headers.get("retry-after"))
    content_type = headers.get("content-type", "")
    if "json" not in content_type.lower():
        raise InvalidResponse(f"content type {content_type.partition(';')[0].strip()!r} is not JSON")
    assert body is not None  # the pool reads every 2xx body
    return body


def _client_timeout(seconds: float, *, connect: float) -> aiohttp.ClientTimeout:
    return aiohttp.ClientTimeout(total=seconds, sock_connect=min(connect, seconds))


def _status_error(status: int, retry_after_header: str | None) -> ProviderError:
    return ProviderError(
        f"http_{status}",
        retryable=status in RETRYABLE_STATUSES,
        status=status,
        retry_after=retry_after(retry_after_header) if status in (429, 503) else None,
    )


async def _read_capped(resp: aiohttp.ClientResponse, cap: int) -> bytes:
    """Read a (decompressed) body, failing as soon as it passes `cap` bytes."""
    if resp.content_length is not None and "Content-Encoding" not in resp.headers:
        if resp.content_length > cap:
            raise over_cap(cap, declared=resp.content_length)
        return await resp.read()  # exactly content_length bytes: one read, no chunk loop
    chunks: list[bytes] = []
    size = 0
    async for chunk in resp.content.iter_chunked(64 * 1024):
        size += len(chunk)
        if size > cap:
            raise over_cap(cap)
        chunks.append(chunk)
    return b"".join(chunks)
