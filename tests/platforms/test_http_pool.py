"""The platform clients' connection pool (flightdeck/platforms/http_pool.py) against a real
HTTP/1.1 server on a local socket: connections are reused, bounded, replaced when the server
closes them, and a request waiting for one gives up at its pool timeout."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import httpx
import pytest

from flightdeck.platforms.http_pool import PooledTransport


@dataclass
class Server:
    port: int
    connections: int = 0  # opened, ever
    open_now: int = 0
    most_open: int = 0
    release: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@pytest.fixture
async def server() -> AsyncIterator[Server]:
    """Answers `/ok`, `/close` (then closes the connection) and `/held` (waits for
    `release`), keeping connections alive otherwise; counts the connections it sees."""
    state = Server(port=0)

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        state.connections += 1
        state.open_now += 1
        state.most_open = max(state.most_open, state.open_now)
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                path = head.split(b" ", 2)[1]
                if path == b"/held":
                    await state.release.wait()
                close = path == b"/close"
                body = b'{"ok":true}'
                writer.write(
                    b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n"
                    + f"content-length: {len(body)}\r\n".encode()
                    + (b"connection: close\r\n" if close else b"")
                    + b"\r\n"
                    + body
                )
                await writer.drain()
                if close:
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            state.open_now -= 1
            writer.close()

    listener = await asyncio.start_server(handle, "127.0.0.1", 0)
    state.port = listener.sockets[0].getsockname()[1]
    async with listener:
        yield state
        state.release.set()


async def test_sequential_requests_share_one_connection(server: Server) -> None:
    async with httpx.AsyncClient(transport=PooledTransport()) as client:
        for _ in range(5):
            answer = await client.get(f"{server.url}/ok")
            assert answer.json() == {"ok": True}
    assert server.connections == 1


async def test_concurrent_requests_never_open_more_than_the_limit(server: Server) -> None:
    transport = PooledTransport(max_connections=3)
    async with httpx.AsyncClient(transport=transport) as client:
        answers = await asyncio.gather(*(client.get(f"{server.url}/ok") for _ in range(30)))
        assert [a.status_code for a in answers] == [200] * 30
        assert server.most_open <= 3
        # Every connection went back to the pool, and the next burst reuses them.
        opened = server.connections
        await asyncio.gather(*(client.get(f"{server.url}/ok") for _ in range(3)))
        assert server.connections == opened


async def test_a_connection_the_server_closed_is_replaced(server: Server) -> None:
    async with httpx.AsyncClient(transport=PooledTransport()) as client:
        assert (await client.get(f"{server.url}/close")).status_code == 200
        assert (await client.get(f"{server.url}/ok")).status_code == 200
        assert (await client.get(f"{server.url}/ok")).status_code == 200
    assert server.connections == 2


async def test_a_request_waits_for_a_free_connection_up_to_its_pool_timeout(
    server: Server,
) -> None:
    async with httpx.AsyncClient(transport=PooledTransport(max_connections=1)) as client:
        held = asyncio.ensure_future(client.get(f"{server.url}/held"))
        while server.open_now == 0:
            await asyncio.sleep(0.01)
        with pytest.raises(httpx.PoolTimeout):
            await client.get(f"{server.url}/ok", timeout=httpx.Timeout(5.0, pool=0.1))
        # Once the held answer arrives, its connection serves the waiting request.
        waiting = asyncio.ensure_future(client.get(f"{server.url}/ok"))
        server.release.set()
        assert (await held).status_code == 200
        assert (await waiting).status_code == 200
    assert server.connections == 1


async def test_a_cancelled_request_frees_its_connection_slot(server: Server) -> None:
    async with httpx.AsyncClient(transport=PooledTransport(max_connections=1)) as client:
        held = asyncio.ensure_future(client.get(f"{server.url}/held"))
        while server.open_now == 0:
            await asyncio.sleep(0.01)
        held.cancel()
        with pytest.raises(asyncio.CancelledError):
            await held
        answer = await client.get(f"{server.url}/ok", timeout=httpx.Timeout(5.0, pool=1.0))
        assert answer.status_code == 200
