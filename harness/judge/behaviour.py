"""The behaviour judge: rubric criteria scored from what the appraisal read in each agent turn.
Deterministic, offline and fast (tens of conversations a second on 2 CPU cores).

Per criterion that the conversation gave occasion for (`occasions.py`; without occasion it is
unscored, "not applicable"), the evidence behaviours raise the score and the penalty
behaviours lower it:

    value = clip(base + (5 - base) * shown - 3 * penalty - 0.5 * (turns with a penalty - 1), 1, 5)

`base` is the criterion's `nothing_shown` (what no evidence and no penalty is worth: 2, no sign
of it, for most; 4 for staying calm, which shows in what is absent). `shown` is the strength of
the evidence behaviours, each at its strongest turn, the strongest counting 3/4 and the next
1/4 when a criterion has several, so two kinds of evidence are needed for a 5. Strength is the
classifier's probability, discounted where the words do not fit the conversation: empathy or a
restatement that shares nothing with what the customer said, an offer that is none of the
persona's resolutions, a turn that mostly repeats an earlier one. `penalty` is the
strongest penalty behaviour's probability. Confidence is how far from undecided (0.5) the
probabilities of the criterion's behaviours are. Evidence quotes are the pieces of the agent's
turns in which the classifier found each behaviour.
"""

from __future__ import annotations

from dataclasses import replace

from harness.appraisal import Appraisal, Appraiser, open_appraiser
from harness.appraisal.base import off_loop
from harness.judge.base import Conversation, CriterionScore, Evidence, Judgement, applicable
from harness.judge.evidence import verified
from harness.judge.occasions import helped, occasions
from harness.personas.rubric import Criterion, Rubric
from harness.sentences import repeats

SHOWN_WEIGHTS = (0.75, 0.25)
PENALTY_DROP = 3.0
REPEAT_DROP = 0.5
# a critical failure fails a conversation outright, so it needs the classifier surer than the
# threshold tuned for F1 (as low as 0.2 for sarcasm): per behaviour, the lowest certainty at which
# at most 1% of conversations people rated good get it, on every development corpus
# (bench/critical_certainty.py, 2026-12-02: EPITOME, Stanford politeness, user satisfaction)
CRITICAL_CERTAINTY = {"blame_customer": 0.45, "rude_or_sarcastic": 0.9}
CRITICAL_DEFAULT = 0.5  # a rubric's critical behaviour with no measured certainty


# evidence whose words share little with the customer's turn counts for less (the fit is the
# cosine of the piece and the customer turn; below FIT_LOW it counts FIT_FLOOR of its strength)
FIT_SCALED = frozenset({"acknowledge_feelings", "paraphrase"})
FIT_LOW, FIT_HIGH, FIT_FLOOR = 0.15, 0.35, 0.5
# an offer that is none of the persona's resolutions (whole or in part) is worth this much
UNRELATED_OFFER = 0.5
OFFERS = frozenset({"offer_solution", "offer_choices"})


def repeated_turns(conversation: Conversation) -> set[int]:
    """Agent turns that mostly repeat an earlier agent turn of the conversation: what they show
    was already shown, and saying it again is not listening."""
    earlier: list[str] = []
    out = set()
    for number, text, _ in conversation.agent_turns():
        if repeats(text, earlier):
            out.add(number)
        earlier.append(text)
    return out


def _strength(
    appraisal: Appraisal, behaviour: str, conversation: Conversation, repeated: bool
) -> float:
    """The probability of a shown behaviour, discounted where the words do not fit."""
    p = max(0.5, appraisal.scores.get(behaviour, 1.0))  # over its threshold: at least even odds
    if repeated:
        return 0.0
    if behaviour in FIT_SCALED and behaviour in appraisal.fit:
        share = (appraisal.fit[behaviour] - FIT_LOW) / (FIT_HIGH - FIT_LOW)
        p *= FIT_FLOOR + (1 - FIT_FLOOR) * min(1.0, max(0.0, share))
    if behaviour in OFFERS and conversation.persona is not None:
        reading = appraisal.offers
        if not (reading.offers or reading.partial_offers or reading.concessions):
            p *= UNRELATED_OFFER
    return p


def _strongest(
    conversation: Conversation,
    appraisals: list[tuple[int, Appraisal]],
    behaviour: str,
    repeats: set[int],
    evidence: bool,
) -> tuple[float, float, int | None, str]:
    """(strength, probability, turn, quote) of the turn that shows `behaviour` most; shown or
    not. Evidence is discounted where it does not fit; penalties count as read."""
    best: tuple[float, float, int | None, str] = (0.0, 0.0, None, "")
    for turn, appraisal in appraisals:
        found = behaviour in appraisal.behaviours
        p = appraisal.scores.get(behaviour, 1.0 if found else 0.0)
        if not found:
            p = min(p, 0.49)  # under its threshold: not shown, whatever the raw probability
            strength = 0.0
        else:
            p = max(p, 0.5)
            strength = (
                _strength(appraisal, behaviour, conversation, turn in repeats) if evidence else p
            )
        if (strength, p) > best[:2]:
            best = (strength, p, turn, appraisal.evidence.get(behaviour, "") if found else "")
    return best


