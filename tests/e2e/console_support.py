"""The console in a real browser: the e2e rig's app served over HTTP by uvicorn, and Debian's
Chromium driven by Playwright (never a browser Playwright downloads)."""

from __future__ import annotations

import asyncio
import os
import re
import socket
from collections.abc import AsyncIterator
from pathlib import Path

import uvicorn
from fastapi import FastAPI
from playwright.async_api import Browser, Page, Playwright

CHROMIUM = os.environ.get("FLIGHTDECK_CHROMIUM", "/usr/bin/chromium")
# FLIGHTDECK_SCREENSHOTS=docs/screenshots keeps the pages' screenshots (the README's).
SCREENSHOTS = os.environ.get("FLIGHTDECK_SCREENSHOTS")


async def serve(app: FastAPI) -> AsyncIterator[str]:
    """The app over real HTTP on a free local port, for as long as the iterator is open."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, lifespan="off", log_level="warning"))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    async with asyncio.timeout(20):
        while not server.started:
            await asyncio.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    await task


async def launch(playwright: Playwright) -> Browser:
    """Debian's Chromium (`apt-get install -y chromium`), never a browser Playwright downloads."""
    assert Path(CHROMIUM).exists(), f"{CHROMIUM} missing: apt-get install -y chromium"
    return await playwright.chromium.launch(
        executable_path=CHROMIUM, args=["--no-sandbox", "--disable-dev-shm-usage"]
    )


async def log_in(page: Page, base: str, headers: dict[str, str], start: str = "/console") -> None:
    """Open `start`, get sent to the login form, type the key and press Enter."""
    await page.goto(base + start)
    assert "/console/login" in page.url
    await page.fill("#api_key", headers["Authorization"].removeprefix("Bearer "))
    await page.press("#api_key", "Enter")
    await page.wait_for_url(re.compile(r"/console/(?!login)"))


async def shot(page: Page, name: str, tmp: Path, *, full_page: bool = True) -> None:
    target = Path(SCREENSHOTS) if SCREENSHOTS else tmp
    target.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(target / f"{name}.png"), full_page=full_page)
