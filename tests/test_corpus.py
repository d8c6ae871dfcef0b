"""The behaviour corpus: labels from the taxonomy, enough of each, test phrasings unseen."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections import Counter

from harness.appraisal.corpus import (
    CONTEXT_ONLY,
    EXCLUSIVE,
    TURN_RULES,
    build_corpus,
    in_split,
    phrase_banks,
)
from harness.behaviours import ANSWERING, NAMES, with_turn_rules

CORPUS = build_corpus(seed=0)


def test_every_behaviour_has_hundreds_of_examples_in_both_splits() -> None:
    for split, floor in (("train", 300), ("test", 100)):
        counts = Counter(label for e in CORPUS if e.split == split for label in e.labels)
        assert set(counts) == set(NAMES)
        assert min(counts.values()) >= floor, counts.most_common()[-3:]


def test_the_test_split_only_uses_held_out_phrasings() -> None:
    for behaviour, phrases in phrase_banks().items():
        held, seen = in_split(phrases, "test"), in_split(phrases, "train")
        assert held and seen and not set(held) & set(seen), behaviour
    train_text = " ".join(e.agent for e in CORPUS if e.split == "train")
    for phrase in in_split(phrase_banks()["paraphrase"], "test"):
        stem = phrase.split("{")[0].strip()  # the fixed words before a slot
        if len(stem.split()) >= 3:  # two words ("Right, so") also arise from joining sentences
            assert stem not in train_text, stem


def test_labels_follow_the_rules_of_composition() -> None:
    for e in CORPUS:
        labels = set(e.labels)
        assert not any(pair <= labels for pair in EXCLUSIVE), e
        assert "{" not in e.agent and "{" not in e.customer, e  # every slot filled
        asked = e.customer.endswith("?")
        assert (CONTEXT_ONLY in labels) == (asked and not labels & ANSWERING), e
        # the turn rule every appraisal applies agrees with the phrase labels
        assert with_turn_rules(labels - set(TURN_RULES), e.agent, e.customer) == labels, e


def test_hard_cases_and_domains_are_represented() -> None:
    cases = Counter(e.hard_case for e in CORPUS if e.hard_case)
    assert set(cases) == {
        "polite_dismissive",
        "apologetic_empty",
        "empathic_no_help",
        "blunt_helpful",
        "polite_sarcasm",
    }
    assert all(n >= 100 for n in cases.values())
    assert {e.domain for e in CORPUS} == {"billing", "delivery", "refunds", "technical", "accounts"}
    lengths = [len(e.agent.split()) for e in CORPUS]
    assert min(lengths) <= 3 and max(lengths) >= 40  # short and long turns
    # slot words are worded for the agent; in the customer's mouth "your bill" becomes "my bill"
    assert not [e.customer for e in CORPUS if re.search(r"\byour\b", e.customer)]


def test_the_same_seed_gives_the_same_corpus_in_any_process() -> None:
    assert build_corpus(seed=0) == CORPUS
    assert build_corpus(seed=1) != CORPUS
    code = (
        "import hashlib, json; from harness.appraisal.corpus import build_corpus; "
        "print(hashlib.sha256(json.dumps([e.as_dict() for e in build_corpus(0)]).encode()).hexdigest())"
    )
    digests = {
        subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                       env={**os.environ, "PYTHONHASHSEED": str(h)}).stdout
        for h in (1, 2)
    }  # fmt: skip
    assert len(digests) == 1
