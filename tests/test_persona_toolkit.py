"""The researcher's persona toolkit: `persona new`, `persona check` (with two personas broken on
purpose), simulator faults counted apart, and persona packs (folders and installed packages)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import CORE, CUSTOMER, DATA, MINI, ROOT

from harness.cli import main
from harness.personas.loading import load_personas
from harness.personas.packs import coverage, packs_of
from harness.personas.template import archetypes
from harness.personas.validation import validate_paths
from harness.results.store import load_run
from harness.results.summary import build_summary
from harness.schemas import load_schema
from harness.sim.faults import FAULT_KINDS, line_faults

BROKEN = DATA / "broken-personas"
SCRIPTED_CUSTOMER = "scripted:tests/data/golden/customer-script.yaml"


# --- persona new ----------------------------------------------------------------------------


@pytest.mark.parametrize("archetype", archetypes())
def test_persona_new_writes_a_commented_file_that_validates(tmp_path, archetype) -> None:
    out = tmp_path / f"my-{archetype.replace('_', '-')}.yaml"
    assert main(["persona", "new", archetype, "--out", str(out)]) == 0
    text = out.read_text()
    assert text.count("#") > 20  # every field explained where it is
    [(_, kind)] = validate_paths([out])
    (persona,) = load_personas([out])
    assert kind == "persona" and persona.archetype == archetype and persona.id == out.stem


def test_persona_new_refuses_to_overwrite_and_bad_ids(tmp_path, capsys) -> None:
    out = tmp_path / "mine.yaml"
    out.write_text("keep me")
    assert main(["persona", "new", "upset", "--out", str(out)]) == 2
    assert out.read_text() == "keep me" and "already exists" in capsys.readouterr().err
    assert main(["persona", "new", "upset", "--out", str(tmp_path / "Bad Name.yaml")]) == 2


# --- persona check --------------------------------------------------------------------------


def test_persona_check_passes_good_personas_and_rejects_the_broken_ones(tmp_path, capsys) -> None:
    report = tmp_path / "check.json"
    code = main(["persona", "check", str(MINI), str(BROKEN), "--customer-model", SCRIPTED_CUSTOMER,
                 "--appraisal", "lexicon", "--repeats", "2", "--out", str(tmp_path / "run"),
                 "--json", str(report), "--no-progress"])  # fmt: skip
    out = capsys.readouterr().out
    assert code == 1 and "2 of 4 personas pass" in out
    checks = {c["persona"]: c for c in json.loads(report.read_text())["personas"]}
    assert checks["mini-billing"]["passed"] and checks["mini-inflexible"]["passed"]
    assert checks["never-reacts"]["problems"] == [
        "does not react: final anger 7.0 (good agent) vs 7.0 (bad agent); the bad agent must "
        "leave the customer at least 1 angrier"
    ]
    assert checks["leaks-in-opening"]["problems"] == [
        "hidden fact 'invoice' comes out without being asked (6 of 6 episodes)"
    ]
    good = checks["mini-billing"]
    assert good["anger"]["difference"]["mean"] > 5 and good["anger_cliffs_delta"] == 1.0
    assert good["composite"]["difference"]["low"] > 10 and good["in_role"] == 1.0
    # asked by the good agent; the bad one and the unbriefed one (lexicon: cues only) never
    assert good["hidden_facts"] == {"invoice": {"asked": 2, "never": 4}}
    ends = good["end_reasons"]
    assert ends["ref:dismissive"] == {"hung_up": 2} and ends["ref:empathetic"] == {"satisfied": 2}
    assert set(ends) == {"ref:careful", "ref:dismissive", "ref:empathetic"}
    assert good["unbriefed"]["agent"] == "ref:careful" and good["unbriefed"]["resolved"] is not None
    assert good["difficulty"]["good_pass_rate"] == 1.0 and good["difficulty"]["turns_to_calm"] >= 1
    # the same verdicts from the finished run, without simulating again
    code = main(["persona", "check", str(MINI), str(BROKEN), "--from-run", str(tmp_path / "run")])
    assert code == 1 and "2 of 4 personas pass" in capsys.readouterr().out


# --- simulator faults -----------------------------------------------------------------------


def test_each_kind_of_simulator_fault_is_detected() -> None:
    (persona,) = [p for p in load_personas([CORE]) if p.id == "refund-broken-blender"]
    assert line_faults("Fine. Goodbye.", persona, [], []) == ["early_goodbye"]
    assert line_faults("Yes, please do that.", persona, [], []) == ["continued_after_accepting"]
    assert line_faults("Okay, it's a deal.", persona, [], []) == ["continued_after_accepting"]
    for line in ("It's not a big deal. I'm sorry.", "I'm sorry that you had to deal with me."):
        assert line_faults(line, persona, [], []) == []  # false alarms seen in runs
    assert line_faults("My order is KP-55555 and it cost $99.", persona, [], []) == [
        "contradicts_facts"
    ]
    assert line_faults("Order KP-77031, it cost $140.", persona, [], []) == []  # the persona's own
    assert line_faults("Use code RMA-12.", persona, [], ["Your return code is RMA-12."]) == []
    assert line_faults("Refund me.", persona, ["refund me!"], []) == ["repeats_itself"]
    enum = load_schema("episode")["$defs"]["fault"]["enum"]
    assert tuple(enum) == FAULT_KINDS


def test_faults_are_recorded_and_summaries_and_comparisons_count_them_apart(
    tmp_path, capsys
) -> None:
    # the scripted customer says "I still need this sorted." again and again: a loop, which
    # reaches the transcript only unchecked (one candidate; the critic would let the voice in)
    out = tmp_path / "run"
    assert main(["run", "--personas", str(MINI), "--agent", "python:helpers:slow_agent",
                 "--customer-model", SCRIPTED_CUSTOMER, "--appraisal", "lexicon", "--repeats", "2",
                 "--customer-candidates", "1",
                 "--out", str(out), "--no-progress"]) == 0  # fmt: skip
    run = load_run(out)
    faulty = [e for e in run.episodes if e["outcome"]["simulator_faults"]]
    assert faulty and all(e["outcome"]["fault_kinds"].get("repeats_itself") for e in faulty)
    turn = next(t for e in faulty for t in e["turns"] if t.get("faults"))
    assert turn["role"] == "customer" and turn["fault"] == turn["faults"][0]
    summary = build_summary(run)
    overall = summary["agents"]["python:helpers:slow_agent"]["overall"]
    assert overall["simulator_faults"]["episodes"] == len(faulty)
    assert overall["simulator_faults"]["kinds"]["repeats_itself"] >= len(faulty)
    kept = build_summary(run, exclude_faulty=True)
    assert kept["episodes"] == len(run.episodes) - len(faulty) and kept["faulty_episodes"] == len(
        faulty
    )
    assert main(["compare", str(out), str(out), "--exclude-faulty", "--json"]) == 2  # nothing left
    assert "no episode" in capsys.readouterr().err
    assert main(["compare", str(out), str(out), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["simulator_faults"] == {"a": len(faulty), "b": len(faulty),
                                          "faulty_pairs": len(faulty), "excluded": False}  # fmt: skip


# --- packs ----------------------------------------------------------------------------------


def test_the_core_pack_has_a_manifest_and_coverage(capsys) -> None:
    personas = load_personas([CORE])  # pack.yaml is not read as a persona
    assert len(personas) == 10
    assert (CORE / "pack.yaml", "pack") in validate_paths([CORE])
    cov = coverage(personas)
    assert len(cov["archetypes"]) == 10 and sum(cov["domains"].values()) == 10
    assert cov["hidden_facts"]["total"] == sum(len(p.hidden_facts) for p in personas)
    assert (
        cov["starting_anger"]["min"]
        <= cov["starting_anger"]["mean"]
        <= cov["starting_anger"]["max"]
    )
    (pack,) = packs_of(personas).items()
    assert pack[0] == "core" and pack[1]["version"] == "1.0" and pack[1]["personas"] == 10
    assert main(["persona", "list", str(CORE)]) == 0
    assert "core 1.0 (Apache-2.0)" in capsys.readouterr().out


def _installed_pack(tmp_path: Path) -> dict[str, str]:
    """A package that ships a persona pack, installed the way pip leaves one: a module and its
    dist-info with an entry point, on the path."""
    site = tmp_path / "site"
    folder = site / "acme_personas" / "personas"
    folder.mkdir(parents=True)
    for persona in MINI.glob("*.yaml"):
        shutil.copy(persona, folder)
    (folder / "pack.yaml").write_text(
        "name: acme\nversion: '2.1'\nlicence: CC-BY-4.0\ndescription: Acme's customers.\n"
    )
    (site / "acme_personas" / "__init__.py").write_text(
        "from pathlib import Path\n\ndef folder():\n    return Path(__file__).parent / 'personas'\n"
    )
    info = site / "acme_personas-2.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: acme-personas\nVersion: 2.1\n")
    (info / "entry_points.txt").write_text("[deesc.persona_packs]\nacme = acme_personas:folder\n")
    return {**os.environ, "PYTHONPATH": f"{site}{os.pathsep}{ROOT / 'tests'}"}


def test_an_installed_pack_is_listed_runs_by_name_and_is_recorded(tmp_path) -> None:
    env = _installed_pack(tmp_path)
    deesc = [sys.executable, "-m", "harness.cli"]
    listed = subprocess.run(
        [*deesc, "persona", "list"], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert listed.returncode == 0, listed.stderr
    assert "acme 2.1 (CC-BY-4.0) from package acme-personas" in listed.stdout
    out = tmp_path / "run"
    ran = subprocess.run([*deesc, "run", "--personas", "pack:acme", "--agent", "ref:empathetic",
                          "--customer-model", SCRIPTED_CUSTOMER, "--appraisal", "lexicon",
                          "--out", str(out), "--no-progress"], cwd=ROOT, env=env,
                         capture_output=True, text=True)  # fmt: skip
    assert ran.returncode == 0, ran.stderr
    manifest = json.loads((out / "manifest.json").read_text())
    assert (
        manifest["packs"]["acme"]["version"] == "2.1" and manifest["packs"]["acme"]["personas"] == 2
    )
    assert len(manifest["packs"]["acme"]["sha256"]) == 64
    missing = subprocess.run([*deesc, "run", "--personas", "pack:nope", "--agent", "ref:empathetic"],
                             cwd=ROOT, env=env, capture_output=True, text=True)  # fmt: skip
    assert (
        missing.returncode == 2
        and "no installed persona pack 'nope' (installed: acme, core)" in missing.stderr
    )


def test_runs_record_the_pack_of_their_personas(tmp_path, pool) -> None:
    from dataclasses import replace

    from harness.agents.base import AgentConfig
    from harness.run.runner import RunConfig, Runner

    config = RunConfig(personas=(str(CORE / "billing-double-charge.yaml"),),
                       agents=(AgentConfig(spec="ref:empathetic"),), customer_model=CUSTOMER,
                       appraisal="lexicon", out=str(tmp_path / "run"))  # fmt: skip
    Runner(replace(config), pool=pool, progress=False).run()
    manifest = json.loads((tmp_path / "run" / "manifest.json").read_text())
    assert manifest["packs"]["core"]["personas"] == 1
