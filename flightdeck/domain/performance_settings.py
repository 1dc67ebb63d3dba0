"""A tenant's performance settings (seed 004): alert thresholds and data minimums, the targets
the recommendations aim at, and what the AI may do on its own. Every field has a sensible
default, so a tenant that never touched them gets alerts and recommendations that do not cry
wolf; `PUT /api/v1/performance-settings` overrides any of them."""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from pydantic import Field, model_validator

from flightdeck.domain.campaign_sets import CamelModel

ActionType = Literal["PAUSE", "BUDGET_CHANGE", "REALLOCATE"]
ACTION_TYPES: tuple[str, ...] = ("PAUSE", "BUDGET_CHANGE", "REALLOCATE")


class AlertThresholds(CamelModel):
    """When a rule may fire at all (data minimums) and when it does (thresholds)."""

    # The recent window (complete days ending yesterday) is compared with the baseline: the
    # `baseline_days` before it.
    recent_days: int = Field(default=3, ge=1, le=30)
    baseline_days: int = Field(default=14, ge=3, le=90)
    # Data minimums: below any of them no rule fires (one bad day on $3 is not news).
    min_spend: Decimal = Field(default=Decimal("50"), ge=0, max_digits=14, decimal_places=2)
    min_clicks: int = Field(default=100, ge=0)
    min_baseline_days: int = Field(default=7, ge=1, le=90)
    # ROAS_DROP: recent ROAS at least this much below the campaign's own baseline (0.3 = 30 %).
    roas_drop_ratio: Decimal = Field(default=Decimal("0.30"), gt=0, lt=1, decimal_places=4)
    # CPA_SPIKE: recent CPA at least this much above the baseline (0.5 = +50 %).
    cpa_spike_ratio: Decimal = Field(default=Decimal("0.50"), gt=0, le=100, decimal_places=4)
    # ZERO_CONVERSIONS: at least this much spend in the recent window and no conversion.
    zero_conversions_spend_floor: Decimal = Field(
        default=Decimal("100"), gt=0, max_digits=14, decimal_places=2
    )
    # A resolved alert of the same campaign and type does not fire again for this long.
    cooldown_hours: float = Field(default=24.0, ge=0, le=24 * 30)
    # An open alert resolves itself once the deviation is below this share of its threshold
    # (hysteresis: a metric hovering at the threshold does not flap open/closed).
    recovery_share: Decimal = Field(default=Decimal("0.8"), gt=0, le=1, decimal_places=4)


class RecommendationTargets(CamelModel):
    target_roas: Decimal = Field(default=Decimal("2.0"), gt=0, max_digits=10, decimal_places=4)
    # Budgets move by this share per recommendation (0.2 = 20 %).
    budget_step_ratio: Decimal = Field(default=Decimal("0.20"), gt=0, lt=1, decimal_places=4)
    # ROAS must clear the target by this margin (either way) before a budget moves.
    roas_margin_ratio: Decimal = Field(default=Decimal("0.20"), ge=0, lt=1, decimal_places=4)
    evaluation_days: int = Field(default=7, ge=1, le=60)
    min_conversions: int = Field(default=10, ge=1)
    # Reallocation: moved when the best platform's ROAS is this many times the worst one's.
    reallocation_roas_factor: Decimal = Field(default=Decimal("1.5"), gt=1, decimal_places=4)
    reallocation_share: Decimal = Field(default=Decimal("0.20"), gt=0, lt=1, decimal_places=4)
    reallocation_period_days: int = Field(default=7, ge=1, le=31)


class AutonomousMode(CamelModel):
    """What the AI may execute without a person, inside guardrails. `kill_switch` stops all of
    it at once (also actions already waiting to run)."""

    enabled: bool = False
    action_types: list[ActionType] = Field(default_factory=list)
    max_budget_change_ratio: Decimal = Field(default=Decimal("0.20"), gt=0, le=1, decimal_places=4)
    max_actions_per_day: int = Field(default=5, ge=0, le=1000)
    min_confidence: Decimal = Field(default=Decimal("0.70"), ge=0, le=1, decimal_places=2)
    kill_switch: bool = False

    @model_validator(mode="after")
    def _unique_types(self) -> AutonomousMode:
        self.action_types = list(dict.fromkeys(self.action_types))
        return self


class PerformanceSettings(CamelModel):
    alerts: AlertThresholds = Field(default_factory=AlertThresholds)
    recommendations: RecommendationTargets = Field(default_factory=RecommendationTargets)
    autonomous: AutonomousMode = Field(default_factory=AutonomousMode)
    # An approval left unanswered this long expires (nothing touches the platform).
    action_expiry_hours: float = Field(default=24.0, gt=0, le=24 * 30)
    webhook_url: str | None = Field(default=None, max_length=2000)
