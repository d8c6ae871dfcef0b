"""`deesc play`: a trainee types the agent's turns at the terminal against a simulated customer,
then gets the judge's scores, the evidence and a tip per weak criterion."""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path
from typing import Any

from harness.appraisal import APPRAISALS, DEFAULT_APPRAISAL
from harness.errors import DeescError
from harness.judge.records import DEFAULT_RUBRIC

END_COMMANDS = {"/end", "/quit", "/exit"}
HELP = "Type your reply and press Enter. /end finishes the conversation and shows your scores."


def find_persona(id_or_path: str, packs: list[str]) -> Any:
    from harness.spec import load_persona, load_personas

    if Path(id_or_path).is_file():
        return load_persona(id_or_path)
    personas = {p.id: p for p in load_personas(packs)}
    if id_or_path not in personas:
        raise DeescError(
            f"no persona {id_or_path!r} in {', '.join(packs)} (there are: {', '.join(sorted(personas))})"
        )
    return personas[id_or_path]


async def _play(args: argparse.Namespace, out: Path) -> dict[str, Any]:
    from harness.appraisal import open_appraiser
    from harness.customer import CustomerSimulator
    from harness.engine.registry import EnginePool, ModelOptions
    from harness.feedback import feedback_text
    from harness.judge import open_judge
    from harness.judge.records import judge_episode
    from harness.live import LiveConversation
    from harness.spec import load_rubric
    from harness.store import append_line

    persona = find_persona(args.persona, args.personas or ["personas/core"])
    rubric = load_rubric(args.rubric)
    appraiser = open_appraiser(args.appraisal)
    pool = EnginePool()
    options = ModelOptions(spec=args.customer_model) if args.customer_model else ModelOptions()
    customer = CustomerSimulator(persona, pool.get(options), options)
    episode_id = f"{args.name}|{persona.id}|{time.strftime('%Y%m%d-%H%M%S')}"
    live = LiveConversation(episode_id, persona, customer, appraiser, args.seed, args.name)
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
    judge = open_judge(args.judge, pool, appraiser)
    await judge_episode(record, {persona.id: persona}, judge, rubric)
    append_line(out, record)
    print(f"\n--- The conversation is over ({record['end_reason']}). Your feedback:\n")
    print(feedback_text(record, rubric))
    print(f"\nTranscript saved to {out}")
    return record


def _cmd_play(args: argparse.Namespace) -> int:
    out = Path(args.out or f"eval_runs/play/{time.strftime('%Y%m%d')}-{args.name}.jsonl")
    if out.exists() and out.is_dir():
        raise DeescError(
            f"{out}: is a folder; --out takes a JSONL file (one line per conversation)"
        )
    try:
        asyncio.run(_play(args, out))
    except KeyboardInterrupt:
        print("\ninterrupted: nothing saved", file=sys.stderr)
        return 130
    return 0


def add_command(sub: Any) -> None:
    p = sub.add_parser("play", help="practise: you are the agent, a simulated customer answers")
    p.add_argument("--persona", required=True, help="persona id (from --personas) or persona file")
    p.add_argument(
        "--personas", action="append", help="where ids are looked up (default personas/core)"
    )
    p.add_argument(
        "--customer-model", help="model spec of the customer (default the offline model)"
    )
    p.add_argument("--rubric", default=DEFAULT_RUBRIC, help="rubric for the feedback")
    p.add_argument(
        "--judge", default="behaviour", help="behaviour (default), model:SPEC, ensemble:SPEC"
    )
    p.add_argument("--appraisal", choices=APPRAISALS, default=DEFAULT_APPRAISAL)
    p.add_argument("--seed", type=int, default=0, help="customer seed (default 0)")
    p.add_argument(
        "--name", default="trainee", help="your name in the transcript (default trainee)"
    )
    p.add_argument(
        "--out", help="transcript file to append to (default eval_runs/play/DATE-NAME.jsonl)"
    )
    p.set_defaults(func=_cmd_play)