def score_criterion(
    conversation: Conversation,
    criterion: Criterion,
    appraisals: list[tuple[int, Appraisal]],
    occasion: dict[str, bool] | None = None,
) -> CriterionScore:
    if not appraisals:
        return CriterionScore(None, None, unscored="the agent never spoke")
    relevant = (*criterion.evidence_behaviours, *criterion.penalty_behaviours)
    done = any(b in a.behaviours for _, a in appraisals for b in relevant)
    # without occasion a criterion is not applicable; what the agent did anyway still counts
    if occasion is not None and not occasion.get(criterion.occasion, True) and not done:
        return CriterionScore(
            None, None, unscored=f"not applicable: no occasion ({criterion.occasion})"
        )
    repeats = repeated_turns(conversation)
    evidence: list[Evidence] = []
    shown_parts, probabilities, notes = [], [], []
    for behaviour in criterion.evidence_behaviours:
        strength, p, turn, quote = _strongest(conversation, appraisals, behaviour, repeats, True)
        probabilities.append(p)
        shown_parts.append(strength if p >= 0.5 else 0.0)
        if p >= 0.5 and turn is not None:
            notes.append(f"{behaviour} (turn {turn})")
            if quote:
                evidence.append(verified(conversation, turn, quote, behaviour))
    penalties, penalty_turns = [], set()
    for behaviour in criterion.penalty_behaviours:
        _, p, turn, quote = _strongest(conversation, appraisals, behaviour, repeats, False)
        probabilities.append(p)
        if p >= 0.5 and turn is not None:
            penalties.append(p)
            penalty_turns |= {t for t, a in appraisals if behaviour in a.behaviours}
            notes.append(f"penalty {behaviour} (turn {turn})")
            if quote:
                evidence.append(verified(conversation, turn, quote, behaviour))
    if repeats:
        notes.append(f"turns {', '.join(map(str, sorted(repeats)))} repeat earlier ones")
    ranked = sorted(shown_parts, reverse=True)[: len(SHOWN_WEIGHTS)]
    weights = SHOWN_WEIGHTS[: len(ranked)]
    shown = sum(w * p for w, p in zip(weights, ranked, strict=True)) / sum(weights) if ranked else 0
    penalty = max(penalties, default=0.0)
    repeat_count = max(0, len(penalty_turns) - 1)
    base = criterion.nothing_shown
    value = min(5.0, max(1.0, base + (5 - base) * shown
                         - PENALTY_DROP * penalty - REPEAT_DROP * repeat_count))  # fmt: skip
    decided = [abs(2 * p - 1) for p in probabilities] or [1.0]
    rationale = "shows " + ", ".join(notes) if notes else "none of the evidence behaviours shown"
    return CriterionScore(
        value=value,
        confidence=sum(decided) / len(decided),
        evidence=tuple(e for e in evidence if e.found),
        rationale=rationale,
    )


class BehaviourJudge:
    name = "behaviour"

    def __init__(self, appraiser: Appraiser | None = None) -> None:
        self.appraiser = appraiser or open_appraiser()

    def appraise(self, conversations: list[Conversation]) -> list[list[tuple[int, Appraisal]]]:
        """(turn number, appraisal) per agent turn of each conversation. An episode's own
        appraisals are used as they are; the other turns are read in one batch, and where a
        turn recorded its behaviours (a restored conversation) those stand."""
        turns = [c.agent_turns() for c in conversations]
        pending = [
            (text, customer)
            for c, ts in zip(conversations, turns, strict=True)
            for number, text, customer in ts
            if number not in c.appraisals
        ]
        many = getattr(self.appraiser, "appraise_many", None)
        read = iter(many(pending) if many else [self.appraiser.appraise(a, c) for a, c in pending])
        out = []
        for c, ts in zip(conversations, turns, strict=True):
            found = []
            for number, _, _ in ts:
                appraisal = c.appraisals.get(number) or next(read)
                recorded = c.turns[number - 1].get("behaviours")
                if number not in c.appraisals and recorded is not None:
                    appraisal = replace(appraisal, behaviours=tuple(sorted(recorded)))
                found.append((number, appraisal))
            out.append(found)
        return out

    def judge_one(
        self,
        conversation: Conversation,
        rubric: Rubric,
        appraisals: list[tuple[int, Appraisal]] | None = None,
    ) -> Judgement:
        if appraisals is None:
            appraisals = self.appraise([conversation])[0]
        occasion = occasions(conversation, appraisals)
        criteria = applicable(rubric, conversation.archetype)
        scores = {c.id: score_criterion(conversation, c, appraisals, occasion) for c in criteria}
        escalation = any(c.occasion == "escalation_arises" for c in criteria)
        certain = {
            b
            for _, a in appraisals
            for b in a.behaviours
            if a.scores.get(b, 1.0) >= CRITICAL_CERTAINTY.get(b, CRITICAL_DEFAULT)
        }
        critical = tuple(f.id for f in rubric.critical_failures if certain & set(f.behaviours))
        return Judgement(scores=scores, critical_failures=critical, judge=self.name,
                         helped=helped(conversation, appraisals, escalation),
                         extra={"appraisals": appraisals})  # fmt: skip

    def judge_all(self, conversations: list[Conversation], rubric: Rubric) -> list[Judgement]:
        appraised = self.appraise(conversations)
        return [self.judge_one(c, rubric, a) for c, a in zip(conversations, appraised, strict=True)]

    async def judge(self, conversations: list[Conversation], rubric: Rubric) -> list[Judgement]:
        return await off_loop(self.judge_all, conversations, rubric)
