"""The exam server assembled: exams loaded, the database and the models opened once."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

DEFAULT_DB = "sqlite:///eval_runs/exams.sqlite"
MIN_TOKEN_SCORE = 4  # zxcvbn's top score: more than 10^10 guesses, even without rate limits
TOKEN_CONTEXT = ["deesc", "trainer", "trainers", "exam", "exams", "serve", "token"]


def token_weakness(token: str) -> str | None:
    """Why a trainer token is too easy to guess, or None when it is strong enough. zxcvbn (the
    estimator of Dropbox's password meter) counts the guesses a dictionary-and-pattern attack
    needs, so "choose-one" or "Trainer2026!" fail where a length rule alone would not."""
    from zxcvbn import zxcvbn

    if len(token) < 12:
        return f"it has {len(token)} characters; use at least 12"
    result = zxcvbn(token[:72], user_inputs=TOKEN_CONTEXT)
    if result["score"] >= MIN_TOKEN_SCORE:
        return None
    hints = [result["feedback"].get("warning"), *result["feedback"].get("suggestions", [])]
    hint = " ".join(h for h in hints if h)
    return (
        f"about 10^{result['guesses_log10']:.0f} guesses would find it"
        f" (at least 10^10 are needed){': ' + hint if hint else ''}"
    )


def build_app(
    exams_folder: str,
    db_url: str,
    trainer_token: str,
    *,
    customer_model: str | None = None,
    appraisal: str = "classifier",
    judge: str = "behaviour",
    rubric: str | None = None,
    options: Any = None,
) -> Any:
    """`rubric` (an id or a file) replaces every exam's own rubric when given."""
    from harness.appraisal import open_appraiser
    from harness.engine.registry import EnginePool, ModelOptions
    from harness.exam.app import create_app
    from harness.exam.db import open_database
    from harness.exam.service import ExamService
    from harness.judge import open_judge
    from harness.personas.exam import load_exams
    from harness.personas.rubric import load_rubric

    exams = load_exams(exams_folder)
    if rubric is not None:
        chosen = load_rubric(rubric)
        exams = {k: replace(setup, rubric=chosen) for k, setup in exams.items()}
    pool = EnginePool()
    appraiser = open_appraiser(appraisal)
    customer = ModelOptions(spec=customer_model) if customer_model else ModelOptions()
    service = ExamService(exams, open_database(db_url), pool, appraiser,
                          open_judge(judge, pool, appraiser), customer)  # fmt: skip
    return create_app(service, trainer_token, options)
