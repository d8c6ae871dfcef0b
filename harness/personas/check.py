"""`deesc persona check`: does a persona do its job? It runs the reference agents (good and bad
on purpose) against it and reads the episodes: do final anger and composite separate them (mean
difference with a bootstrap interval, Cliff's delta as effect size); does the customer stay in
role; does each hidden fact come out only when asked; how conversations end; how hard it is."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from statistics import mean
from typing import Any

from harness.personas.persona import HiddenFact, Persona
from harness.sentences import fact_tokens, words
from harness.stats import paired_difference

GOOD, BAD = "ref:empathetic", "ref:dismissive"
UNBRIEFED = "ref:careful"  # a competent agent that never reads the persona file
OFFERING = {"offer_solution", "offer_choices", "explain_policy_with_alternative"}
MIN_ANGER_GAP = 1.0  # final anger points between the bad and the good reference agent
MIN_COMPOSITE_GAP = 10.0  # composite points
MIN_DELTA = 0.5  # Cliff's delta: most bad episodes end angrier (and score lower) than good ones
MIN_IN_ROLE = 0.9


def cliffs_delta(higher: list[float], lower: list[float]) -> float | None:
    """P(x > y) - P(x < y) over all pairs: how reliably `higher` exceeds `lower`, in [-1, 1],
    defined even when neither varies (a deterministic simulator)."""
    if not higher or not lower:
        return None
    wins = sum((x > y) - (x < y) for x in higher for y in lower)
    return round(wins / (len(higher) * len(lower)), 4)


def separation(
    good: list[dict], bad: list[dict], value: Any, bad_is_higher: bool, seed: int = 0
) -> dict[str, Any]:
    """Means of each agent and the paired difference, signed so that positive means the persona
    tells them apart (bad - good for anger, good - bad for composite)."""
    g = {e["repeat"]: value(e) for e in good}
    b = {e["repeat"]: value(e) for e in bad}
    repeats = sorted(set(g) & set(b))
    low, high = ([g[r] for r in repeats], [b[r] for r in repeats])
    if not bad_is_higher:
        low, high = high, low
    return {
        "good": round(mean(g.values()), 3) if g else None,
        "bad": round(mean(b.values()), 3) if b else None,
        "difference": paired_difference(low, high, seed),
    }


def leaked(text: str, fact: HiddenFact) -> bool:
    """Whether a line gives away a hidden fact: its say-line, or a reference in it (KP-77031)."""
    say = " ".join(words(fact.say))
    if say and say in " ".join(words(text)):
        return True
    return bool((fact_tokens(fact.say) | fact_tokens(fact.fact)) & fact_tokens(text))


def fact_outcomes(persona: Persona, episodes: list[dict]) -> dict[str, Counter]:
    """Per hidden fact: episodes where it came out after being asked, leaked unasked, never."""
    out: dict[str, Counter] = {f.id: Counter() for f in persona.hidden_facts}
    for episode in episodes:
        revealed: set[str] = set()
        leaks: set[str] = set()
        for turn in episode["turns"]:
            if turn["role"] != "customer":
                continue
            revealed.update(turn.get("revealed", []))
            for fact in persona.hidden_facts:
                if fact.id not in revealed and leaked(turn["text"], fact):
                    leaks.add(fact.id)
        for fact in persona.hidden_facts:
            kind = "leaked" if fact.id in leaks else "asked" if fact.id in revealed else "never"
            out[fact.id][kind] += 1
    return out


def turns_to_calm(episode: dict, accept_below: float) -> int | None:
    """Agent turns until the customer's anger first reached the level where they accept."""
    count = 0
    for turn in episode["turns"]:
        if turn["role"] == "agent":
            count += 1
            if turn["state"]["anger"] <= accept_below:
                return count
    return None


