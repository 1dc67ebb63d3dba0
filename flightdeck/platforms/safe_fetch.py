"""Downloading media from URLs a platform (or a CSV) handed us, without becoming a proxy into
our own network (SSRF).

Every hop — the first URL and each redirect — is checked before any byte is sent: http(s)
only, no credentials in the URL, and the host's addresses (after DNS resolution) must all be
public; private, loopback, link-local (cloud metadata), multicast, reserved and shared
addresses are refused unless the `host[:port]` is allow-listed (the simulators in dev). The
request then goes to the resolved address itself (Host header and TLS SNI keep the name),
so DNS cannot answer differently between the check and the connection. Bodies are streamed
into an `Intake` and cut at the size cap; the declared Content-Type must be the expected
family (the bytes are sniffed afterwards anyway).

    fetcher = SafeFetcher(allowed_hosts={"127.0.0.1:8100"}, max_bytes=30 << 20)
    staged = await fetcher.fetch_into(url, Intake(staging, max_bytes=...), accept=("image/",))

    image = await fetch_image(url, limits=FetchLimits(max_bytes=8 << 20))  # one image, in memory
"""

from __future__ import annotations

import asyncio
import hashlib
import ipaddress
import socket
import tempfile
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit, urlunsplit

import httpx

from flightdeck.domain.images import NotAnImage, image_info
from flightdeck.storage.intake import Intake, StagedFile, TooLarge

MAX_REDIRECTS = 5
Resolver = Callable[[str, int], Awaitable[Sequence[str]]]


class FetchRefused(ValueError):
    """The URL may not be fetched (scheme, address, size, type): not retryable."""


class FetchFailed(RuntimeError):
    """The server could not be reached or answered an error: may work later."""

    def __init__(self, message: str, *, retryable: bool) -> None:
        super().__init__(message)
        self.retryable = retryable


async def resolve_host(host: str, port: int) -> Sequence[str]:
    loop = asyncio.get_running_loop()
    infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


def is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


class SafeFetcher:
    def __init__(
        self,
        *,
        allowed_hosts: Iterable[str] = (),
        max_bytes: int,
        timeout: float = 30.0,
        resolver: Resolver = resolve_host,
        transport: httpx.AsyncBaseTransport | None = None,
        user_agent: str = "flightdeck-asset-import/1.0",
    ) -> None:
        self._allowed = frozenset(h.lower() for h in allowed_hosts)
        self._max = max_bytes
        self._resolve = resolver
        self._http = httpx.AsyncClient(
            timeout=timeout,
            follow_redirects=False,
            transport=transport,
            headers={"User-Agent": user_agent},
            trust_env=False,  # never through a proxy that would resolve names for us
        )

    async def aclose(self) -> None:
        await self._http.aclose()

    async def fetch_into(
        self,
        url: str,
        intake: Intake,
        *,
        accept: Sequence[str] = ("image/",),
        on_chunk: Callable[[int], None] | None = None,
    ) -> StagedFile:
        """Download `url` into `intake`; FetchRefused or FetchFailed otherwise. `on_chunk`
        hears the bytes received so far (an activity heartbeats with it)."""
        current = url
        try:
            for _ in range(MAX_REDIRECTS + 1):
                target, host_header, sni = await self._checked(current)
                request = self._http.build_request(
                    "GET", target, headers={"Host": host_header}, extensions=sni
                )
                response = await self._http.send(request, stream=True)
                try:
                    if response.is_redirect:
                        location = response.headers.get("location")
                        if not location:
                            raise FetchFailed("redirect without a Location", retryable=False)
                        current = urljoin(current, location)
                        continue
                    return await self._read(response, intake, accept, current, on_chunk)
                finally:
                    await response.aclose()
            raise FetchRefused(f"more than {MAX_REDIRECTS} redirects")
        except (FetchRefused, FetchFailed, TooLarge):
            intake.abort()
            raise
        except httpx.HTTPError as exc:
            intake.abort()
            raise FetchFailed(f"{_safe(current)}: {type(exc).__name__}", retryable=True) from exc

    async def post(self, url: str, body: bytes, headers: Mapping[str, str]) -> int:
        """POST `body` to `url`, checked like a fetch (public addresses only, unless allowed;
        redirects are not followed): the answer's status. FetchRefused / FetchFailed."""
        target, host_header, sni = await self._checked(url)
        request = self._http.build_request(
            "POST", target, content=body, headers={**headers, "Host": host_header}, extensions=sni
        )
        try:
            response = await self._http.send(request)
        except httpx.HTTPError as exc:
            raise FetchFailed(f"{_safe(url)}: {type(exc).__name__}", retryable=True) from exc
        await response.aclose()
        return response.status_code

    async def _checked(self, url: str) -> tuple[str, str, dict[str, str]]:
        """The URL to request (host replaced by a vetted address), its Host header, SNI."""
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https"):
            raise FetchRefused(f"only http(s) URLs are fetched, not {parts.scheme or 'none'!r}")
        if parts.username or parts.password:
            raise FetchRefused("URLs with credentials are not fetched")
        host = (parts.hostname or "").lower()
        if not host:
            raise FetchRefused("the URL has no host")
        try:
            port = parts.port or (443 if parts.scheme == "https" else 80)
        except ValueError:
            raise FetchRefused("the URL's port is not a number") from None
        host_port = f"{host}:{port}"
        try:
            addresses = await self._resolve(host, port)
        except OSError as exc:
            raise FetchFailed(f"cannot resolve {host}", retryable=True) from exc
        if not addresses:
            raise FetchFailed(f"cannot resolve {host}", retryable=True)
        allowed = host_port in self._allowed or host in self._allowed
        if not allowed and not all(is_public(a) for a in addresses):
            raise FetchRefused(f"{host} resolves to a non-public address; refused")
        address = addresses[0]
        literal = f"[{address}]" if ":" in address else address
        netloc = f"{literal}:{port}"
        target = urlunsplit((parts.scheme, netloc, parts.path or "/", parts.query, ""))
        default = (parts.scheme == "https" and port == 443) or (
            parts.scheme == "http" and port == 80
        )
        host_header = host if default else host_port
        extensions = {"sni_hostname": host} if parts.scheme == "https" else {}
        return target, host_header, extensions

    async def _read(
        self,
        response: httpx.Response,
        intake: Intake,
        accept: Sequence[str],
        url: str,
        on_chunk: Callable[[int], None] | None,
    ) -> StagedFile:
        if response.status_code >= 400:
            retryable = response.status_code >= 500 or response.status_code == 429
            raise FetchFailed(f"{_safe(url)} answered {response.status_code}", retryable=retryable)
        declared = response.headers.get("content-type", "").split(";")[0].strip().lower()
        if accept and not declared.startswith(tuple(accept)):
            raise FetchRefused(f"{_safe(url)} is {declared or 'untyped'}, not {'/'.join(accept)}")
        length = response.headers.get("content-length")
        if length and length.isdigit() and int(length) > self._max:
            raise TooLarge(self._max)
        received = 0
        async for chunk in response.aiter_bytes():
            received += len(chunk)
            if received > self._max:
                raise TooLarge(self._max)
            intake.write(chunk)
            if on_chunk is not None:
                on_chunk(received)
        return intake.finish()


