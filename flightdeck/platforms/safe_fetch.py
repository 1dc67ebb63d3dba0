"""Fetching an image from a URL a user typed is a server-side request: this module makes it safe.

    image = await fetch_image(url, limits=FetchLimits(max_bytes=8 << 20))
    image.data, image.content_type, image.width, image.height, image.sha256

- Only http(s), no credentials in the URL, default or explicit ports.
- The host is resolved first and every address must be public: private, loopback, link-local,
  multicast, reserved and unspecified addresses (IPv4 and IPv6, IPv4-mapped included) are
  refused, unless the host (or host:port) is on the allow-list (the simulators in dev/tests).
- The connection goes to the address that was checked (the URL's host stays in the Host header
  and TLS SNI/certificate check), so a DNS answer that changes between check and connect
  (rebinding) cannot redirect the request.
- Redirects are followed by hand, at most `max_redirects`, each target checked the same way.
- The body is streamed and cut at `max_bytes`; the Content-Type must be an image type and the
  bytes must really be a PNG, JPEG, GIF or WebP, whose dimensions are read from its header.

Every refusal is an `ImageFetchError` whose `reason` is machine-readable (`unsafe_url`,
`too_large`, `not_an_image`, `http_error`, `unreachable`, `too_many_redirects`).
"""

from __future__ import annotations

import asyncio
import hashlib
import ipaddress
import socket
from collections.abc import Collection
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

import httpx

from flightdeck.domain.images import NotAnImage, image_info

DEFAULT_MAX_BYTES = 8 * 1024 * 1024  # Meta accepts up to 30 MB; ads rarely need more than 8


@dataclass(frozen=True)
class FetchLimits:
    max_bytes: int = DEFAULT_MAX_BYTES
    timeout_seconds: float = 15.0
    max_redirects: int = 3
    # "host" or "host:port" entries that may be private (the simulators in development).
    allowed_hosts: frozenset[str] = field(default_factory=frozenset)

    @classmethod
    def allowing(cls, hosts: Collection[str], **limits: object) -> FetchLimits:
        cleaned = frozenset(h.strip().lower() for h in hosts if h.strip())
        return cls(allowed_hosts=cleaned, **limits)  # type: ignore[arg-type]


@dataclass(frozen=True)
class FetchedImage:
    url: str  # the final URL, after redirects
    data: bytes
    content_type: str
    width: int
    height: int
    sha256: str


class ImageFetchError(Exception):
    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


async def fetch_image(
    url: str,
    *,
    limits: FetchLimits | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
) -> FetchedImage:
    """The image at `url`, fetched under the rules in the module docstring."""
    limits = limits or FetchLimits()
    async with httpx.AsyncClient(
        timeout=limits.timeout_seconds, transport=transport, follow_redirects=False
    ) as http:
        current = url
        for _ in range(limits.max_redirects + 1):
            target = await _checked_target(current, limits)
            response = await _get(http, target, limits)
            if response is None:  # a redirect: check where it points before following it
                current = urljoin(current, target.location or "")
                continue
            return response
    raise ImageFetchError("too_many_redirects", f"more than {limits.max_redirects} redirects")


@dataclass
class _Target:
    url: str
    host: str
    port: int
    address: str
    location: str | None = None


async def _checked_target(url: str, limits: FetchLimits) -> _Target:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ImageFetchError("unsafe_url", "only http(s) URLs with a host are fetched")
    if parts.username or parts.password:
        raise ImageFetchError("unsafe_url", "URLs with credentials are not fetched")
    host = parts.hostname.lower()
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise ImageFetchError("unsafe_url", "the URL's port is invalid") from None
    allowed = host in limits.allowed_hosts or f"{host}:{port}" in limits.allowed_hosts
    addresses = await _resolve(host, port)
    if not allowed:
        for address in addresses:
            if not _public(address):
                raise ImageFetchError(
                    "unsafe_url", f"{host} resolves to a non-public address; not fetched"
                )
    return _Target(url, host, port, addresses[0])


async def _resolve(host: str, port: int) -> list[str]:
    try:
        literal = ipaddress.ip_address(host.strip("[]"))
        return [str(literal)]
    except ValueError:
        pass
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError:
        raise ImageFetchError("unreachable", f"cannot resolve {host}") from None
    addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
    if not addresses:
        raise ImageFetchError("unreachable", f"{host} has no address")
    return addresses


def _public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%")[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
    )


async def _get(
    http: httpx.AsyncClient, target: _Target, limits: FetchLimits
) -> FetchedImage | None:
    parts = urlsplit(target.url)
    netloc = f"[{target.address}]" if ":" in target.address else target.address
    pinned = parts._replace(netloc=f"{netloc}:{target.port}").geturl()
    default_port = target.port == (443 if parts.scheme == "https" else 80)
    host_header = target.host if default_port else f"{target.host}:{target.port}"
    request = http.build_request(
        "GET",
        pinned,
        headers={"Host": host_header, "Accept": "image/*"},
        extensions={"sni_hostname": target.host},
    )
    try:
        response = await http.send(request, stream=True)
    except httpx.HTTPError as exc:
        raise ImageFetchError("unreachable", f"{type(exc).__name__} fetching the image") from None
    try:
        if response.is_redirect:
            target.location = response.headers.get("location")
            if not target.location:
                raise ImageFetchError("http_error", "a redirect without a Location")
            return None
        if response.status_code != 200:
            raise ImageFetchError("http_error", f"the image URL answered {response.status_code}")
        content_type = response.headers.get("content-type", "").split(";")[0].strip().lower()
        if not content_type.startswith("image/"):
            raise ImageFetchError("not_an_image", f"Content-Type {content_type or 'none'}")
        declared = response.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > limits.max_bytes:
            raise ImageFetchError("too_large", f"{declared} bytes; at most {limits.max_bytes}")
        data = await _read_capped(response, limits.max_bytes)
    finally:
        await response.aclose()
    try:
        info = image_info(data)
    except NotAnImage as exc:
        raise ImageFetchError("not_an_image", str(exc)) from None
    return FetchedImage(
        url=target.url,
        data=data,
        content_type=info.content_type,
        width=info.width,
        height=info.height,
        sha256=hashlib.sha256(data).hexdigest(),
    )


async def _read_capped(response: httpx.Response, max_bytes: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_bytes():
        size += len(chunk)
        if size > max_bytes:
            raise ImageFetchError("too_large", f"more than {max_bytes} bytes")
        chunks.append(chunk)
    return b"".join(chunks)