@dataclass
class PersonaCheck:
    persona: Persona
    anger: dict[str, Any]
    composite: dict[str, Any]
    anger_delta: float | None
    composite_delta: float | None
    in_role: float | None
    sampled_lines: int
    facts: dict[str, Counter]
    end_reasons: dict[str, dict[str, int]]
    faults: dict[str, int]
    good_pass_rate: float | None
    turns_to_calm: float | None
    never_calm: int
    unbriefed_resolved: float | None = None  # share of ref:careful's episodes resolved
    unrecognised: list[str] = field(default_factory=list)  # its offers that matched nothing
    problems: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.problems

    def as_dict(self) -> dict[str, Any]:
        return {
            "persona": self.persona.id, "source": self.persona.source, "anger": self.anger,
            "composite": self.composite, "anger_cliffs_delta": self.anger_delta,
            "composite_cliffs_delta": self.composite_delta, "in_role": self.in_role,
            "sampled_customer_lines": self.sampled_lines,
            "hidden_facts": {k: dict(v) for k, v in self.facts.items()},
            "end_reasons": self.end_reasons, "simulator_faults": self.faults,
            "difficulty": {"good_pass_rate": self.good_pass_rate, "turns_to_calm": self.turns_to_calm,
                           "never_calm": self.never_calm},
            "unbriefed": {"agent": UNBRIEFED, "resolved": self.unbriefed_resolved,
                          "unrecognised_offers": self.unrecognised},
            "problems": self.problems, "passed": not self.problems,
        }  # fmt: skip


def check_persona(persona: Persona, episodes: list[dict]) -> PersonaCheck:
    mine = [e for e in episodes if e["persona_id"] == persona.id]
    good = [e for e in mine if e["agent"] == GOOD]
    bad = [e for e in mine if e["agent"] == BAD]
    final = lambda e: e["outcome"]["anger_end"]  # noqa: E731
    score = lambda e: e.get("composite") or 0.0  # noqa: E731
    sampled = [t for e in mine for t in e["turns"] if t["role"] == "customer" and t.get("samples")]
    out_of_role = sum(1 for t in sampled if "out_of_role" in t.get("faults", [t.get("fault")]))
    faults: Counter = Counter()
    for e in mine:
        faults.update(e["outcome"].get("fault_kinds", {}))
    ends: dict[str, Counter] = defaultdict(Counter)
    for e in mine:
        ends[e["agent"]][e["end_reason"]] += 1
    calm = [turns_to_calm(e, persona.temperament.accept_below) for e in good]
    check = PersonaCheck(
        persona=persona,
        anger=separation(good, bad, final, bad_is_higher=True),
        composite=separation(good, bad, score, bad_is_higher=False),
        anger_delta=cliffs_delta([final(e) for e in bad], [final(e) for e in good]),
        composite_delta=cliffs_delta([score(e) for e in good], [score(e) for e in bad]),
        in_role=round(1 - out_of_role / len(sampled), 4) if sampled else None,
        sampled_lines=len(sampled),
        facts=fact_outcomes(persona, mine),
        end_reasons={a: dict(sorted(c.items())) for a, c in sorted(ends.items())},
        faults=dict(sorted(faults.items())),
        good_pass_rate=round(mean(1.0 if e.get("passed") else 0.0 for e in good), 4) if good else None,
        turns_to_calm=round(mean(c for c in calm if c is not None), 2) if any(c is not None for c in calm) else None,
        never_calm=sum(1 for c in calm if c is None),
    )  # fmt: skip
    unbriefed = [e for e in mine if e["agent"] == UNBRIEFED]
    if unbriefed:
        check.unbriefed_resolved = round(
            mean(float(e["outcome"]["resolved"]) for e in unbriefed), 4
        )
        check.unrecognised = unrecognised_offers(unbriefed)
    check.problems = problems(check)
    return check


def unrecognised_offers(episodes: list[dict]) -> list[str]:
    """Agent turns that made an offer (by their behaviours) that matched none of the persona's
    resolutions, whole or in part: the wordings a persona author should look at."""
    out = []
    for episode in episodes:
        for turn in episode["turns"]:
            if turn["role"] != "agent" or not OFFERING & set(turn.get("behaviours", [])):
                continue
            if not (turn.get("offers") or turn.get("partial_offers") or turn.get("concessions")):
                out.append(turn["text"])
    return list(dict.fromkeys(out))


