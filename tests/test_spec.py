"""File formats: golden examples validate, bad files fail with file, line, pointer and reason."""

from __future__ import annotations

import json
import shutil

import pytest
from conftest import CORE, DATA, MINI, RUBRIC

from harness.behaviours import NAMES
from harness.cli import main
from harness.errors import DeescError, SpecError
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


# --- persona-writing traps, each with its message ----------------------------------------------


def _persona_with(tmp_path, old: str, new: str):
    text = (MINI / "mini-billing.yaml").read_text()
    assert old in text
    path = tmp_path / "p.yaml"
    path.write_text(text.replace(old, new))
    return path


def test_a_comma_that_split_a_cue_is_named_and_the_meant_text_suggested(tmp_path) -> None:
    cues = (MINI / "mini-billing.yaml").read_text().split("cues: ")[1].splitlines()[0]
    path = _persona_with(tmp_path, f"cues: {cues}", "cues: [return the $18,400, refund it]")
    with pytest.raises(SpecError) as err:
        load_persona(path)
    assert err.value.pointer.endswith("/cues/1") and err.value.line is not None
    assert "400 is a number, not text: quote it" in err.value.message
    assert "did you mean 'return the $18,400'" in err.value.message


@pytest.mark.parametrize(
    ("value", "fragment"),
    [("note: it", "is a mapping, not text: quote it"), ("yes", "is a true/false value, not text")],
)
def test_a_colon_or_a_yes_in_unquoted_text_is_named(tmp_path, value, fragment) -> None:
    cues = (MINI / "mini-billing.yaml").read_text().split("cues: ")[1].splitlines()[0]
    path = _persona_with(tmp_path, f"cues: {cues}", f"cues: [refund it, {value}]")
    with pytest.raises(SpecError, match=fragment):
        load_persona(path)


def test_empty_and_binary_files_get_plain_messages(tmp_path) -> None:
    (tmp_path / "empty.yaml").write_text("")
    (tmp_path / "comments.yaml").write_text("# nothing yet\n")
    (tmp_path / "binary.yaml").write_bytes(bytes(range(256)))
    with pytest.raises(SpecError, match="the file is empty") as err:
        load_persona(tmp_path / "empty.yaml")
    assert err.value.line == 1
    with pytest.raises(SpecError, match="only comments or blank lines"):
        load_persona(tmp_path / "comments.yaml")
    with pytest.raises(SpecError, match="not a text file"):
        load_persona(tmp_path / "binary.yaml")


def test_the_domain_is_any_lower_case_word(tmp_path) -> None:
    domain = (MINI / "mini-billing.yaml").read_text().split("domain: ")[1].splitlines()[0]
    assert load_persona(_persona_with(tmp_path, f"domain: {domain}", "domain: travel"))
    assert load_persona(_persona_with(tmp_path, f"domain: {domain}", "domain: public_services"))
    with pytest.raises(SpecError, match="does not match"):
        load_persona(_persona_with(tmp_path, f"domain: {domain}", "domain: Travel Agency"))


def test_each_side_says_an_offer_and_a_question_in_its_own_voice() -> None:
    from harness.personas.persona import HiddenFact, Offer
    from harness.personas.voice import agent_offer, agent_question, customer_offer

    offer = Offer("rebook", "rebook you on a partner airline's flight and refund your seat fee.")
    assert agent_offer(offer) == "rebook you on a partner airline's flight and refund your seat fee"
    assert customer_offer(offer) == "rebook me on a partner airline's flight and refund my seat fee"
    bare = HiddenFact(
        "ref", "The payroll run reference is PR-2.", "It's PR-2.", ("payroll run reference",)
    )
    assert agent_question(bare) == "Could you tell me the payroll run reference?"
    asked = HiddenFact("ref", "x", "y", ("which keys",))
    assert agent_question(asked) == "Could you tell me which keys?"
    own = HiddenFact("ref", "x", "y", (), "Could you read me the reference on the payslip?")
    assert agent_question(own) == "Could you read me the reference on the payslip?"


def test_the_customer_accepts_in_their_own_words(mini_personas) -> None:
    from dataclasses import replace

    from harness.sim.customer import CustomerSimulator

    persona = mini_personas[0]
    offer = replace(
        persona.acceptable_resolutions[0], description="send you a prepaid label", accept=()
    )
    customer = CustomerSimulator(persona, None, None)  # closings are not sampled
    line = customer.closing("accept", seed=1, accepted=offer).text
    assert "send me a prepaid label" in line and "send you" not in line
    own = replace(offer, accept=("Fine, a label in my inbox today and we're done.",))
    assert customer.closing("accept", seed=1, accepted=own).text == own.accept[0]


# --- shipped files, by name from anywhere ------------------------------------------------------


def test_shipped_rubrics_exams_and_the_core_pack_are_found_by_name(tmp_path, monkeypatch) -> None:
    from harness.personas.builtin import exam_names, rubric_names

    monkeypatch.chdir(tmp_path)  # nothing here: names must not depend on the working directory
    rubric = load_rubric("deescalation")
    assert rubric.id == "deescalation" and rubric.content_hash == load_rubric(RUBRIC).content_hash
    for name, path in rubric_names().items():
        assert load_rubric(path).id == name  # a shipped rubric's file is named by its id
    assert {load_exam(p).id for p in exam_names().values()} == set(exam_names())
    assert load_exam("exam:core-certification").id == "core-certification"
    assert len(load_personas(["pack:core"])) == 10
    [one] = load_personas(["pack:core/billing-double-charge"])
    assert one.id == "billing-double-charge"
    with pytest.raises(DeescError, match=r"no shipped rubric of that id \(shipped: deescalation"):
        load_rubric("no-such-rubric")
    with pytest.raises(DeescError, match="has no persona 'nobody'"):
        load_personas(["pack:core/nobody"])
    with pytest.raises(DeescError, match="no shipped exam"):
        load_exam("exam:nope")
