"""The exam server assembled: exams loaded, the database and the models opened once."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

DEFAULT_DB = "sqlite:///eval_runs/exams.sqlite"


def build_app(
    exams_folder: str,
    db_url: str,
    trainer_token: str,
    *,
    customer_model: str | None = None,
    appraisal: str = "classifier",
    judge: str = "behaviour",
    rubric: str | None = None,
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
    return create_app(service, trainer_token)