def problems(check: PersonaCheck) -> list[str]:
    found = []
    gap = check.anger["difference"]["mean"]
    if gap is None or gap < MIN_ANGER_GAP or (check.anger_delta or 0) < MIN_DELTA:
        found.append(
            f"does not react: final anger {check.anger['good']} (good agent) vs {check.anger['bad']} "
            f"(bad agent); the bad agent must leave the customer at least {MIN_ANGER_GAP:g} angrier"
        )
    gap = check.composite["difference"]["mean"]
    if gap is None or gap < MIN_COMPOSITE_GAP or (check.composite_delta or 0) < MIN_DELTA:
        found.append(
            f"does not discriminate: composite {check.composite['good']} (good agent) vs "
            f"{check.composite['bad']} (bad agent); needs a gap of {MIN_COMPOSITE_GAP:g}"
        )
    if check.in_role is not None and check.in_role < MIN_IN_ROLE:
        found.append(f"does not stay in role: {check.in_role:.0%} of sampled customer lines "
                     f"(needs {MIN_IN_ROLE:.0%})")  # fmt: skip
    for fact_id, counts in check.facts.items():
        if counts["leaked"]:
            found.append(f"hidden fact {fact_id!r} comes out without being asked "
                         f"({counts['leaked']} of {sum(counts.values())} episodes)")  # fmt: skip
    return found


def _fmt_separation(name: str, s: dict[str, Any], delta: float | None, sign: str) -> str:
    d = s["difference"]
    interval = f" [{d['low']:+.1f}, {d['high']:+.1f}]" if d["low"] is not None else ""
    gap = "-" if d["mean"] is None else f"{d['mean']:+.1f}{interval}"
    return (f"  {name:<12} good {s['good']}, bad {s['bad']}; {sign} {gap}; "
            f"Cliff's delta {delta if delta is not None else '-'}")  # fmt: skip


def check_text(check: Any) -> str:
    r = check.as_dict()
    status = "ok" if check.passed else "REJECTED"
    lines = [f"{r['persona']} ({r['source']}): {status}"]
    lines.append(_fmt_separation("final anger", r["anger"], r["anger_cliffs_delta"], "bad - good"))
    lines.append(
        _fmt_separation("composite", r["composite"], r["composite_cliffs_delta"], "good - bad")
    )
    in_role = "-" if r["in_role"] is None else f"{r['in_role']:.0%}"
    lines.append(
        f"  in role      {in_role} of {r['sampled_customer_lines']} sampled customer lines"
    )
    for fact, counts in r["hidden_facts"].items():
        lines.append(f"  hidden fact  {fact}: asked then said {counts.get('asked', 0)}, "
                     f"leaked {counts.get('leaked', 0)}, never {counts.get('never', 0)}")  # fmt: skip
    ends = "; ".join(
        f"{a}: " + ", ".join(f"{k} {v}" for k, v in c.items()) for a, c in r["end_reasons"].items()
    )
    lines.append(f"  ended        {ends}")
    diff = r["difficulty"]
    rate = "-" if diff["good_pass_rate"] is None else f"{diff['good_pass_rate']:.0%}"
    lines.append(f"  difficulty   the good agent passes {rate}; calm after {diff['turns_to_calm'] or '-'} "
                 f"agent turn(s) on average ({diff['never_calm']} episodes never calm)")  # fmt: skip
    if r["simulator_faults"]:
        lines.append(
            "  sim. faults  " + ", ".join(f"{k} {v}" for k, v in r["simulator_faults"].items())
        )
    unbriefed = r["unbriefed"]
    if unbriefed["resolved"] is not None:
        lines.append(f"  unbriefed   {unbriefed['agent']} (never reads the persona) resolves "
                     f"{unbriefed['resolved']:.0%} of its episodes")  # fmt: skip
        lines += [
            f"    not recognised as an offer: {t!r}" for t in unbriefed["unrecognised_offers"][:5]
        ]
    lines += [f"  PROBLEM: {p}" for p in r["problems"]]
    return "\n".join(lines)
