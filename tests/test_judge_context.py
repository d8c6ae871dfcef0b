"""The judge reads context, not phrases: criteria without occasion are not applicable, a pass
needs a helped customer, repeated turns and words that do not fit count for less."""

from __future__ import annotations

from conftest import MINI, RUBRIC

from harness.appraisal.base import Appraisal
from harness.appraisal.offers import OfferReading
from harness.judge import BehaviourJudge, Conversation, verdict
from harness.judge.behaviour import repeated_turns
from harness.judge.occasions import helped, occasions
from harness.personas.persona import load_persona
from harness.personas.rubric import load_rubric

RUBRIC_ = load_rubric(RUBRIC)


def talk(*lines: str, persona=None, outcome=None, appraisals=None) -> Conversation:
    turns = tuple(
        {"role": "customer" if i % 2 == 0 else "agent", "text": t} for i, t in enumerate(lines)
    )
    return Conversation("c", turns, persona.archetype if persona else None, outcome, persona,
                        appraisals or {})  # fmt: skip


def read(*behaviours: str, offers: tuple[str, ...] = (), fit: float | None = None) -> Appraisal:
    fits = {b: fit for b in behaviours} if fit is not None else {}
    return Appraisal(tuple(behaviours), {b: 0.9 for b in behaviours}, {b: "x" for b in behaviours},
                     fits, OfferReading(offers=offers))  # fmt: skip


def test_occasions_follow_the_conversation() -> None:
    calm = talk("My parcel is late.", "Sorry, let me check.")
    got = occasions(calm, [(2, read("apologise"))])
    assert (
        not got["customer_abusive"] and not got["escalation_arises"] and not got["solution_offered"]
    )
    rude = talk("You useless idiots. Get me a manager.", "I can refund it.", "Fine.", "Done.")
    got = occasions(rude, [(2, read("offer_solution")), (4, read())])
    assert got["customer_abusive"] and got["escalation_arises"] and got["solution_offered"]
    # an offer taken at once (the agent's last turn) leaves nothing to follow up
    assert not occasions(rude, [(2, read()), (4, read("offer_solution"))])["solution_offered"]


def test_a_criterion_without_occasion_is_unscored_not_a_three() -> None:
    judge = BehaviourJudge(appraiser=object())  # the appraisals are handed over
    conversation = talk("My parcel is late.", "So sorry about that.")
    judgement = judge.judge_one(conversation, RUBRIC_, [(2, read("apologise"))])
    expectations = judgement.scores["realistic_expectations"]
    assert expectations.value is None and "no occasion" in (expectations.unscored or "")
    assert judgement.scores["solutions_and_choice"].value == 1.0  # had occasion, offered nothing


def test_a_pass_needs_a_helped_customer() -> None:
    billing = load_persona(MINI / "mini-billing.yaml")
    unresolved = {"anger_start": 7, "anger_end": 7, "resolved": False, "hung_up": True,
                  "escalated": False, "turns": 3, "anger_peak": 7}  # fmt: skip
    conversation = talk(
        "You billed me twice.", "I'm so sorry.", persona=billing, outcome=unresolved
    )
    assert helped(conversation, [(2, read("apologise"))], escalation_applies=False) is False
    judgement = BehaviourJudge(appraiser=object()).judge_one(
        conversation, RUBRIC_, [(2, read("apologise"))]
    )
    assert judgement.helped is False and verdict(RUBRIC_, judgement, unresolved)["passed"] is False
    resolved = {**unresolved, "resolved": True, "hung_up": False, "anger_end": 1}
    assert helped(talk("x", "y", outcome=resolved), [], escalation_applies=False)
    # in a transcript, help is a remedy, alternative, next step or hand-over offered somewhere
    assert helped(talk("x", "y"), [(2, read("offer_solution"))], escalation_applies=False)
    assert not helped(talk("x", "y"), [(2, read("acknowledge_feelings"))], escalation_applies=False)


def test_a_pasted_paragraph_with_a_word_changed_still_repeats() -> None:
    from harness.sentences import repeats

    paragraph = (
        "I'm really sorry about this. Could you give me your account number? "
        "I can offer you a refund or a replacement, whichever you prefer."
    )
    assert repeats(paragraph.replace("really", "so"), [paragraph])
    assert repeats(paragraph + " Thanks for waiting.", ["Hello.", paragraph])
    assert not repeats("Could you give me the order number from the receipt, please?", [paragraph])
    assert not repeats("Thanks.", ["Thanks for your patience."]) and repeats("Thanks.", ["thanks"])
    conversation = talk("Hi.", paragraph, "What?", paragraph.replace("really", "truly"))
    assert repeated_turns(conversation) == {4}


def test_a_turn_said_again_shows_nothing_new() -> None:
    same = "I understand how frustrating this is. I'll refund it today."
    conversation = talk("Where is my refund?", same, "That's what you said last time!", same)
    assert repeated_turns(conversation) == {4}
    judge = BehaviourJudge(appraiser=object())
    once = judge.judge_one(
        talk("Where is my refund?", same), RUBRIC_, [(2, read("acknowledge_feelings"))]
    )
    twice = judge.judge_one(conversation, RUBRIC_, [(2, read("acknowledge_feelings")),
                                                   (4, read("acknowledge_feelings"))])  # fmt: skip
    assert twice.scores["empathy_validation"].value == once.scores["empathy_validation"].value
    assert "repeat earlier ones" in twice.scores["empathy_validation"].rationale


def test_empathy_that_fits_the_customer_counts_more_than_a_stock_phrase() -> None:
    judge = BehaviourJudge(appraiser=object())
    conversation = talk("My bank charged me a fee because you took the money twice.", "x")
    fitting = judge.judge_one(conversation, RUBRIC_, [(2, read("acknowledge_feelings", fit=0.5))])
    stock = judge.judge_one(conversation, RUBRIC_, [(2, read("acknowledge_feelings", fit=0.05))])
    assert fitting.scores["empathy_validation"].value > stock.scores["empathy_validation"].value


def test_an_offer_that_is_none_of_the_personas_resolutions_counts_for_less() -> None:
    billing = load_persona(MINI / "mini-billing.yaml")
    judge = BehaviourJudge(appraiser=object())
    conversation = talk("You billed me twice.", "x", persona=billing)
    right = judge.judge_one(
        conversation, RUBRIC_, [(2, read("offer_solution", offers=("refund",)))]
    )
    other = judge.judge_one(conversation, RUBRIC_, [(2, read("offer_solution"))])
    assert right.scores["solutions_and_choice"].value > other.scores["solutions_and_choice"].value
