"""`deesc serve`: load the exams, open the database and the models once, and serve."""

from __future__ import annotations

import argparse
import os
import secrets
import sys
from typing import Any

from harness.appraisal import APPRAISALS, DEFAULT_APPRAISAL

TOKEN_ENV = "DEESC_TRAINER_TOKEN"
DEFAULT_DB = "sqlite:///eval_runs/exams.sqlite"


def build_app(args: argparse.Namespace, trainer_token: str) -> Any:
    from harness.appraisal import open_appraiser
    from harness.engine.registry import EnginePool, ModelOptions
    from harness.exams import load_exams
    from harness.judge import open_judge
    from harness.web.app import create_app
    from harness.web.db import open_database
    from harness.web.service import ExamService

    exams = load_exams(args.exams)
    pool = EnginePool()
    appraiser = open_appraiser(args.appraisal)
    customer = ModelOptions(spec=args.customer_model) if args.customer_model else ModelOptions()
    service = ExamService(exams, open_database(args.db), pool, appraiser,
                          open_judge(args.judge, pool, appraiser), customer)  # fmt: skip
    return create_app(service, trainer_token)


def _cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    token = args.trainer_token or os.environ.get(TOKEN_ENV)
    if not token:
        token = secrets.token_urlsafe(18)
        print(
            f"trainer token (set {TOKEN_ENV} to choose one): {token}", file=sys.stderr, flush=True
        )
    app = build_app(args, token)
    print(f"deesc exams on http://{args.host}:{args.port}/ (trainers: /trainer/login)", file=sys.stderr,
          flush=True)  # fmt: skip
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")
    return 0


def add_command(sub: Any) -> None:
    p = sub.add_parser("serve", help="the exam server: trainers and candidates in the browser")
    p.add_argument("--exams", default="exams", help="folder of exam files (default exams)")
    p.add_argument("--db", default=DEFAULT_DB,
                   help=f"SQLAlchemy URL (default {DEFAULT_DB}; e.g. postgresql+psycopg://user@host/db)")  # fmt: skip
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument(
        "--trainer-token", help=f"trainers sign in with it (default ${TOKEN_ENV}, else a new one)"
    )
    p.add_argument(
        "--customer-model", help="model spec of the customers (default: each exam's, else offline)"
    )
    p.add_argument("--appraisal", choices=APPRAISALS, default=DEFAULT_APPRAISAL)
    p.add_argument(
        "--judge", default="behaviour", help="behaviour (default), model:SPEC, ensemble:SPEC"
    )
    p.set_defaults(func=_cmd_serve)
