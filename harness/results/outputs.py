"""What a finished run becomes on disk beside its episodes: summary.json and report.html."""

from __future__ import annotations

from pathlib import Path

from harness.results.report import REPORT, write_report
from harness.results.store import Run
from harness.results.summary import SUMMARY, write_summary


def write_outputs(run: Run, exclude_faulty: bool = False) -> tuple[Path, Path]:
    """summary.json and report.html of a run, rebuilt from its manifest and episodes (at the
    end of every run, and by `deesc report`)."""
    summary = write_summary(run, exclude_faulty=exclude_faulty)
    write_report(run, summary)
    return run.dir / SUMMARY, run.dir / REPORT
