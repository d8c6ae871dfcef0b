"""`deesc play` and `deesc serve`: a trainee at the terminal, and the exam server for the
browser."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import secrets
import sys
import time
from pathlib import Path
from typing import Any

from harness.appraisal import APPRAISALS, DEFAULT_APPRAISAL
from harness.errors import DeescError
from harness.exam.server import DEFAULT_DB
from harness.personas.builtin import shipped
from harness.personas.rubric import DEFAULT_RUBRIC

TOKEN_ENV = "DEESC_TRAINER_TOKEN"


def _cmd_play(args: argparse.Namespace) -> int:
    from harness.exam.play import find_persona, play

    out = Path(args.out or f"eval_runs/play/{time.strftime('%Y%m%d')}-{args.name}.jsonl")
    if out.exists() and out.is_dir():
        raise DeescError(
            f"{out}: is a folder; --out takes a JSONL file (one line per conversation)"
        )
    try:
        persona = find_persona(args.persona, args.personas or ["pack:core"])
        asyncio.run(
            play(persona, args.rubric, out, customer_model=args.customer_model,
                 judge_spec=args.judge, appraisal=args.appraisal, seed=args.seed, name=args.name)
        )  # fmt: skip
    except KeyboardInterrupt:
        print("\ninterrupted: nothing saved", file=sys.stderr)
        return 130
    return 0


LOOPBACK = ("127.0.0.1", "localhost", "::1")


def _log_to_stderr() -> None:
    """The server's own warnings (rate limits) on stderr with their time; other libraries'
    loggers are left as they are."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logger = logging.getLogger("deesc")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False


def _cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from harness.exam.app import ServerOptions
    from harness.exam.server import build_app, token_weakness

    token = args.trainer_token or os.environ.get(TOKEN_ENV)
    if token:
        if why := token_weakness(token):
            raise DeescError(
                f"the trainer token is too weak: {why}. Choose a longer one of several uncommon "
                f"words, or give none (no --trainer-token, no ${TOKEN_ENV}) and one is made"
            )
    else:
        token = secrets.token_urlsafe(18)
        print(
            f"trainer token (set {TOKEN_ENV} to choose one): {token}", file=sys.stderr, flush=True
        )
    hosts = args.allowed_host or (
        ["127.0.0.1", "localhost"] if args.host in LOOPBACK else
        ["*"] if args.host in ("0.0.0.0", "::") else [args.host]
    )  # fmt: skip
    if hosts == ["*"]:
        print("note: any Host header is served; name this server's with --allowed-host",
              file=sys.stderr)  # fmt: skip
    _log_to_stderr()
    options = ServerOptions(secure_cookies=args.secure_cookies, allowed_hosts=tuple(hosts))
    app = build_app(args.exams, args.db, token, customer_model=args.customer_model,
                    appraisal=args.appraisal, judge=args.judge, rubric=args.rubric,
                    options=options)  # fmt: skip
    print(f"deesc exams on http://{args.host}:{args.port}/ (trainers: /trainer/login)", file=sys.stderr,
          flush=True)  # fmt: skip
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning", proxy_headers=True,
                forwarded_allow_ips=args.forwarded_allow_ips)  # fmt: skip
    return 0


def add_commands(sub: Any) -> None:
    p = sub.add_parser("play", help="practise: you are the agent, a simulated customer answers")
    p.add_argument("--persona", required=True, help="persona id (from --personas) or persona file")
    p.add_argument(
        "--personas", action="append", help="where ids are looked up (default pack:core)"
    )
    p.add_argument(
        "--customer-model", help="model spec of the customer (default the offline model)"
    )
    p.add_argument("--rubric", default=DEFAULT_RUBRIC,
                   help=f"rubric id or file for the scores and feedback (default {DEFAULT_RUBRIC})")  # fmt: skip
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

    p = sub.add_parser("serve", help="the exam server: trainers and candidates in the browser")
    p.add_argument("--exams", default=str(shipped("exams")),
                   help="exam file, folder of exam files, or exam:ID (default: the shipped exams)")  # fmt: skip
    p.add_argument("--rubric", help="rubric id or file for every exam (default: each exam's own)")
    p.add_argument("--db", default=DEFAULT_DB,
                   help=f"SQLAlchemy URL (default {DEFAULT_DB}; e.g. postgresql+psycopg://user@host/db)")  # fmt: skip
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument(
        "--trainer-token",
        help=f"trainers sign in with it (default ${TOKEN_ENV}, else a new one); weak ones are refused",
    )
    p.add_argument("--secure-cookies", action="store_true",
                   help="mark cookies Secure: for a server reached over HTTPS (a TLS reverse proxy)")  # fmt: skip
    p.add_argument("--allowed-host", action="append", metavar="NAME",
                   help="a Host name this server answers to, repeatable (default: 127.0.0.1 and "
                        "localhost for a loopback --host, else --host; '*' for any)")  # fmt: skip
    p.add_argument("--forwarded-allow-ips", default="127.0.0.1", metavar="IPS",
                   help="reverse proxies whose X-Forwarded-For/-Proto are believed, comma-separated "
                        "(default 127.0.0.1)")  # fmt: skip
    p.add_argument(
        "--customer-model", help="model spec of the customers (default: each exam's, else offline)"
    )
    p.add_argument("--appraisal", choices=APPRAISALS, default=DEFAULT_APPRAISAL)
    p.add_argument(
        "--judge", default="behaviour", help="behaviour (default), model:SPEC, ensemble:SPEC"
    )
    p.set_defaults(func=_cmd_serve)
