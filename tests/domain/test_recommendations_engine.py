"""The recommendations engine on fixed series: deterministic (same input, same output), each
kind of recommendation with its numbers, reasoning and a confidence that grows with the data;
and the guardrails and stale checks of the actions that follow."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from flightdeck.domain.actions import autonomy, budget_change_ratio, differences, revert_of
from flightdeck.domain.alerts import DayTotals, window
from flightdeck.domain.performance_settings import (
    AlertThresholds,
    AutonomousMode,
    RecommendationTargets,
)
from flightdeck.domain.recommendations import CampaignFacts, confidence, recommend

TODAY = date(2026, 5, 20)
TARGETS = RecommendationTargets()
THRESHOLDS = AlertThresholds()


def facts(
    campaign_id: str,
    platform: str,
    budget: str,
    daily: tuple[int, str, int, str],
    days: int = 7,
    status: str = "active",
) -> CampaignFacts:
    clicks, spend, conversions, revenue = daily
    rows = [
        DayTotals(TODAY - timedelta(days=d), clicks * 30, clicks, Decimal(spend), conversions,
                  Decimal(revenue))
        for d in range(1, days + 1)
    ]  # fmt: skip
    return CampaignFacts(campaign_id, f"name-{campaign_id}", platform, status, Decimal(budget),
                         "daily", "USD", rows)  # fmt: skip


CAMPAIGNS = [
    facts("a-zero", "reddit", "100", (40, "95", 0, "0")),  # spends, never converts
    facts("b-star", "meta", "100", (60, "95", 5, "600")),  # ROAS 6.3, at its budget
    facts("c-weak", "reddit", "100", (60, "90", 3, "90")),  # ROAS 1.0
    facts("d-fine", "meta", "100", (60, "90", 4, "200")),  # ROAS 2.2: within the margin
    facts("e-paused", "meta", "100", (60, "90", 0, "0"), status="paused"),
]


def test_the_same_series_gives_the_same_recommendations() -> None:
    first = recommend(CAMPAIGNS, TODAY, TARGETS, THRESHOLDS)
    again = recommend(list(reversed(CAMPAIGNS)), TODAY, TARGETS, THRESHOLDS)
    assert first == again
    kinds = [(r.recommendation_type, r.campaign_id) for r in first]
    assert kinds == [
        ("PAUSE_CAMPAIGN", "a-zero"),
        ("INCREASE_BUDGET", "b-star"),
        ("DECREASE_BUDGET", "c-weak"),
        ("REALLOCATE_BUDGET", None),
    ]


def test_each_recommendation_carries_its_numbers_reasoning_and_confidence() -> None:
    found = {r.recommendation_type: r for r in recommend(CAMPAIGNS, TODAY, TARGETS, THRESHOLDS)}
    pause = found["PAUSE_CAMPAIGN"]
    assert pause.proposed_change == {"status": "paused"} and pause.action_type == "PAUSE"
    assert "spent 665.00 USD on 280 clicks" in pause.reasoning
    assert pause.data["window"]["conversions"] == 0 and pause.change_key == "PAUSE:a-zero"
    up = found["INCREASE_BUDGET"]
    assert up.proposed_change == {"budgetAmount": "120.00"}
    assert up.previous_state["budgetAmount"] == "100" and up.change_key == "BUDGET:b-star"
    assert "ROAS 6.32" in up.reasoning and "95% of the budget used" in up.reasoning
    down = found["DECREASE_BUDGET"]
    assert down.proposed_change == {"budgetAmount": "80.00"} and down.change_key == "BUDGET:c-weak"
    move = found["REALLOCATE_BUDGET"]
    assert move.allocation is not None and move.allocation.currency == "USD"
    changes = move.proposed_change["campaigns"]
    # 20 % of Reddit's live budgets (c-weak: 100) moves to Meta's campaigns (b-star, d-fine).
    assert changes == {
        "b-star": {"budgetAmount": "110.00"},
        "c-weak": {"budgetAmount": "80.00"},
        "d-fine": {"budgetAmount": "110.00"},
    }
    assert move.allocation.allocations == {"meta": Decimal("1540.00"), "reddit": Decimal("560.00")}
    assert move.allocation.period_start == TODAY + timedelta(days=1)
    assert all(Decimal("0.5") <= r.confidence <= Decimal("0.95") for r in found.values())


def test_confidence_grows_with_the_data() -> None:
    few = facts("x", "meta", "100", (10, "10", 1, "10"), days=2)
    many = facts("x", "meta", "100", (200, "10", 1, "10"), days=7)
    start = TODAY - timedelta(days=7)
    low = confidence(window(few.rows, start, TODAY), 7, 100)
    high = confidence(window(many.rows, start, TODAY), 7, 100)
    assert low < high and high == Decimal("0.95") and low == Decimal("0.50")


def test_guardrails_of_autonomous_mode() -> None:
    mode = AutonomousMode(enabled=True, action_types=["PAUSE", "BUDGET_CHANGE"])
    before = {"status": "active", "budgetAmount": "100"}

    def verdict(new: dict[str, str], **changes: object) -> str:
        chosen = mode.model_copy(update=changes)
        return autonomy("BUDGET_CHANGE", before, new, Decimal("0.9"), chosen, 0).reason

    assert autonomy(
        "BUDGET_CHANGE", before, {"budgetAmount": "115"}, Decimal("0.9"), mode, 0
    ).allowed
    assert "exceeds the 20.0%" in verdict({"budgetAmount": "130"})
    assert "kill switch" in verdict({"budgetAmount": "110"}, kill_switch=True)
    assert "off" in verdict({"budgetAmount": "110"}, enabled=False)
    assert "not an autonomous" in verdict({"budgetAmount": "110"}, action_types=["PAUSE"])
    full = autonomy("PAUSE", before, {"status": "paused"}, Decimal("0.9"), mode, 5)
    assert not full.allowed and "daily maximum" in full.reason
    shaky = autonomy("PAUSE", before, {"status": "paused"}, Decimal("0.6"), mode, 0)
    assert not shaky.allowed and "confidence" in shaky.reason
    assert budget_change_ratio(before, {"status": "paused"}) == 0


def test_stale_checks_and_reverts() -> None:
    assumed = {"status": "active", "budgetAmount": "40", "budgetType": "daily"}
    assert differences(assumed, {"status": "active", "budgetAmount": "40.000000"}) == []
    assert differences(assumed, {"status": "active", "budgetAmount": "45"}) == [
        "budgetAmount: 40 → 45"
    ]
    assert differences(assumed, {"status": "paused", "budgetAmount": "40"}) == [
        "status: active → paused"
    ]
    assumed_back, wanted = revert_of(assumed, {"status": "active", "budgetAmount": "48"})
    assert wanted == {"budgetAmount": "40"}
    assert assumed_back == {"status": "active", "budgetAmount": "48"}
    nested = {"campaigns": {"a": {"status": "active", "budgetAmount": "50"}}}
    back, undo = revert_of(nested, {"campaigns": {"a": {"status": "active", "budgetAmount": "40"}}})
    assert undo == {"campaigns": {"a": {"budgetAmount": "50"}}}
    assert differences(back, {"campaigns": {"a": {"status": "active", "budgetAmount": "41"}}})


def test_a_narrative_adds_prose_and_never_changes_the_numbers() -> None:
    from flightdeck.domain.narrative import narrative_provider

    found = recommend(CAMPAIGNS, TODAY, TARGETS, THRESHOLDS)
    assert all(narrative_provider("none").narrate(r) is None for r in found)
    prose = narrative_provider("template")
    for rec in found:
        text = prose.narrate(rec)
        assert text is not None and rec.reasoning in text and str(rec.confidence) in text
    assert recommend(CAMPAIGNS, TODAY, TARGETS, THRESHOLDS) == found
