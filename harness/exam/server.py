"""The exam server assembled: exams loaded, the database and the models opened once."""

from __future__ import annotations

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
) -> Any:
    from harness.appraisal import open_appraiser
    from harness.engine.registry import EnginePool, ModelOptions
    from harness.exam.app import create_app
    from harness.exam.db import open_database
    from harness.exam.service import ExamService
    from harness.judge import open_judge
    from harness.personas.exam import load_exams

    exams = load_exams(exams_folder)
    pool = EnginePool()
    appraiser = open_appraiser(appraisal)
    customer = ModelOptions(spec=customer_model) if customer_model else ModelOptions()
    service = ExamService(exams, open_database(db_url), pool, appraiser,
                          open_judge(judge, pool, appraiser), customer)  # fmt: skip
    return create_app(service, trainer_token)
