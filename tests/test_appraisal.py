"""The lexicon appraisal: behaviours of agent turns, with the customer's turn as context."""

from __future__ import annotations

import pytest

from harness.appraisal import LexiconAppraiser, open_appraiser
from harness.errors import DeescError

A = LexiconAppraiser()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "I can understand how frustrating this is, and I'm sorry.",
            {"acknowledge_feelings", "apologise"},
        ),
        ("So if I understand correctly, you were charged twice.", {"paraphrase"}),
        ("Could you tell me your order number?", {"ask_clarifying_question"}),
        (
            "I can refund the charge, or I can credit your account. Which would you prefer?",
            {"offer_solution", "offer_choices"},
        ),
        ("You'll get a confirmation email within 24 hours.", {"set_expectation"}),
        (
            "Our policy doesn't allow a cash refund, but what I can do instead is repair it.",
            {"explain_policy_with_alternative"},
        ),
        (
            "I'm here to help, and I'd ask that we keep the language respectful.",
            {"set_boundary_respectfully"},
        ),
        ("I'll transfer you to my supervisor.", {"escalate_to_supervisor"}),
        (
            "Does that work for you? Thank you for your patience.",
            {"confirm_resolution", "thank_customer"},
        ),
        ("Calm down. It's not a big deal.", {"dismiss"}),
        ("You should have read the terms.", {"blame_customer"}),
        ("That's not true, you're wrong.", {"argue"}),
        ("That's our policy. There's nothing I can do.", {"refuse_without_alternative"}),
        ("Sorry. I'm so sorry. I apologise. My apologies.", {"over_apologise"}),
        ("Please hold, you'll need to call another department.", {"unnecessary_transfer_or_hold"}),
        ("Learn to read, it's not rocket science.", {"rude_or_sarcastic"}),
        ("The SLA on the backend provisioning ticket is tier 2.", {"jargon"}),
    ],
)
def test_behaviours_are_found(text: str, expected: set[str]) -> None:
    found = set(A.appraise(text).behaviours)
    assert expected <= found, found


def test_a_refusal_with_an_alternative_is_not_a_bare_refusal() -> None:
    bare = set(A.appraise("We can't refund that.").behaviours)
    framed = set(
        A.appraise("We can't refund that, but I can offer a free repair instead.").behaviours
    )
    assert "refuse_without_alternative" in bare
    assert "refuse_without_alternative" not in framed
    assert "explain_policy_with_alternative" in framed


def test_a_question_left_unanswered_is_ignored_in_context() -> None:
    question = "When will my refund arrive?"
    assert "ignore_question" in A.appraise("Thanks for your message.", question).behaviours
    assert "ignore_question" not in A.appraise("You'll get it within 3 days.", question).behaviours
    assert "ignore_question" not in A.appraise("Thanks for your message.", "It broke.").behaviours


def test_an_empty_turn_shows_nothing_but_an_ignored_question() -> None:
    assert A.appraise("", "Hello?").behaviours == ("ignore_question",)
    assert A.appraise("   ", "It broke.").behaviours == ()


def test_closing_and_rhetorical_questions_are_not_clarifying() -> None:
    assert "ask_clarifying_question" not in A.appraise("Is there anything else?").behaviours
    assert "ask_clarifying_question" not in A.appraise("What do you expect me to do?").behaviours


def test_appraisal_is_deterministic_and_sorted() -> None:
    text = "I'm sorry. Could you tell me the date? I'll make sure it's fixed."
    first, second = A.appraise(text), A.appraise(text)
    assert first == second and list(first.behaviours) == sorted(first.behaviours)


def test_unknown_appraisal_name() -> None:
    with pytest.raises(DeescError, match="unknown appraisal"):
        open_appraiser("telepathy")
