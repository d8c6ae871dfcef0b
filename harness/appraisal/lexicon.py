"""A deterministic, offline appraisal from phrase patterns, with the customer's turn as context.

It is transparent and fast, and it is the baseline that a learned classifier has to beat: a
pattern list misses paraphrased behaviours, so it is no judge of free-form bots on its own.
"""

from __future__ import annotations

import re
from collections.abc import Collection

from harness.appraisal.base import Appraisal
from harness.appraisal.offers import OfferReading, read_by_cues
from harness.behaviours import with_turn_rules
from harness.personas.persona import Persona
from harness.sentences import split_sentences

_DAYS = r"(monday|tuesday|wednesday|thursday|friday|saturday|sunday|tomorrow|tonight|end of (the )?day|end of (the )?week)"
_NUM = r"(\d+|one|two|three|four|five|six|seven|ten|24|48|72)"

PATTERNS: dict[str, str] = {
    "acknowledge_feelings": (
        r"\bi (can |completely |totally |really |fully )*(understand|see|hear|imagine) (how|why|that|your|what)"
        r"|\b(that|this|it)('s| is| sounds| must be| must have been)( really| so| incredibly| very| genuinely)?"
        r" (frustrating|upsetting|stressful|annoying|worrying|confusing|disappointing|infuriating|maddening|awful)"
        r"|\byou('re| are| have)( every)? (right|reason) to be"
        r"|\b(your|the) (frustration|anger|concern|worry) (is|makes)"
        r"|\bi hear you\b|\bmakes (complete |total )?sense (that|you)"
    ),
    "apologise": r"\b(i('m| am)( so| really| very| truly| sincerely)? sorry|(my|our)( sincere)? apologies|i apologi[sz]e|please accept (my|our) apolog)",
    "take_ownership": (
        r"\b(i('ll| will) (personally |make sure|take care|handle|sort|fix|own|look into|get this|stay on)"
        r"|let me (personally )?(fix|sort|take care|handle|look into|check|get)"
        r"|i('m| am) (going to|taking) (fix|sort|take care|handle|own|personally|responsibility|ownership)"
        r"|(this|that) (is|was) (our|my) (mistake|error|fault))"
    ),
    "paraphrase": (
        r"\b(so (what )?(i'?m hearing|you'?re saying)|if i (understand|have (this|that)) (you )?(correctly|right)"
        r"|just to (make sure|confirm) i (understand|have (this|that|it) right)"
        r"|let me make sure i (understand|have)|it sounds like (you|your)|so,? to (sum up|summari[sz]e)"
        r"|(you|you've) (were|have been|got) (charged|billed|told|promised|sent)[^.?!]{0,60}(and|but|,))"
    ),
    "offer_solution": (
        r"\b(i can (offer|give|refund|credit|send|replace|arrange|waive|reverse|issue|set up|schedule|cancel|extend|upgrade|walk you)"
        r"|i('ll| will| have| am going to) (refund|credit|send|replace|arrange|waive|reverse|issue|process|apply|expedite|reship|cancel|book|extend)"
        r"|we (can|will|'ll) (offer|give|refund|credit|send|replace|arrange|waive|reverse|reship|expedite)"
        r"|i('ve| have) (refunded|credited|issued|processed|applied|waived|reversed|arranged|booked|sent)"
        r"|here('s| is) (how|what) (to|we|i)|the fix is|you can (reset|change|turn|open|go to))"
    ),
    "offer_choices": (
        r"\b(would you (prefer|rather)|(you can|you could) (choose|pick|either)|\beither\b[^.?!]{3,80}\bor\b"
        r"|(two|three|a few|some|couple of) options|which (would you prefer|works (better|best)|option))"
    ),
    "set_expectation": (
        rf"\b(within {_NUM}|in the next {_NUM}|by {_DAYS}|{_NUM}[- ](business |working )?(days?|hours?|minutes?)"
        r"|you('ll| will) (receive|get|see) (an? )?(email|confirmation|text|update|refund|credit|call|reply)"
        r"|(the next step|what happens next) is)"
    ),
    "set_boundary_respectfully": (
        r"\b(i('m| am) (here|happy|glad|keen) to help[^.?!]{0,80}(language|respect|swear|abuse|tone)"
        r"|please (keep|use) (it |this |the conversation )?(respectful|civil|polite)"
        r"|(let's|can we|could we) keep (this|it|things) (respectful|civil|calm)"
        r"|i (won't|will not|can't|cannot) (accept|tolerate|continue with) (abusive|that|this) (language|kind of)"
        r"|i('d| would) ask (that )?you (not|to keep|to avoid))"
    ),
    "escalate_to_supervisor": (
        r"\b(i('ll| will|'m going to| am going to| can) (transfer|escalate|connect|pass|bring in|hand)"
        r"( you| this| your (case|call|complaint))? (to|with|over to) (my |a |the |our )?(supervisor|manager|specialist|senior|team lead)"
        r"|escalat(e|ing) (this|your case|your complaint) to"
        r"|(get|bring) (my|a|the) (supervisor|manager) (on|in))"
    ),
    "confirm_resolution": (
        r"\b(does (that|this) (work|sound|solve|resolve|help|cover)|is (that|this) (okay|ok|acceptable|alright|all right)"
        r"|are you (happy|satisfied|okay|ok) with|is there anything else|have i (resolved|answered|covered)"
        r"|did that (help|answer|solve))"
    ),
    "thank_customer": r"\b((thank you|thanks)( so much| very much)?( for| again)|i (really )?appreciate (your|you))",
    "dismiss": (
        r"\b(calm down|relax\b|(it's|it is) not (a|that) big( a)? deal|you('re| are) overreacting"
        r"|no need to (get|be) (so )?(upset|angry|worked up|dramatic)|settle down|chill out"
        r"|happens to everyone|(it's|it is) (only|just) (a few|one|a small)|don't be (so )?dramatic)"
    ),
    "blame_customer": (
        r"\b(you should have|you shouldn't have|(it's|it is|that's|that is) (your|on you)( own)? (fault|responsibility|problem|mistake)?"
        r"|you didn't (read|check|follow|pay attention)|if you had (read|checked|paid|followed)"
        r"|you (must|probably|clearly) (have )?(entered|clicked|typed|done|misread|ignored)|you failed to|user error)"
    ),
    "argue": (
        r"\b(that's not true|that is not true|you('re| are) (wrong|mistaken)|no,? (it|that) (isn't|is not|wasn't|was not|didn't)"
        r"|actually,? you|i disagree|that's incorrect|that never happened|that('s| is) not what happened|you're not listening)"
    ),
    "refuse_without_alternative": (
        r"\b(there('s| is) nothing (i|we|else i|else we) can do|(i|we) can('t|not) (do|help with) (anything|that)"
        r"|(that('s| is)|it('s| is)) not possible|no exceptions|(that's|that is|it's) (just )?(our|the|company) policy"
        r"|(i|we) (can't|cannot|won't|will not|don't) (refund|change|do|make|give|offer|replace)"
        r"|not my (problem|department|job)|(the|my) answer is no)"
    ),
    "unnecessary_transfer_or_hold": (
        r"\b(please hold|put you on hold|hold the line|(call|contact|email|ring) (back later|another|a different|the other|our other)"
        r"|transfer you to (another|a different|the other) (department|team)"
        r"|you('ll| will) (need|have) to (call|contact|email|ring) (them|another|the|a)|not (my|our) department)"
    ),
    "rude_or_sarcastic": (
        r"\b(idiot|stupid|dumb\b|moron|shut up|whatever\.|good luck with that|i (don't|do not) care"
        r"|are you (even )?(listening|reading)|oh,? (great|wonderful|brilliant|perfect),? another|what do you (want|expect) me to do"
        r"|not rocket science|learn to read|your problem,? not mine)"
    ),
}

