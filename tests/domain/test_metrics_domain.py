"""Units and ratios (seed 004): each platform's money converted exactly to major units, and every
ratio derived the same way from sums — never by dividing by zero."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from flightdeck.domain.metrics import (
    UnitError,
    count,
    date_slices,
    derive,
    from_cents,
    from_decimal_string,
    from_micros,
    lookback_window,
)


def test_meta_decimal_strings_are_taken_exactly() -> None:
    assert from_decimal_string("14.35") == Decimal("14.35")
    assert from_decimal_string("0.01") + from_decimal_string("0.02") == Decimal("0.03")
    assert from_decimal_string(None) == 0 and from_decimal_string("") == 0
    for bad in ("abc", "NaN", "Infinity", 1.5, True):
        with pytest.raises(UnitError):
            from_decimal_string(bad, "spend")


def test_reddit_micros_and_cents_are_divided_exactly() -> None:
    assert from_micros(12_345_678) == Decimal("12.345678")
    assert from_micros(1) == Decimal("0.000001")
    assert from_cents(12_345) == Decimal("123.45")
    assert from_micros(None) == 0
    for bad in (1.5, "12.3", True):
        with pytest.raises(UnitError):
            from_micros(bad, "spend")


def test_counts_accept_integers_and_integral_strings() -> None:
    assert count("42") == 42 and count(7) == 7 and count(None) == 0
    assert count("2.5") == 2 and count("3.5") == 4  # half-even (data-driven attribution)


def test_ratios_come_from_sums_and_never_divide_by_zero() -> None:
    r = derive(1000, 50, Decimal("12.34"), 3, Decimal("99.99"))
    assert (r.cpc, r.cpm, r.ctr) == (Decimal("0.246800"), Decimal("12.340000"), Decimal("0.05"))
    assert r.roas == Decimal("8.102917") and r.roi == Decimal("7.102917")
    assert r.cpa == Decimal("4.113333")
    none = derive(0, 0, Decimal(0), 0, Decimal(0))
    assert none.cpc is none.cpm is none.ctr is none.roas is none.roi is none.cpa is None
    spent = derive(100, 0, Decimal("5"), 0, Decimal(0))
    assert spent.roas == 0 and spent.roi == -1 and spent.cpa is None and spent.cpc is None


def test_windows_cover_the_lookback_or_the_initial_backfill() -> None:
    today = date(2026, 3, 31)
    assert lookback_window(today, 28) == (date(2026, 3, 4), today)
    assert lookback_window(today, 7, backfill_days=60) == (date(2026, 1, 31), today)
    assert date_slices(date(2026, 3, 1), date(2026, 3, 16), 7) == [
        (date(2026, 3, 1), date(2026, 3, 7)),
        (date(2026, 3, 8), date(2026, 3, 14)),
        (date(2026, 3, 15), date(2026, 3, 16)),
    ]