def _safe(url: str) -> str:
    """A URL for messages: scheme, host and path only (no query: it may hold a token)."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.hostname or "", parts.path, "", ""))


# -- one image, in memory (the Meta publish's image URLs) -----------------------------------


@dataclass(frozen=True)
class FetchLimits:
    max_bytes: int = 8 * 1024 * 1024
    timeout_seconds: float = 15.0
    # "host" or "host:port" entries that may be private (the simulators in development).
    allowed_hosts: frozenset[str] = field(default_factory=frozenset)

    @classmethod
    def allowing(cls, hosts: Iterable[str], **limits: Any) -> FetchLimits:
        return cls(allowed_hosts=frozenset(h.strip().lower() for h in hosts if h.strip()), **limits)


@dataclass(frozen=True)
class FetchedImage:
    data: bytes
    content_type: str
    width: int
    height: int
    sha256: str


class ImageFetchError(Exception):
    """An image URL that cannot be used; `reason` is `refused` (unsafe target, wrong type,
    too many redirects), `too_large`, `not_an_image`, `http_error` or `unreachable`."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


async def fetch_image(
    url: str,
    *,
    limits: FetchLimits | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
) -> FetchedImage:
    """The image at `url` under `SafeFetcher`'s rules, in memory, with its type and dimensions
    read from the bytes themselves."""
    limits = limits or FetchLimits()
    fetcher = SafeFetcher(
        allowed_hosts=limits.allowed_hosts,
        max_bytes=limits.max_bytes,
        timeout=limits.timeout_seconds,
        transport=transport,
        user_agent="flightdeck-meta-publish/1.0",
    )
    try:
        with tempfile.TemporaryDirectory(prefix="flightdeck-image-") as staging:
            intake = Intake(Path(staging), max_bytes=limits.max_bytes)
            staged = await fetcher.fetch_into(url, intake, accept=("image/",))
            data = staged.path.read_bytes()
            staged.discard()
    except FetchRefused as exc:
        raise ImageFetchError("refused", str(exc)) from None
    except TooLarge as exc:
        raise ImageFetchError("too_large", str(exc)) from None
    except FetchFailed as exc:
        reason = "unreachable" if exc.retryable else "http_error"
        raise ImageFetchError(reason, str(exc)) from None
    finally:
        await fetcher.aclose()
    try:
        info = image_info(data)
    except NotAnImage as exc:
        raise ImageFetchError("not_an_image", str(exc)) from None
    return FetchedImage(
        data=data,
        content_type=info.content_type,
        width=info.width,
        height=info.height,
        sha256=hashlib.sha256(data).hexdigest(),
    )