_COMPILED = {name: re.compile(p, re.I) for name, p in PATTERNS.items()}
_POLICY = re.compile(
    r"\b(policy|terms|our rules|not (able|allowed|permitted) to|unable to|can('t|not)|outside (the|our))",
    re.I,
)
_ALTERNATIVE = re.compile(
    r"\b(what i can do|what we can do|instead|alternatively|however,? (i|we) can|but (i|we) can|(i|we) can (still|also)|another option)",
    re.I,
)
_QUESTION_WORDS = re.compile(
    r"\b(could|can|would|will) you (tell|give|share|confirm|send|let me know|describe|check|walk)"
    r"|\b(what|which|when|where|how|who)\b|\bdo you (have|know|remember|see)|\bmay i (have|ask|get)|\bis it\b|\bdid (you|it)",
    re.I,
)
_JARGON = re.compile(
    r"\b(SLA|RMA|ticket id|escalation matrix|tier[- ]?[123]|back-?end|provisioning|prorat(ion|ed)|chargeback|MRC|NRC"
    r"|KB article|SKU|API|sync error|cache|DNS|firmware|ledger|reconciliation|batch (run|job)|cutover|CRM|node|payload|dispatch code|disposition)\b",
    re.I,
)


def clarifying_questions(text: str) -> list[str]:
    """Sentences that ask the customer for information (not rhetorical or closing questions)."""
    out = []
    for sentence in split_sentences(text):
        if not sentence.endswith("?"):
            continue
        if _COMPILED["confirm_resolution"].search(sentence) or _COMPILED[
            "rude_or_sarcastic"
        ].search(sentence):
            continue
        if _COMPILED["offer_choices"].search(sentence):
            continue
        if _QUESTION_WORDS.search(sentence):
            out.append(sentence)
    return out


def _evidence(text: str, found: set[str]) -> dict[str, str]:
    """The first sentence in which each found pattern matches (whole turn for the others)."""
    out, sentences = {}, split_sentences(text)
    for name in found:
        pattern = _COMPILED.get(name)
        hits = [s for s in sentences if pattern and pattern.search(s)]
        out[name] = hits[0] if hits else text
    out.pop("ignore_question", None)  # an absence has no words to quote
    return out


class LexiconAppraiser:
    name = "lexicon"

    def appraise(
        self,
        agent_text: str,
        customer_text: str = "",
        persona: Persona | None = None,
        revealed: Collection[str] = (),
    ) -> Appraisal:
        found = {name for name, pattern in _COMPILED.items() if pattern.search(agent_text)}
        if clarifying_questions(agent_text):
            found.add("ask_clarifying_question")
        if _POLICY.search(agent_text) and _ALTERNATIVE.search(agent_text):
            found.add("explain_policy_with_alternative")
            found.discard("refuse_without_alternative")
        if found & {"offer_solution", "offer_choices"}:
            found.discard("refuse_without_alternative")
        if len(_JARGON.findall(agent_text)) >= 2:
            found.add("jargon")
        if not agent_text.strip():
            found = set()
        found = with_turn_rules(found, agent_text, customer_text)
        ordered = tuple(sorted(found))
        offers = read_by_cues(agent_text, persona, revealed) if persona else OfferReading()
        return Appraisal(
            ordered, {name: 1.0 for name in ordered}, _evidence(agent_text, found), offers=offers
        )
