"""`deesc play`: a trainee types the agent's turns at the terminal against a simulated customer,
then gets the judge's scores, the evidence and a tip per weak criterion."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

from harness.appraisal import DEFAULT_APPRAISAL
from harness.errors import DeescError

END_COMMANDS = {"/end", "/quit", "/exit"}
HELP = "Type your reply and press Enter. /end finishes the conversation and shows your scores."


def find_persona(id_or_path: str, packs: list[str]) -> Any:
    from harness.personas.loading import load_personas
    from harness.personas.persona import load_persona

    if Path(id_or_path).is_file():
        return load_persona(id_or_path)
    personas = {p.id: p for p in load_personas(packs)}
    if id_or_path not in personas:
        raise DeescError(
            f"no persona {id_or_path!r} in {', '.join(packs)} (there are: {', '.join(sorted(personas))})"
        )
    return personas[id_or_path]


async def play(
    persona: Any,
    rubric_path: str,
    out: Path,
    *,
    customer_model: str | None = None,
    judge_spec: str = "behaviour",
    appraisal: str = DEFAULT_APPRAISAL,
    seed: int = 0,
    name: str = "trainee",
) -> dict[str, Any]:
    """One conversation at the terminal, judged, fed back and appended to `out`."""
    from harness.appraisal import open_appraiser
    from harness.engine.registry import EnginePool, ModelOptions
    from harness.fileio import append_line
    from harness.judge import open_judge
    from harness.judge.feedback import feedback_text
    from harness.judge.records import judge_episode
    from harness.personas.rubric import load_rubric
    from harness.sim.customer import CustomerSimulator
    from harness.sim.live import LiveConversation

    rubric = load_rubric(rubric_path)
    appraiser = open_appraiser(appraisal)
    pool = EnginePool()
    options = ModelOptions(spec=customer_model) if customer_model else ModelOptions()
    customer = CustomerSimulator(persona, pool.get(options), options)
    episode_id = f"{name}|{persona.id}|{time.strftime('%Y%m%d-%H%M%S')}"
    live = LiveConversation(episode_id, persona, customer, appraiser, seed, name)
    sc = persona.scenario
    print(f"You are a support agent at {sc.company}; a customer writes about {sc.product}.")
    print(HELP + "\n")
    print(f"Customer: {live.turns[0]['text']}", flush=True)
    while not live.ended:
        try:
            text = await asyncio.to_thread(input, "You: ")
        except EOFError:
            text = "/end"
        if text.strip().lower() in END_COMMANDS:
            live.finish()
            break
        if text.strip().lower() == "/help":
            print(HELP)
            continue
        try:
            added = await live.say(text)
        except ValueError as exc:
            print(f"(not sent: {exc})")
            continue
        for turn in added:
            if turn["role"] == "customer":
                print(f"Customer: {turn['text']}", flush=True)
    record = live.record()
    judge = open_judge(judge_spec, pool, appraiser)
    await judge_episode(live.episode, record, judge, rubric)
    append_line(out, record)
    print(f"\n--- The conversation is over ({record['end_reason']}). Your feedback:\n")
    print(feedback_text(record, rubric))
    print(f"\nTranscript saved to {out}")
    return record
