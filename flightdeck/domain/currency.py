"""How precise an amount of money may be in each currency (ISO 4217 minor units).

Campaign sets take budgets and bids in currency units (`50.25` = $50.25); an amount finer than
the currency's smallest unit (`50.255` USD, `100.5` JPY) is refused where it is entered rather
than silently rounded on its way to the platform.
"""

from __future__ import annotations

from decimal import Decimal

# ISO 4217 currencies whose minor unit is not 1/100. Every other code has two decimals.
MINOR_UNIT_DIGITS: dict[str, int] = {
    **dict.fromkeys(
        (
            "BIF",
            "CLP",
            "DJF",
            "GNF",
            "ISK",
            "JPY",
            "KMF",
            "KRW",
            "PYG",
            "RWF",
            "UGX",
            "UYI",
            "VND",
            "VUV",
            "XAF",
            "XOF",
            "XPF",
        ),
        0,
    ),  # fmt: skip
    **dict.fromkeys(("BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"), 3),
    "CLF": 4,
    "UYW": 4,
}
DEFAULT_DIGITS = 2


def minor_unit_digits(currency: str) -> int:
    """Decimals the currency allows (USD 2, JPY 0, KWD 3)."""
    return MINOR_UNIT_DIGITS.get(currency.upper(), DEFAULT_DIGITS)


def precision_problem(amount: Decimal, currency: str) -> str | None:
    """Why `amount` is too precise for `currency`, or None if it is not."""
    digits = minor_unit_digits(currency)
    if amount == amount.quantize(Decimal(1).scaleb(-digits)):
        return None
    unit = "whole units" if digits == 0 else f"at most {digits} decimal places"
    return f"{amount} is more precise than {currency.upper()} allows ({unit})"
