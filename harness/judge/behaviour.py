"""The behaviour judge: rubric criteria scored from the behaviours the appraisal finds in each
agent turn. Deterministic, offline and fast (tens of conversations a second on 2 CPU cores).

Per criterion, the evidence behaviours raise the score and the penalty behaviours lower it:

    value = clip(3 + 2 * shown - 3 * penalty - 0.5 * (turns with a penalty - 1), 1, 5)

`shown` is the strength of the evidence behaviours, each taken at its strongest turn
(probability), the strongest counting 3/4 and the next 1/4 when a criterion has several, so a
criterion with two kinds of evidence needs both for a 5; with nothing shown and nothing wrong
a criterion is a 3 (`NOTHING_SHOWN`, the anchors' adequate 3). `penalty` is the
strongest penalty behaviour's probability. Confidence is how far from undecided (0.5) the
probabilities of all the criterion's behaviours are.
Evidence quotes are the pieces of the agent's turns in which the classifier found each
behaviour.
"""

from __future__ import annotations

from dataclasses import replace

from harness.appraisal import Appraisal, Appraiser, open_appraiser
from harness.appraisal.base import off_loop
from harness.judge.base import Conversation, CriterionScore, Evidence, Judgement, applicable
from harness.judge.evidence import verified
from harness.personas.rubric import Criterion, Rubric

NOTHING_SHOWN = 3.0  # no sign of the behaviour, and nothing wrong either: the anchors' adequate 3
SHOWN_WEIGHTS = (0.75, 0.25)
PENALTY_DROP = 3.0
REPEAT_DROP = 0.5
# a critical failure fails a conversation outright, so it needs the classifier to be more sure
# than not, not only over the threshold that was tuned for F1 (as low as 0.2 for sarcasm)
CRITICAL_CERTAINTY = 0.5


def _strongest(
    appraisals: list[tuple[int, Appraisal]], behaviour: str
) -> tuple[float, int | None, str]:
    """(probability, turn, quote) of the turn that shows `behaviour` most; found or not."""
    best: tuple[float, int | None, str] = (0.0, None, "")
    for turn, appraisal in appraisals:
        found = behaviour in appraisal.behaviours
        p = appraisal.scores.get(behaviour, 1.0 if found else 0.0)
        if found and p < 0.5:
            p = 0.5  # over its threshold, so shown: count it as at least even odds
        if not found:
            p = min(p, 0.49)  # under its threshold: not shown, whatever the raw probability
        if p > best[0]:
            best = (p, turn, appraisal.evidence.get(behaviour, "") if found else "")
    return best


def score_criterion(
    conversation: Conversation, criterion: Criterion, appraisals: list[tuple[int, Appraisal]]
) -> CriterionScore:
    if not appraisals:
        return CriterionScore(None, None, unscored="the agent never spoke")
    evidence: list[Evidence] = []
    shown_parts, probabilities, notes = [], [], []
    for behaviour in criterion.evidence_behaviours:
        p, turn, quote = _strongest(appraisals, behaviour)
        probabilities.append(p)
        shown = p >= 0.5
        shown_parts.append(p if shown else 0.0)
        if shown and turn is not None:
            notes.append(f"{behaviour} (turn {turn})")
            if quote:
                evidence.append(verified(conversation, turn, quote, behaviour))
    penalties, penalty_turns = [], set()
    for behaviour in criterion.penalty_behaviours:
        p, turn, quote = _strongest(appraisals, behaviour)
        probabilities.append(p)
        if p >= 0.5 and turn is not None:
            penalties.append(p)
            penalty_turns |= {t for t, a in appraisals if behaviour in a.behaviours}
            notes.append(f"penalty {behaviour} (turn {turn})")
            if quote:
                evidence.append(verified(conversation, turn, quote, behaviour))
    ranked = sorted(shown_parts, reverse=True)[: len(SHOWN_WEIGHTS)]
    weights = SHOWN_WEIGHTS[: len(ranked)]
    shown = sum(w * p for w, p in zip(weights, ranked, strict=True)) / sum(weights) if ranked else 0
    penalty = max(penalties, default=0.0)
    repeats = max(0, len(penalty_turns) - 1)
    value = min(5.0, max(1.0, NOTHING_SHOWN + (5 - NOTHING_SHOWN) * shown
                         - PENALTY_DROP * penalty - REPEAT_DROP * repeats))  # fmt: skip
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
        scores = {
            c.id: score_criterion(conversation, c, appraisals)
            for c in applicable(rubric, conversation.archetype)
        }
        certain = {
            b
            for _, a in appraisals
            for b in a.behaviours
            if a.scores.get(b, 1.0) >= CRITICAL_CERTAINTY
        }
        critical = tuple(f.id for f in rubric.critical_failures if certain & set(f.behaviours))
        return Judgement(scores=scores, critical_failures=critical, judge=self.name)

    def judge_all(self, conversations: list[Conversation], rubric: Rubric) -> list[Judgement]:
        appraised = self.appraise(conversations)
        return [self.judge_one(c, rubric, a) for c, a in zip(conversations, appraised, strict=True)]

    async def judge(self, conversations: list[Conversation], rubric: Rubric) -> list[Judgement]:
        return await off_loop(self.judge_all, conversations, rubric)
