"""File formats: golden examples validate, bad files fail with file, line, pointer and reason."""

from __future__ import annotations

import json
import shutil

import pytest
from conftest import CORE, DATA, MINI, RUBRIC

from harness.behaviours import NAMES
from harness.cli import main
from harness.errors import SpecError
from harness.personas.exam import load_exam
from harness.personas.loading import load_personas
from harness.personas.persona import load_persona
from harness.personas.rubric import load_rubric
from harness.personas.validation import validate_paths
from harness.run.runfile import load_runfile
from harness.schemas import load_schema, validator


def test_core_pack_has_the_required_personas() -> None:
    personas = load_personas([CORE])
    assert len(personas) >= 10
    archetypes = {p.archetype for p in personas}
    # the five scenarios of the source material, and more
    assert {"upset", "confused", "refund_demand", "aggressive", "inflexible"} <= archetypes
    assert len(archetypes) >= 8
    for p in personas:
        assert p.hidden_facts, f"{p.id} has no hidden facts"
        assert p.acceptable_resolutions
        # reference agents offer resolutions by their description: it must carry a cue
        for offer in p.acceptable_resolutions:
            assert any(c.lower() in offer.description.lower() for c in offer.cues), offer.id


def test_golden_files_of_every_format_validate() -> None:
    checked = validate_paths(
        [CORE, RUBRIC, DATA / "golden" / "exam.yaml", DATA / "golden" / "runfile.yaml"]
    )
    assert {kind for _, kind in checked} == {"persona", "pack", "rubric", "exam", "runfile"}
    rubric = load_rubric(RUBRIC)
    assert len(rubric.criteria) >= 13 and rubric.pass_mark == 70
    assert {c.id for c in rubric.criteria if c.applies_to} >= {
        "respectful_boundaries",
        "policy_with_alternatives",
    }
    exam = load_exam(DATA / "golden" / "exam.yaml")
    assert exam.attempts == 2 and exam.show_feedback
    for line in (DATA / "golden" / "transcripts.jsonl").read_text().splitlines():
        assert not list(validator("transcript").iter_errors(json.loads(line)))


def test_golden_judge_outputs_validate_and_an_unscored_criterion_needs_a_reason() -> None:
    for line in (DATA / "golden" / "judgements.jsonl").read_text().splitlines():
        assert not list(validator("judgement").iter_errors(json.loads(line)))
    calibration = json.loads((DATA / "golden" / "calibration.json").read_text())
    assert not list(validator("calibration").iter_errors(calibration))
    bad = json.loads((DATA / "invalid" / "judgement-unscored-without-reason.jsonl").read_text())
    errors = list(validator("judgement").iter_errors(bad))
    assert errors and errors[0].absolute_path[0] == "scores"


def test_runfile_resolves_paths_relative_to_itself() -> None:
    config = load_runfile(DATA / "golden" / "runfile.yaml")
    assert config.personas == (str(DATA / "golden" / "../personas"),)
    assert [a.display_name for a in config.agents] == [
        "ref:empathetic",
        "bad-bot",
        config.agents[2].spec,
    ]
    assert config.agents[2].system_prompt == str(DATA / "golden" / "bot-prompt.txt")
    assert config.customer_model.temperature == 0.8 and config.customer_model.max_new_tokens == 40
    assert (config.repeats, config.seed, config.concurrency, config.max_turns) == (2, 7, 4, 4)
    assert config.appraisal == "lexicon"


def test_taxonomy_and_schema_name_the_same_behaviours() -> None:
    schema_names = load_schema("persona")["$defs"]["behaviour"]["enum"]
    assert tuple(schema_names) == NAMES


@pytest.mark.parametrize(
    ("name", "line", "pointer", "fragment"),
    [
        ("unknown-key.yaml", 9, "/scenario/mood", "unknown key 'mood'"),
        (
            "anger-out-of-range.yaml",
            9,
            "/temperament/initial_anger",
            "12 is greater than the maximum of 10",
        ),
        ("unknown-behaviour.yaml", 11, "/reactions/shout_back", "unknown behaviour 'shout_back'"),
        ("syntax-error.yaml", 5, None, "invalid YAML"),
        ("duplicate-fact.yaml", 7, "/hidden_facts/1/id", "duplicate hidden fact id 'f'"),
    ],
)
def test_bad_persona_errors_name_file_line_and_place(name, line, pointer, fragment) -> None:
    path = DATA / "invalid" / name
    with pytest.raises(SpecError) as err:
        load_persona(path)
    assert err.value.path == str(path)
    assert err.value.line == line
    assert err.value.pointer == pointer
    assert fragment in err.value.message
    assert str(err.value).startswith(f"{path}:{line}:")


def test_bad_rubric_names_the_missing_anchor() -> None:
    with pytest.raises(SpecError) as err:
        load_rubric(DATA / "invalid" / "rubric-missing-anchor.yaml")
    assert (
        err.value.pointer == "/criteria/0/anchors"
        and "'3' is a required property" in err.value.message
    )


def test_duplicate_yaml_keys_are_errors(tmp_path) -> None:
    path = tmp_path / "dup.yaml"
    path.write_text((MINI / "mini-billing.yaml").read_text() + "name: Again\n")
    with pytest.raises(SpecError, match="duplicate key 'name'") as err:
        load_persona(path)
    assert err.value.line is not None


def test_duplicate_persona_ids_across_files(tmp_path) -> None:
    shutil.copy(MINI / "mini-billing.yaml", tmp_path / "a.yaml")
    shutil.copy(MINI / "mini-billing.yaml", tmp_path / "b.yaml")
    with pytest.raises(SpecError, match="already used by"):
        load_personas([tmp_path])


def test_validate_cli_reports_every_bad_file_and_exits_2(capsys) -> None:
    code = main(["validate", str(MINI), str(DATA / "invalid")])
    out, err = capsys.readouterr()
    assert code == 2
    assert "ok    " in out and "mini-billing.yaml (persona)" in out
    assert (
        f"{DATA / 'invalid' / 'unknown-key.yaml'}:9: at /scenario/mood: unknown key 'mood'" in err
    )
    assert err.count("error ") == 6
    assert "2 valid, 6 invalid" in out


def test_validate_cli_missing_path(capsys) -> None:
    assert main(["validate", "no/such/dir"]) == 2
    assert "no/such/dir: no such file or folder" in capsys.readouterr().err
