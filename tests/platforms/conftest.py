"""Fixtures for the platform client tests: the simulators in-process (through
`httpx.ASGITransport`) with a distinctive API key, and clients pointed at them."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from flightdeck.platforms.strategis import StrategisClient, StrategisRelayClient
from flightdeck.simulators.app import create_simulator_app

API_KEY = "sk-live-0123456789abcdef-do-not-leak"


@pytest.fixture
def api_key() -> str:
    return API_KEY


@pytest.fixture
def sim_app() -> FastAPI:
    return create_simulator_app(api_key=API_KEY)


@pytest.fixture
async def sim_admin(sim_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=sim_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://sim") as client:
        yield client


@pytest.fixture
async def strategis(sim_app: FastAPI) -> AsyncIterator[StrategisClient]:
    transport = httpx.ASGITransport(app=sim_app)
    async with StrategisClient("http://sim/strategis", API_KEY, transport=transport) as client:
        yield client


@pytest.fixture
async def relay(sim_app: FastAPI) -> AsyncIterator[StrategisRelayClient]:
    transport = httpx.ASGITransport(app=sim_app)
    async with StrategisRelayClient("http://sim/relay", API_KEY, transport=transport) as client:
        yield client
