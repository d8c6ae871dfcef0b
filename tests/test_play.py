"""A person as the agent: a conversation stepped from outside and restored from its turns, and
`deesc play` driven through a real terminal (pexpect)."""

from __future__ import annotations

import asyncio
import json
import sys

import pexpect
import pytest
from conftest import CUSTOMER, MINI, ROOT

from harness.agents.base import AgentView
from harness.agents.reference import EmpatheticAgent
from harness.appraisal import open_appraiser
from harness.personas.loading import load_personas
from harness.schemas import validator
from harness.sim.customer import CustomerSimulator
from harness.sim.episode import Episode, EpisodePlan
from harness.sim.live import LiveConversation

SCRIPTED_CUSTOMER = "scripted:tests/data/golden/customer-script.yaml"


def test_a_conversation_restored_from_its_turns_continues_as_if_never_stopped(pool) -> None:
    """The exam server keeps only turns; replaying them must give the customer the same state."""
    persona = {p.id: p for p in load_personas([MINI])}["mini-billing"]
    appraiser = open_appraiser("lexicon")
    engine = pool.get(CUSTOMER)
    good = EmpatheticAgent()

    async def straight() -> dict:
        plan = EpisodePlan("e", persona, "trainee", 0, 11, persona.max_turns)
        return await Episode(
            plan, good, CustomerSimulator(persona, engine, CUSTOMER), appraiser
        ).run()

    async def restored_every_turn() -> dict:
        turns, end = None, None
        while end is None:  # a fresh object per message, as after a server restart
            live = LiveConversation("e", persona, CustomerSimulator(persona, engine, CUSTOMER),
                                    appraiser, 11, turns=turns)  # fmt: skip
            view = AgentView("e", 11, "", "", tuple({"role": t["role"], "text": t["text"]}
                                                   for t in live.turns), persona)  # fmt: skip
            await live.say(await good.respond(view))
            turns, end = live.turns, live.end_reason
        return live.record()

    a, b = asyncio.run(straight()), asyncio.run(restored_every_turn())
    assert a["turns"] == b["turns"] and a["end_reason"] == b["end_reason"] == "satisfied"
    assert a["outcome"] == b["outcome"]


def test_a_live_conversation_refuses_empty_overlong_and_late_messages(pool) -> None:
    persona = load_personas([MINI])[0]
    live = LiveConversation("e", persona, CustomerSimulator(persona, pool.get(CUSTOMER), CUSTOMER),
                            open_appraiser("lexicon"), 0)  # fmt: skip
    for bad in ("   ", "x" * 2001):
        with pytest.raises(ValueError):
            asyncio.run(live.say(bad))
    live.finish()
    assert live.end_reason == "agent_ended"
    with pytest.raises(ValueError, match="over"):
        asyncio.run(live.say("hello"))


def spawn(tmp_path, *extra: str) -> pexpect.spawn:
    args = ["-m", "harness.cli", "play", "--persona", "mini-billing", "--personas", str(MINI),
            "--customer-model", SCRIPTED_CUSTOMER, "--appraisal", "lexicon",
            "--out", str(tmp_path / "play.jsonl"), *extra]  # fmt: skip
    return pexpect.spawn(sys.executable, args, cwd=str(ROOT), encoding="utf-8", timeout=60,
                         dimensions=(40, 200))  # fmt: skip


def test_deesc_play_in_a_terminal_ends_with_scores_evidence_and_tips(tmp_path) -> None:
    child = spawn(tmp_path, "--name", "alex")
    child.expect_exact("Customer: You billed me twice.")
    child.expect_exact("You: ")
    child.sendline("x" * 2100)
    child.expect_exact("(not sent: a message of at most 2000 characters)")
    child.sendline("Calm down. That's our policy.")
    child.expect("Customer: (.+)\r\n")
    child.expect_exact("You: ")
    child.sendline("/end")
    child.expect_exact("The conversation is over (agent_ended)")
    child.expect(r"Composite [0-9.]+ / 100 \(pass mark 70\): not passed")
    child.expect_exact("Empathy and validation")
    child.expect_exact('turn 2: "Calm down."')  # the evidence, quoted from the trainee's turn
    child.expect_exact("Tip: ")
    child.expect_exact("Transcript saved to")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    (line,) = (tmp_path / "play.jsonl").read_text().splitlines()
    record = json.loads(line)
    assert not list(validator("episode").iter_errors(record))
    assert not list(validator("transcript").iter_errors(record))
    assert record["agent"] == "alex" and record["end_reason"] == "agent_ended"
    assert record["turns"][1]["text"] == "Calm down. That's our policy."
    assert record["scores"]["empathy_validation"]["value"] < 3


def test_deesc_play_ends_by_itself_when_the_customer_is_satisfied(tmp_path) -> None:
    child = spawn(tmp_path)
    child.expect_exact("You: ")
    child.sendline("I'm so sorry, that must be frustrating. Could you tell me the invoice number?")
    child.expect_exact("You: ")
    child.sendline("Thank you. I can refund the second charge today.")
    child.expect_exact("The conversation is over (satisfied)")
    child.expect(r"Composite [0-9.]+ / 100 \(pass mark 70\): PASSED")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    record = json.loads((tmp_path / "play.jsonl").read_text())
    assert record["outcome"]["resolved"] and record["passed"]


def test_deesc_play_names_the_personas_it_knows(tmp_path) -> None:
    child = pexpect.spawn(sys.executable, ["-m", "harness.cli", "play", "--persona", "nobody",
                                           "--personas", str(MINI)], cwd=str(ROOT),
                          encoding="utf-8", timeout=60)  # fmt: skip
    child.expect_exact("no persona 'nobody'")
    child.expect_exact("mini-billing, mini-inflexible")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 2
