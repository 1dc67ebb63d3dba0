"""Fixtures for the Reddit account tests (defined in support.py, shared with tests/api)."""

from tests.accounts.support import (  # noqa: F401
    accounts_engine,
    cipher,
    reddit_sim,
    service,
    sessions,
    settings,
    sim_app,
    tenant,
    token_calls,
)
