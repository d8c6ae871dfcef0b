"""The anger dynamics: declarative, clipped, damped, persona-specific, with hang-up rules."""

from __future__ import annotations

from dataclasses import replace

import pytest

from harness.personas.archetypes import archetype_reactions
from harness.sim.emotion import HANGUP_ANGER, EmotionalState, reactions_for


def state(
    anger: float = 7.0, patience: int = 3, drift: float = 0.0, **reactions: float
) -> EmotionalState:
    table = {**archetype_reactions()["*"], **reactions}
    return EmotionalState(anger, patience, drift, table)


def test_good_behaviours_calm_and_bad_ones_inflame() -> None:
    calm, angry = state(), state()
    calm.react(["acknowledge_feelings", "offer_solution"])
    angry.react(["dismiss", "blame_customer"])
    assert calm.anger == pytest.approx(7.0 - 1.0 - 1.5)
    assert angry.anger == pytest.approx(10.0)  # 7 + 2 + 2, clipped at the top


def test_anger_is_clipped_and_drift_applies_every_turn() -> None:
    s = state(anger=0.5, drift=0.4)
    assert s.react(["offer_solution", "offer_choices"]) == pytest.approx(-0.5)  # clipped at 0
    assert s.anger == 0.0
    assert s.react([]) == pytest.approx(0.4)


def test_repeated_positive_behaviour_wears_off_but_negative_does_not() -> None:
    s = state(anger=8.0)
    deltas = [s.react(["apologise"]) for _ in range(3)]
    assert deltas == pytest.approx([-0.6, -0.3, -0.15])
    s2 = state(anger=2.0)
    assert [s2.react(["jargon"]) for _ in range(3)] == pytest.approx([0.8, 0.8, 0.8])


def test_a_turn_said_again_calms_no_one_and_is_no_progress() -> None:
    fresh, again = state(anger=6.0, patience=2), state(anger=6.0, patience=2)
    fresh.react(["apologise", "offer_solution"], progress=True)
    again.react(["apologise", "offer_solution"], progress=True, repeated=True)
    assert fresh.anger < 6.0 and fresh.turns_without_progress == 0
    # its warm words count nothing, it angers as ignoring the customer does, and no offer in
    # it counts as progress: the customer's patience runs down
    assert again.anger == pytest.approx(6.0 + again.reactions["ignore_question"])
    assert again.turns_without_progress == 1


def test_persona_reactions_override_archetype_defaults(mini_personas) -> None:
    billing, inflexible = mini_personas
    assert reactions_for(inflexible)["explain_policy_with_alternative"] == -1.2  # archetype
    assert reactions_for(billing)["explain_policy_with_alternative"] == -0.8  # base
    custom = replace(billing, reactions={"dismiss": 4.0})
    assert reactions_for(custom)["dismiss"] == 4.0


def test_hangs_up_after_two_turns_at_the_top() -> None:
    s = state(anger=9.5, patience=10)
    s.react([])
    assert s.anger >= HANGUP_ANGER and not s.wants_to_hang_up
    s.react([])
    assert s.wants_to_hang_up


def test_hangs_up_when_patience_runs_out_without_progress() -> None:
    s = state(anger=5.0, patience=3, drift=0.1)
    s.react([])
    s.react(["ask_clarifying_question"])  # -0.3 + 0.1 drift: less than the progress margin
    assert not s.wants_to_hang_up
    s.react([])
    assert s.wants_to_hang_up
    progressing = state(anger=9.0, patience=2)
    for behaviour in ("offer_solution", "acknowledge_feelings", "paraphrase"):
        progressing.react([behaviour])  # each turn lowers anger by more than the margin
    assert progressing.turns_without_progress == 0 and not progressing.wants_to_hang_up


def test_mood_words_follow_anger() -> None:
    assert "calm" in state(anger=1).mood
    assert "furious" in state(anger=9.5).mood
