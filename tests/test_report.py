"""report.html: evidence marked safely in the agent's turns, and the file checked in a real
headless Chromium (Debian's package, which `make test` installs) with the network cut off."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import CORE, MINI

from harness.cli import main
from harness.results.report import evidence_by_turn, highlight
from harness.results.store import load_run

CHROMIUM = "/usr/bin/chromium"
# the flags this machine needs (no sandbox as root; no background calls to a closed network)
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]  # fmt: skip


def test_evidence_is_marked_case_and_space_blind_and_overlaps_merge() -> None:
    html = highlight(
        "I'm  SORRY about that. I can refund it today.",
        [("i'm sorry", "apology_ownership"), ("sorry about that", "empathy_validation"),
         ("refund it", "solutions_and_choice"), ("not in the text", "staying_calm")],
    )  # fmt: skip
    assert str(html) == (
        '<mark title="apology_ownership, empathy_validation">I&#39;m  SORRY about that</mark>. '
        'I can <mark title="solutions_and_choice">refund it</mark> today.'
    )


def test_text_from_a_bot_cannot_inject_markup() -> None:
    html = str(highlight('<script>alert(1)</script> <b onclick="x">ok</b>', [("ok", "<i>c</i>")]))
    assert "<script>" not in html and "<b " not in html and "<i>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_only_found_quotes_are_marked() -> None:
    episode = {"scores": {"a": {"evidence": [{"turn": 2, "quote": "yes", "found": True},
                                             {"turn": 4, "quote": "no", "found": False}]}}}  # fmt: skip
    assert evidence_by_turn(episode) == {2: [("yes", "a")]}


def _run(out: Path, personas: Path, repeats: int) -> Path:
    args = ["run", "--personas", str(personas), "--agent", "ref:empathetic", "--agent",
            "ref:dismissive", "--customer-model", "scripted:tests/data/golden/customer-script.yaml",
            "--appraisal", "lexicon", "--repeats", str(repeats), "--out", str(out), "--no-progress"]  # fmt: skip
    assert main(args) == 0
    return out


def open_in_chromium(report: Path, screenshot: Path) -> dict:
    """Load the report with every request but file:// refused; what the page shows."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: `make test` installs Debian's chromium package")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        outside: list[str] = []

        def route(r):
            if r.request.url.startswith(("file:", "data:")):
                return r.continue_()
            outside.append(r.request.url)
            return r.abort()

        page.route("**/*", route)
        page.goto(report.as_uri())
        seen = page.evaluate(
            """() => {
              const shown = el => { const r = el.getBoundingClientRect();
                return r.width > 0 && r.height > 0 && getComputedStyle(el).visibility !== 'hidden'
                  && getComputedStyle(el).display !== 'none'; };
              return {
                images: Array.from(document.images).map(i => ({ok: i.complete && i.naturalWidth > 0,
                  width: i.getBoundingClientRect().width, alt: i.alt})),
                episodes: Array.from(document.querySelectorAll('section.episode')).map(shown),
                turns: document.querySelectorAll('.turn').length,
                marks: Array.from(document.querySelectorAll('mark')).map(m => m.closest('.turn.agent') !== null),
                scores: document.querySelectorAll('table.scores').length,
                overview: document.querySelectorAll('table.overview tr').length,
              };
            }"""
        )
        page.screenshot(path=str(screenshot), full_page=True)
        browser.close()
    seen["outside"] = outside
    return seen


def check_page(seen: dict, run_dir: Path) -> None:
    episodes = load_run(run_dir).episodes
    assert seen["outside"] == []  # self-contained: nothing asked of the network
    assert [i["alt"] for i in seen["images"]] == [
        "Composite per persona and agent", "Score per criterion and agent",
        "Anger trajectories per persona and agent",
    ]  # fmt: skip
    assert all(i["ok"] and i["width"] > 300 for i in seen["images"])
    assert len(seen["episodes"]) == len(episodes) and all(seen["episodes"])
    assert seen["turns"] == sum(len(e["turns"]) for e in episodes)
    assert seen["scores"] == len(episodes) and seen["overview"] == 1 + 2
    assert seen["marks"] and all(seen["marks"])  # evidence only ever in the agent's turns


def test_the_report_shows_every_figure_and_transcript_in_chromium(tmp_path) -> None:
    run_dir = _run(tmp_path / "run", MINI, repeats=2)
    screenshot = tmp_path / "report.png"
    check_page(open_in_chromium(run_dir / "report.html", screenshot), run_dir)
    from PIL import Image, ImageStat

    image = Image.open(screenshot).convert("L")
    assert image.width == 1280 and image.height > 3000  # the whole page, transcripts included
    assert ImageStat.Stat(image).stddev[0] > 20  # not a blank page


@pytest.mark.slow
def test_a_report_of_200_episodes_stays_small_and_renders(tmp_path) -> None:
    run_dir = _run(tmp_path / "run", CORE, repeats=10)
    assert len(load_run(run_dir).episodes) == 200
    size = (run_dir / "report.html").stat().st_size
    assert size < 2_500_000, f"report.html is {size} bytes for 200 episodes"
    check_page(open_in_chromium(run_dir / "report.html", tmp_path / "report.png"), run_dir)
