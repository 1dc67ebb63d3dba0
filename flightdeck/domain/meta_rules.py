"""Meta rules that both sides apply: Flightdeck's prepare step refuses what the Graph simulator
refuses (meta-marketing-api.md §2-3): currency minor units, minimum daily budgets, the EU
countries whose targeting needs the DSA fields, and the permissions a publish needs.
"""

from __future__ import annotations

import math
from collections.abc import Collection
from decimal import Decimal

GRAPH_VERSION = "v23.0"
# Minor units per major unit: 100 for most currencies, 1 for the zero-decimal ones
# (/docs/marketing-api/currencies).
ZERO_DECIMAL_CURRENCIES = frozenset({"JPY", "KRW", "CLP", "TWD", "VND", "ISK", "HUF", "PYG"})
# USD per unit of currency, to translate Meta's USD minimums (a rough, fixed table: Meta's real
# minimums per currency are published as a table we do not have, UNCONFIRMED; these err high).
USD_RATE = {
    "USD": 1.0, "EUR": 1.1, "GBP": 1.25, "CAD": 0.75, "AUD": 0.66, "JPY": 0.0067,
    "KRW": 0.00075, "CLP": 0.0011, "TWD": 0.031, "CHF": 1.1, "SEK": 0.095, "NOK": 0.093,
    "DKK": 0.15, "PLN": 0.25, "BRL": 0.2, "MXN": 0.055, "INR": 0.012,
}  # fmt: skip
# Minimum daily budget in USD with LOWEST_COST_WITHOUT_CAP, by what the ad set optimizes for:
# $0.50 for impressions, $2.50 for clicks, $40 for low-frequency actions (§2); it doubles in
# the listed countries, the US among them (we double everywhere: the safe reading).
MIN_DAILY_USD_BY_GOAL = {
    "IMPRESSIONS": 0.5, "REACH": 0.5, "AD_RECALL_LIFT": 0.5, "THRUPLAY": 0.5,
    "LINK_CLICKS": 2.5, "LANDING_PAGE_VIEWS": 2.5, "POST_ENGAGEMENT": 2.5, "QUALITY_CALL": 2.5,
    "LEAD_GENERATION": 2.5, "QUALITY_LEAD": 2.5, "CONVERSATIONS": 2.5,
    "OFFSITE_CONVERSIONS": 40.0, "VALUE": 40.0, "APP_INSTALLS": 40.0,
}  # fmt: skip
DEFAULT_MIN_DAILY_USD = 2.5
MIN_BUDGET_COUNTRY_FACTOR = 2
# EU member states: targeting any of them needs dsa_beneficiary and dsa_payor on the ad set.
EU_COUNTRIES = frozenset(
    {"AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU", "IE", "IT",
     "LV", "LT", "LU", "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE"}
)  # fmt: skip
# Permissions a publish needs: creating ads (ads_management, which depends on the two Page
# permissions) and reading the Page; Instagram placements need instagram_basic as well.
REQUIRED_SCOPES = ("ads_management", "pages_show_list", "pages_read_engagement")
REQUESTED_SCOPES = (
    "ads_management",
    "ads_read",
    "business_management",
    "pages_show_list",
    "pages_read_engagement",
    "instagram_basic",
)
ACCOUNT_STATUSES = {
    1: "ACTIVE", 2: "DISABLED", 3: "UNSETTLED", 7: "PENDING_RISK_REVIEW",
    8: "PENDING_SETTLEMENT", 9: "IN_GRACE_PERIOD", 100: "PENDING_CLOSURE", 101: "CLOSED",
    201: "ANY_ACTIVE", 202: "ANY_CLOSED",
}  # fmt: skip


def minor_units(currency: str) -> int:
    return 1 if currency.upper() in ZERO_DECIMAL_CURRENCIES else 100


def to_minor(amount: Decimal | float | str, currency: str) -> int:
    """A major-unit amount (25.50 USD) in the account currency's minor unit (2550)."""
    return int((Decimal(str(amount)) * minor_units(currency)).to_integral_value())


def to_major(minor: int, currency: str) -> Decimal:
    return Decimal(minor) / minor_units(currency)


def min_daily_budget(currency: str, optimization_goal: str) -> int:
    """The smallest daily budget Meta accepts, in the currency's minor unit."""
    usd = MIN_DAILY_USD_BY_GOAL.get(optimization_goal, DEFAULT_MIN_DAILY_USD)
    rate = USD_RATE.get(currency.upper(), 1.0)
    major = usd * MIN_BUDGET_COUNTRY_FACTOR / rate
    return max(1, math.ceil(major * minor_units(currency)))


def targets_eu(countries: Collection[str]) -> bool:
    return any(c.upper() in EU_COUNTRIES for c in countries)
