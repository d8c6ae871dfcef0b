"""The customer simulator: hidden facts only when asked, staying in role, offers and closings."""

from __future__ import annotations

import asyncio

from conftest import CUSTOMER

from harness.appraisal.offers import offers_by_cue, read_by_cues
from harness.engine.scripted import ScriptedBackend, scripted_engine
from harness.sim.customer import CANDIDATES, CustomerSimulator, clean_line, out_of_role_reason
from harness.sim.emotion import EmotionalState


def simulator(persona, backend: ScriptedBackend) -> CustomerSimulator:
    return CustomerSimulator(persona, scripted_engine(backend), CUSTOMER)


def test_a_fact_is_revealed_only_by_a_question_that_asks_for_it(mini_personas) -> None:
    billing = mini_personas[0]

    def asked(text: str, revealed: set[str]) -> list[str]:
        return list(read_by_cues(text, billing, revealed).asked)

    assert asked("I'll check the invoice for you.", set()) == []  # no question
    assert asked("Could you tell me what happened?", set()) == []  # other question
    assert asked("Thanks. What is the invoice number?", set()) == ["invoice"]
    assert asked("What is the invoice number?", {"invoice"}) == []  # once only


def test_unrevealed_facts_never_reach_the_model(mini_personas) -> None:
    billing = mini_personas[0]
    backend = ScriptedBackend(default="Just fix it.")
    sim = simulator(billing, backend)
    state = EmotionalState.for_persona(billing)
    turns = [
        {"role": "customer", "text": "You billed me twice."},
        {"role": "agent", "text": "Sorry."},
    ]
    turn = asyncio.run(sim.reply(turns, state, ["apologise"], [], [], seed=1))
    assert turn.text == "Just fix it." and turn.revealed == []
    assert "INV-1" not in backend.seen[0].prompt

    asked = [
        f
        for f in billing.hidden_facts
        if f.id in read_by_cues("What is the invoice number?", billing).asked
    ]
    turn = asyncio.run(sim.reply(turns, state, [], [], asked, seed=2))
    assert turn.text == "It's invoice INV-1. Just fix it."
    assert turn.revealed == ["invoice"]
    assert "The invoice number is INV-1." in backend.seen[-1].prompt


def test_candidates_out_of_role_are_dropped_and_the_voice_stands_in_when_none_will_do(
    mini_personas,
) -> None:
    billing = mini_personas[0]
    backend = ScriptedBackend()
    backend.enqueue("Thank you for contacting Testco, how can I help you today?", "Fine, whatever.")
    sim = simulator(billing, backend)
    state = EmotionalState.for_persona(billing)
    turns = [{"role": "customer", "text": "You billed me twice."}, {"role": "agent", "text": "Hm."}]
    turn = asyncio.run(sim.reply(turns, state, [], [], [], seed=5))
    assert turn.text == "Fine, whatever." and turn.fault is None and turn.samples == CANDIDATES
    # the candidates are one request of CANDIDATES samples, each with its own seed (the scripted
    # engine answers each sample as the request of its own it stands for)
    seeds = [r.sampling.seed for r in backend.seen]
    assert CANDIDATES == 2 and len(seeds) == 2 and seeds[0] == 5 and len(set(seeds)) == 2

    backend.enqueue(*["As a customer service agent, I apologize for the inconvenience."] * 2)
    turn = asyncio.run(sim.reply(turns, state, [], [], [], seed=9))
    assert turn.fault == "out_of_role" and turn.voiced
    assert out_of_role_reason(turn.text) is None and turn.text


def test_clean_line_keeps_the_first_line_without_labels_or_stage_directions() -> None:
    assert clean_line(' Customer: *sighs* "This is a joke."\nAgent: sorry') == "This is a joke."
    assert clean_line("One. Two. Three. Four.") == "One. Two. Three."


def test_out_of_role_detection() -> None:
    assert out_of_role_reason("How can I help you today?")
    assert out_of_role_reason("The customer is angry.")
    assert out_of_role_reason("") == "empty"
    assert out_of_role_reason("The last agent told me it was fixed.") is None
    assert out_of_role_reason("I want my money back.") is None
    agent = "I'm going to make a temporary payment to help you today."
    assert out_of_role_reason("Fine. I'm going to make a temporary payment to help you.", agent)
    assert out_of_role_reason("A temporary payment? I want a refund.", agent) is None


def test_offers_count_only_when_not_negated(mini_personas) -> None:
    inflexible = mini_personas[1]
    assert offers_by_cue(
        "I can repair it free under warranty.", inflexible.acceptable_resolutions
    ) == ["repair"]
    assert offers_by_cue("I can't repair it free, sorry.", inflexible.acceptable_resolutions) == []
    policy = "Policy doesn't let me give a cash refund. But I can exchange it."
    assert offers_by_cue(policy, inflexible.unacceptable_demands) == []
    assert offers_by_cue(policy, inflexible.acceptable_resolutions) == ["exchange"]
    assert offers_by_cue("Fine, here's your cash refund.", inflexible.unacceptable_demands) == [
        "cash"
    ]


def test_closings_are_decided_by_the_state_not_sampled(mini_personas) -> None:
    billing = mini_personas[0]
    backend = ScriptedBackend(default="unused")
    sim = simulator(billing, backend)
    offer = billing.acceptable_resolutions[0]
    accept = sim.closing("accept", 3, offer)
    assert accept.text in offer.accept  # the persona's own words for this agreement
    hang_up = sim.closing("hang_up", 3)
    assert hang_up.text in billing.voice["hanging_up"]
    assert backend.seen == []


def test_chat_prompt_style_sends_messages(mini_personas) -> None:
    billing = mini_personas[0]
    backend = ScriptedBackend(default="Fix it.")
    sim = CustomerSimulator(billing, scripted_engine(backend), CUSTOMER, prompt_style="chat")
    state = EmotionalState.for_persona(billing)
    asyncio.run(sim.reply([{"role": "customer", "text": "Hi"}], state, [], [], [], seed=1))
    request = backend.seen[0]
    assert request.prompt is None and request.messages[0]["role"] == "system"
    assert "never the support agent" in request.messages[0]["content"]
