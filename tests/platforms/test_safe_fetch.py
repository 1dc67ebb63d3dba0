"""The import downloader's SSRF guard: every hop is resolved and checked before a byte is
sent, the connection goes to the checked address, sizes and types are capped. The transport
records what would have gone out: a refused URL sends nothing."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import httpx
import pytest

from flightdeck.platforms.safe_fetch import FetchFailed, FetchRefused, SafeFetcher, is_public
from flightdeck.storage.intake import Intake, TooLarge
from tests.api.asset_support import png

PUBLIC = "93.184.216.34"
NAMES = {
    "cdn.example.com": [PUBLIC],
    "internal.example.com": ["10.0.0.7"],
    "metadata.example.com": ["169.254.169.254"],
    "sneaky.example.com": [PUBLIC, "127.0.0.1"],  # one bad address is enough to refuse
    "mapped.example.com": ["::ffff:127.0.0.1"],
    "v6.example.com": ["::1"],
    "cgnat.example.com": ["100.64.1.2"],
    "localhost": ["127.0.0.1"],
}


async def resolver(host: str, port: int) -> Sequence[str]:
    if host in NAMES:
        return NAMES[host]
    if host.replace(".", "").isdigit():
        return [host]
    raise OSError("no such host")


class Recorder:
    def __init__(self, answers: dict[str, httpx.Response]) -> None:
        self.answers = answers
        self.sent: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.sent.append(request)
        answer = self.answers.get(request.url.path)
        return answer if answer is not None else httpx.Response(404)


def fetcher(recorder: Recorder, **options: object) -> SafeFetcher:
    return SafeFetcher(
        max_bytes=int(options.pop("max_bytes", 1_000_000)),  # type: ignore[call-overload]
        resolver=resolver,
        transport=httpx.MockTransport(recorder),
        **options,  # type: ignore[arg-type]
    )


def image(data: bytes | None = None, **headers: str) -> httpx.Response:
    return httpx.Response(
        200, content=data or png(), headers={"content-type": "image/png"} | headers
    )


@pytest.mark.parametrize(
    "url",
    [
        "http://internal.example.com/a.png",
        "http://metadata.example.com/latest/meta-data/",
        "http://sneaky.example.com/a.png",
        "http://mapped.example.com/a.png",
        "http://v6.example.com/a.png",
        "http://cgnat.example.com/a.png",
        "http://localhost:8100/a.png",
        "http://127.0.0.1/a.png",
        "http://10.1.2.3/a.png",
        "file:///etc/passwd",
        "ftp://cdn.example.com/a.png",
        "http://user:pass@cdn.example.com/a.png",
        "gopher://cdn.example.com/",
    ],
)
async def test_refused_before_anything_is_sent(url: str, tmp_path: Path) -> None:
    recorder = Recorder({"/a.png": image()})
    with pytest.raises(FetchRefused):
        await fetcher(recorder).fetch_into(url, Intake(tmp_path, max_bytes=10**6))
    assert recorder.sent == []
    assert list(tmp_path.iterdir()) == []  # the staged file is gone


async def test_a_public_host_is_fetched_at_the_checked_address(tmp_path: Path) -> None:
    data = png(10, 10, seed=3)
    recorder = Recorder({"/img/a.png": image(data)})
    staged = await fetcher(recorder).fetch_into(
        "http://cdn.example.com/img/a.png?sig=secret", Intake(tmp_path, max_bytes=10**6)
    )
    assert staged.path.read_bytes() == data and staged.size == len(data)
    (request,) = recorder.sent
    assert request.url.host == PUBLIC  # pinned: DNS cannot change its answer afterwards
    assert request.headers["host"] == "cdn.example.com"
    assert request.url.query == b"sig=secret"


async def test_every_redirect_is_checked(tmp_path: Path) -> None:
    recorder = Recorder(
        {
            "/start": httpx.Response(302, headers={"location": "http://internal.example.com/x"}),
            "/ok": httpx.Response(301, headers={"location": "/final.png"}),
            "/final.png": image(),
            "/loop": httpx.Response(302, headers={"location": "/loop"}),
        }
    )
    with pytest.raises(FetchRefused):
        await fetcher(recorder).fetch_into(
            "http://cdn.example.com/start", Intake(tmp_path, max_bytes=10**6)
        )
    assert [r.url.path for r in recorder.sent] == ["/start"]  # the private hop never went out
    staged = await fetcher(recorder).fetch_into(
        "http://cdn.example.com/ok", Intake(tmp_path, max_bytes=10**6)
    )
    assert staged.size > 0
    with pytest.raises(FetchRefused, match="redirects"):
        await fetcher(recorder).fetch_into(
            "http://cdn.example.com/loop", Intake(tmp_path, max_bytes=10**6)
        )


async def test_allow_listed_hosts_may_be_private(tmp_path: Path) -> None:
    recorder = Recorder({"/a.png": image()})
    allowed = fetcher(recorder, allowed_hosts={"localhost:8100"})
    staged = await allowed.fetch_into(
        "http://localhost:8100/a.png", Intake(tmp_path, max_bytes=10**6)
    )
    assert staged.size > 0
    with pytest.raises(FetchRefused):  # the port is part of the allowance
        await allowed.fetch_into("http://localhost:9999/a.png", Intake(tmp_path, max_bytes=10**6))


async def _stream() -> AsyncIterator[bytes]:
    yield b"\x89PNG"
    for _ in range(10):
        yield bytes(6_000)  # no Content-Length: cut while streaming


async def test_size_type_and_status(tmp_path: Path) -> None:
    big = png(400, 400, seed=1) + bytes(50_000)
    recorder = Recorder(
        {
            "/declared": image(big),
            "/streamed": httpx.Response(
                200,
                content=_stream(),
                headers={"content-type": "image/png"},
            ),
            "/page": httpx.Response(200, content=b"<html>", headers={"content-type": "text/html"}),
            "/broken": httpx.Response(503),
            "/gone": httpx.Response(404),
        }
    )
    small = fetcher(recorder, max_bytes=40_000)
    for path in ("/declared", "/streamed"):
        with pytest.raises(TooLarge):
            await small.fetch_into(
                f"http://cdn.example.com{path}", Intake(tmp_path, max_bytes=10**6)
            )
    with pytest.raises(FetchRefused, match="text/html"):
        await small.fetch_into("http://cdn.example.com/page", Intake(tmp_path, max_bytes=10**6))
    with pytest.raises(FetchFailed) as failed:
        await small.fetch_into("http://cdn.example.com/broken", Intake(tmp_path, max_bytes=10**6))
    assert failed.value.retryable
    with pytest.raises(FetchFailed) as missing:
        await small.fetch_into("http://cdn.example.com/gone", Intake(tmp_path, max_bytes=10**6))
    assert not missing.value.retryable
    assert list(tmp_path.iterdir()) == []


def test_is_public() -> None:
    assert is_public(PUBLIC) and is_public("2606:4700::1111")
    private = ["10.0.0.1", "172.16.0.1", "192.168.1.1", "127.0.0.1", "169.254.169.254"]
    private += ["0.0.0.0", "::1", "fe80::1", "fc00::1", "224.0.0.1", "::ffff:10.0.0.1"]
    for address in private:
        assert not is_public(address), address
