"""Offers, concessions and requests for facts understood in any wording: the learned matcher on
the held-out personas' paraphrases and near-misses (a separate pass wrote them; no persona of
them is trained on), with amounts, negation, conditions and parts of an offer checked."""

from __future__ import annotations

import json

import pytest
from conftest import CORE

from harness.appraisal.matching import CARD, Matcher, amounts, description_parts, shipped_dir
from harness.personas.loading import load_personas


def test_amounts_are_read_in_digits_and_words() -> None:
    assert amounts("I'll refund the forty-nine dollars today.") == {49.0}
    assert amounts("That's £114.99 back, and a hundred and forty for the blender") == {114.99}
    assert amounts("a hundred and forty dollars") == {140.0}
    assert description_parts("refund the duplicate charge of $89.99 and cover the $25 overdraft fee") == [
        "refund the duplicate charge of $89.99", "cover the $25 overdraft fee"]  # fmt: skip


def test_the_shipped_card_holds_its_floor_on_held_out_personas() -> None:
    """The issue's target is F1 >= 0.90 and <= 5% false offers from near-misses; the shipped
    matcher is short of it (README, "Understanding offers"), so this guards what it reaches."""
    card = json.loads((shipped_dir() / CARD).read_text())
    # the stock near-misses (LABELLING.md) cost a point of offer F1 and halved false offers
    assert card["held_out"]["offer"]["f1"] >= 0.84 and card["held_out"]["fact"]["f1"] >= 0.85
    assert card["held_out"]["offer"]["no_read_as_offer"] <= 0.05  # near-misses are not offers
    assert card["held_out"]["offer"]["partial_read_as_offer"] <= 0.25
    assert card["items"]["held_out"] >= 40
    from harness.appraisal.matcher_training import fingerprint

    assert card["fingerprint"] == fingerprint()  # trained on these pair files, not older ones


@pytest.mark.slow
def test_the_issues_billing_offers_are_understood_and_near_misses_are_not() -> None:
    billing = {p.id: p for p in load_personas([CORE])}["billing-double-charge"]
    matcher = Matcher()
    items = [(o.id, o.description) for o in billing.acceptable_resolutions]
    offers = {
        "I've reversed the second $89.99 payment and I'll pay back the bank's $25 fee today.": "refund_duplicate",
        "I'll refund the extra charge and reimburse your overdraft fee.": "refund_duplicate",
    }  # fmt: skip
    for text, expected in offers.items():
        found = matcher.read(text, items, "offer")
        assert any(m.label == "offer" for m in found.values()), text
        assert expected in found, (text, found)
    # KNOWN MISS (README, "Understanding offers"): since the stock near-misses were added, an
    # amount put "back on your bill" for both is not read as the credit; stated so a fix shows
    missed = "I can put $114.99 back on your bill today to cover both."
    assert not matcher.read(missed, items, "offer"), "understood now: move it up"
    for near in ("I can't refund the duplicate charge, I'm afraid.",
                 "I'll refund $8.99 of it today.",
                 "If you pay the $30 admin fee, I could look at refunding it.",
                 "I'll see whether a refund might be possible next month."):  # fmt: skip
        found = matcher.read(near, items, "offer")
        assert not any(m.label == "offer" for m in found.values()), near
    facts = [(f.id, f.fact) for f in billing.hidden_facts]
    asked = matcher.read("Could you read me the number at the top of your bill?", facts, "fact")
    assert set(asked) == {"account_number"}
    assert not matcher.read("I can see the charges from the 3rd.", facts, "fact")


@pytest.mark.slow
def test_an_offer_must_say_every_part_of_the_resolution() -> None:
    """A pasted sentence that shares one part with a resolution (a number of days) and says
    nothing of the other (the loan laptop) is at most a partial offer."""
    laptop = {p.id: p for p in load_personas([CORE])}["inflexible-laptop-return"]
    items = [(o.id, o.description) for o in laptop.acceptable_resolutions]
    matcher = Matcher()
    pasted = "Which do you prefer? The refund will show in 3 to 5 working days."
    found = matcher.read(pasted, items, "offer")
    assert not any(m.label == "offer" for m in found.values()), found
    whole = "I'll have it repaired free under warranty within five days, and lend you a laptop until then."
    assert matcher.read(whole, items, "offer")["warranty_repair_loan"].label == "offer"


def test_the_stock_second_pass_agrees_with_the_labels_it_checked() -> None:
    """The blind second labelling of stock examples (LABELLING.md) is of the shipped labels,
    and agrees with them as the guide reports."""
    from harness.appraisal.matcher_training import matcher_items

    shipped = {
        (split, item["id"], example["text"]): example["label"]
        for split in ("train", "heldout")
        for item in matcher_items(f"{split}.jsonl")
        for example in item["examples"]
    }
    folder = shipped_dir().parent / "data" / "matcher"
    rows = [
        json.loads(line) for line in (folder / "stock_second_pass.jsonl").read_text().splitlines()
    ]
    assert len(rows) == 120 and sum(r["split"] == "heldout" for r in rows) == 40
    for row in rows:
        assert shipped[(row["split"], row["id"], row["text"])] == row["first"], row
    agreement = sum(r["first"] == r["second"] for r in rows) / len(rows)
    assert agreement == pytest.approx(0.967, abs=0.001)
