"""The connection pool under every platform client: httpx's transport with a leaner pool.

httpcore's `AsyncConnectionPool` re-examines every pooled connection on each request and on
each response's close — a readability poll (a syscall) per idle connection, and a quadratic
count of idle ones — and keeps only 20 idle connections, so with a publish's 100 activities in
flight most connections are closed after one answer and reopened for the next. Profiled in
`bench/publish.py` (py-spy, a 20-plan round), that pool cost about a fifth of the worker's
event-loop time. This pool keeps, per origin, a stack of idle connections: a request takes the
most recently used one (checking only that one for expiry or a server-side close), or opens a
new one while fewer than `max_connections` are open, or waits for one — up to the request's
`pool` timeout (`httpcore.PoolTimeout`, which httpx raises as `httpx.PoolTimeout`). A
connection goes back on the stack when its response is closed, if it can serve another request.

HTTP/1.1 only (what every platform client speaks); connections are httpcore's own, so TLS,
timeouts and protocol handling are unchanged.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterator
from typing import Any

import httpcore
import httpx

DEFAULT_MAX_CONNECTIONS = 100
DEFAULT_KEEPALIVE_EXPIRY = 5.0


class StackConnectionPool:
    """What httpx's `AsyncHTTPTransport` needs of a pool: `handle_async_request` and `aclose`."""

    def __init__(
        self,
        *,
        ssl_context: ssl.SSLContext | None,
        max_connections: int = DEFAULT_MAX_CONNECTIONS,
        keepalive_expiry: float = DEFAULT_KEEPALIVE_EXPIRY,
    ) -> None:
        self._ssl_context = ssl_context
        self._keepalive_expiry = keepalive_expiry
        self._slots = asyncio.Semaphore(max_connections)
        # Per origin (scheme, host, port): httpcore's `Origin` is not hashable.
        self._idle: dict[tuple[bytes, bytes, int], list[httpcore.AsyncHTTPConnection]] = {}
        self._closed = False

    async def __aenter__(self) -> StackConnectionPool:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.aclose()

    @property
    def idle_connections(self) -> int:
        return sum(len(stack) for stack in self._idle.values())

    async def handle_async_request(self, request: httpcore.Request) -> httpcore.Response:
        if self._closed:
            raise RuntimeError("the connection pool is closed")
        if request.url.scheme not in (b"http", b"https"):
            raise httpcore.UnsupportedProtocol(f"unsupported scheme {request.url.scheme!r}")
        await self._acquire_slot(request)
        try:
            connection = await self._checkout(request.url.origin)
            try:
                response = await connection.handle_async_request(request)
            except BaseException:
                await connection.aclose()
                raise
        except BaseException:
            self._slots.release()
            raise
        return httpcore.Response(
            status=response.status,
            headers=response.headers,
            content=_ReturningStream(self, request.url.origin, connection, response.stream),
            extensions=response.extensions,
        )

    async def _acquire_slot(self, request: httpcore.Request) -> None:
        timeout = (request.extensions.get("timeout") or {}).get("pool")
        try:
            await asyncio.wait_for(self._slots.acquire(), timeout)
        except TimeoutError:
            message = "no connection became free within the pool timeout"
            raise httpcore.PoolTimeout(message) from None

    async def _checkout(self, origin: httpcore.Origin) -> httpcore.AsyncHTTPConnection:
        stack = self._idle.get(_key(origin))
        while stack:
            connection = stack.pop()
            if connection.is_idle() and not connection.has_expired():
                return connection
            await connection.aclose()
        return httpcore.AsyncHTTPConnection(
            origin=origin,
            ssl_context=self._ssl_context,
            keepalive_expiry=self._keepalive_expiry,
            http1=True,
            http2=False,
        )

    async def _checkin(
        self, origin: httpcore.Origin, connection: httpcore.AsyncHTTPConnection
    ) -> None:
        try:
            if self._closed or not connection.is_idle():
                await connection.aclose()
            else:
                self._idle.setdefault(_key(origin), []).append(connection)
        finally:
            self._slots.release()

    async def aclose(self) -> None:
        self._closed = True
        stacks, self._idle = list(self._idle.values()), {}
        for stack in stacks:
            for connection in stack:
                await connection.aclose()


def _key(origin: httpcore.Origin) -> tuple[bytes, bytes, int]:
    return (origin.scheme, origin.host, origin.port)


class _ReturningStream:
    """The response body; closing it hands the connection back to the pool."""

    def __init__(
        self,
        pool: StackConnectionPool,
        origin: httpcore.Origin,
        connection: httpcore.AsyncHTTPConnection,
        stream: Any,
    ) -> None:
        self._pool, self._origin = pool, origin
        self._connection, self._stream = connection, stream
        self._returned = False

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self._stream:
            yield chunk

    async def aclose(self) -> None:
        if self._returned:
            return
        self._returned = True
        try:
            if hasattr(self._stream, "aclose"):
                await self._stream.aclose()
        finally:
            await self._pool._checkin(self._origin, self._connection)


class PooledTransport(httpx.AsyncHTTPTransport):
    """httpx's HTTP transport (request and response mapping, its exceptions) over the pool
    above. Proxies are not supported (no platform client uses one)."""

    def __init__(
        self,
        *,
        verify: ssl.SSLContext | str | bool = True,
        max_connections: int = DEFAULT_MAX_CONNECTIONS,
        keepalive_expiry: float = DEFAULT_KEEPALIVE_EXPIRY,
    ) -> None:
        super().__init__(verify=verify, limits=httpx.Limits(max_connections=1))
        ssl_context = self._pool._ssl_context  # type: ignore[union-attr]  # httpx built it
        self._pool = StackConnectionPool(  # type: ignore[assignment]
            ssl_context=ssl_context,
            max_connections=max_connections,
            keepalive_expiry=keepalive_expiry,
        )
