"""Optional prose for recommendations: a `NarrativeProvider` may add a paragraph a person reads
more easily than the engine's reasoning. The numbers, the decision and the confidence never
depend on it (the engine has already fixed them); its text goes to `narrative` only.

Off by default (`FLIGHTDECK_NARRATIVE_PROVIDER=none`). `template` writes the paragraph locally
from the recommendation's data. A provider that calls a language model would implement the same
protocol; none here touches a network, so tests never do either.
"""

from __future__ import annotations

from typing import Protocol

from flightdeck.domain.recommendations import Recommendation


class NarrativeProvider(Protocol):
    def narrate(self, recommendation: Recommendation) -> str | None: ...


class NoNarrative:
    def narrate(self, recommendation: Recommendation) -> str | None:
        return None


class TemplateNarrative:
    """A plain-language paragraph built from the recommendation itself."""

    LEADS = {
        "PAUSE_CAMPAIGN": "This campaign is spending without converting.",
        "INCREASE_BUDGET": "This campaign returns more than its target and is held back by "
        "its budget.",
        "DECREASE_BUDGET": "This campaign returns less than its target.",
        "REALLOCATE_BUDGET": "One platform returns much more per unit of spend than another.",
    }

    def narrate(self, recommendation: Recommendation) -> str | None:
        lead = self.LEADS.get(recommendation.recommendation_type, "")
        certainty = (
            "The data behind this is solid"
            if recommendation.confidence >= 80 / 100
            else "There is limited data behind this so far"
        )
        return (
            f"{lead} {recommendation.reasoning} {certainty} "
            f"(confidence {recommendation.confidence}). Nothing changes until someone approves."
        )


PROVIDERS: dict[str, type[NarrativeProvider]] = {"none": NoNarrative, "template": TemplateNarrative}


def narrative_provider(name: str) -> NarrativeProvider:
    return PROVIDERS[name]()
