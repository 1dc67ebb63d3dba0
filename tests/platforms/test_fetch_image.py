"""`fetch_image`, the Meta publish's image fetch on `SafeFetcher`: private, loopback and
link-local targets are refused (after DNS resolution, and on redirects) unless allow-listed;
size, type and dimensions are checked. The allowed target is the simulators' image host, over
real HTTP; refused targets are refused before any connection is attempted."""

from __future__ import annotations

from urllib.parse import quote, urlsplit

import pytest

from flightdeck.domain.images import png_bytes
from flightdeck.platforms.safe_fetch import FetchLimits, ImageFetchError, fetch_image


@pytest.fixture
def limits(simulator_url: str) -> FetchLimits:
    return FetchLimits.allowing([urlsplit(simulator_url).netloc], max_bytes=64 * 1024)


async def test_an_allowed_image_is_fetched_with_its_dimensions(
    simulator_url: str, limits: FetchLimits
) -> None:
    image = await fetch_image(f"{simulator_url}/images/coffee.png?w=40&h=30&seed=7", limits=limits)
    assert (image.width, image.height, image.content_type) == (40, 30, "image/png")
    assert image.data == png_bytes(40, 30, seed=7)
    assert len(image.sha256) == 64


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:9/x.png",
        "http://localhost/x.png",
        "http://2130706433/x.png",  # 127.0.0.1 as a decimal host
        "http://169.254.169.254/latest/meta-data/",
        "http://10.0.0.7/x.png",
        "http://192.168.1.1/x.png",
        "http://[::1]/x.png",
        "http://[::ffff:127.0.0.1]/x.png",
        "http://[fe80::1]/x.png",
        "http://0.0.0.0/x.png",
        "file:///etc/passwd",
        "ftp://example.com/x.png",
        "http://user:pw@example.com/x.png",
    ],
)
async def test_private_and_odd_targets_are_refused(url: str, limits: FetchLimits) -> None:
    with pytest.raises(ImageFetchError) as caught:
        await fetch_image(url, limits=limits)
    assert caught.value.reason == "refused", caught.value


async def test_the_simulators_are_refused_unless_allow_listed(simulator_url: str) -> None:
    with pytest.raises(ImageFetchError, match="non-public") as caught:
        await fetch_image(f"{simulator_url}/images/coffee.png")
    assert caught.value.reason == "refused"


async def test_a_redirect_to_a_private_target_is_refused(
    simulator_url: str, limits: FetchLimits
) -> None:
    to = quote("http://169.254.169.254/latest/meta-data/", safe="")
    with pytest.raises(ImageFetchError) as caught:
        await fetch_image(f"{simulator_url}/images/redirect?to={to}", limits=limits)
    assert caught.value.reason == "refused"


async def test_a_redirect_to_an_allowed_image_is_followed(
    simulator_url: str, limits: FetchLimits
) -> None:
    to = quote(f"{simulator_url}/images/beans.png?w=5&h=6", safe="")
    image = await fetch_image(f"{simulator_url}/images/redirect?to={to}", limits=limits)
    assert (image.width, image.height) == (5, 6)


async def test_redirect_loops_stop(simulator_url: str, limits: FetchLimits) -> None:
    url = f"{simulator_url}/images/redirect?to="
    for _ in range(7):
        url = f"{simulator_url}/images/redirect?to={quote(url, safe='')}"
    with pytest.raises(ImageFetchError) as caught:
        await fetch_image(url, limits=limits)
    assert caught.value.reason == "refused" and "redirects" in str(caught.value)


async def test_html_and_oversized_bodies_are_refused(
    simulator_url: str, limits: FetchLimits
) -> None:
    with pytest.raises(ImageFetchError) as html:
        await fetch_image(f"{simulator_url}/images/page.html", limits=limits)
    assert html.value.reason == "refused" and "text/html" in str(html.value)
    with pytest.raises(ImageFetchError) as big:
        await fetch_image(f"{simulator_url}/images/oversized.png?bytes=200000", limits=limits)
    assert big.value.reason == "too_large"
