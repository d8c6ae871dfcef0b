"""The exam server over real HTTP on 127.0.0.1: a whole exam, what trainers see, isolation
between candidates, CSRF and limits, attempts, time limits, and a restart mid-exam."""

from __future__ import annotations

import csv
import io
import re
import time
from pathlib import Path

import pytest
import yaml
from conftest import MINI, RUBRIC
from markupsafe import escape
from webserver import (
    SCRIPTED_CUSTOMER,
    Server,
    Visitor,
    candidate,
    conversation_ids,
    new_codes,
    sqlite_url,
    trainer,
)

SERVER_ARGS = ("--customer-model", SCRIPTED_CUSTOMER, "--appraisal", "lexicon")
GOOD = "I'm so sorry, that must be frustrating. Could you tell me the invoice number?"
GOOD_2 = "Thank you. I can refund the second charge today."


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    db = sqlite_url(tmp_path_factory.mktemp("web") / "exams.sqlite")
    server = Server(db, "tests/data/exams", *SERVER_ARGS).start()
    yield server
    server.kill()


def take_exam(visitor: Visitor, messages: list[str]) -> str:
    """Start an attempt and hold each conversation with these messages, then finish it."""
    page = visitor.post("/exam/attempts").text
    for conversation in conversation_ids(page):
        assert visitor.get(f"/conversations/{conversation}").status_code == 200
        for text in messages:
            answer = visitor.say(conversation, text)
            assert answer.status_code == 200, answer.text
            if answer.json()["ended"]:
                break
        visitor.post(f"/conversations/{conversation}/finish")
    return visitor.get("/exam").text


def test_a_candidate_takes_an_exam_and_the_trainer_sees_it(server) -> None:
    teacher = trainer(server.url)
    (code,) = new_codes(teacher, "mini", 1, "Ada")
    alice = candidate(server.url, code)
    first = alice.post("/exam/attempts").text
    ids = conversation_ids(first)
    assert len(ids) == 2
    chat = alice.get(f"/conversations/{ids[0]}").text
    assert "You billed me twice." in chat  # the customer opens
    answer = alice.say(ids[0], GOOD)
    turns = answer.json()["turns"]
    assert [t["role"] for t in turns] == ["agent", "customer"] and turns[0]["text"] == GOOD
    assert set(turns[1]) == {"role", "text"}  # nothing of the simulation's state
    answer = alice.say(ids[0], GOOD_2)
    assert answer.json()["ended"]  # the customer accepted: satisfied
    alice.get(f"/conversations/{ids[1]}")
    alice.say(ids[1], "Calm down. That's our policy.")
    alice.post(f"/conversations/{ids[1]}/finish")
    exam = alice.get("/exam").text
    assert "Your score:" in exam
    attempt = re.search(r'href="/attempts/(\d+)"', exam).group(1)
    result = alice.get(f"/attempts/{attempt}").text
    assert "Tip:" in result and "Empathy and validation" in result

    board = teacher.get("/trainer/exams/mini").text
    assert "Ada" in board and re.search(r'class="(pass|fail)">(passed|not passed)', board)
    rows = list(csv.DictReader(io.StringIO(teacher.get("/trainer/exams/mini/results.csv").text)))
    mine = [r for r in rows if r["candidate"] == "Ada"]
    assert [r["persona"] for r in mine] == ["mini-billing", "mini-inflexible"]
    assert mine[0]["end_reason"] == "satisfied" and mine[1]["end_reason"] == "agent_ended"
    assert float(mine[0]["composite"]) > float(mine[1]["composite"])
    assert float(mine[0]["empathy_validation"]) > float(mine[1]["empathy_validation"])
    detail_link = re.search(r'href="/trainer/candidates/(\d+)">Ada<', board).group(1)
    detail = teacher.get(f"/trainer/candidates/{detail_link}").text
    assert '<mark title="' in detail and "anger" in detail  # evidence and state, for trainers


def test_candidates_see_only_their_own_and_nothing_hidden(server) -> None:
    teacher = trainer(server.url)
    code_a, code_b = new_codes(teacher, "mini", 2, "pair")
    a, b = candidate(server.url, code_a), candidate(server.url, code_b)
    a_conv = conversation_ids(a.post("/exam/attempts").text)
    a.get(f"/conversations/{a_conv[0]}")
    a.say(a_conv[0], "Hello.")
    b.post("/exam/attempts")
    for path in (f"/conversations/{a_conv[0]}", "/attempts/1", "/attempts/999"):
        assert b.get(path).status_code == 404
    assert b.say(a_conv[0], "let me in").status_code == 404
    assert b.post(f"/conversations/{a_conv[0]}/finish").status_code == 404
    assert b.get("/trainer").url.path == "/trainer/login"  # a candidate is not a trainer
    assert b.get("/trainer/exams/mini/results.csv").url.path == "/trainer/login"
    assert Visitor(server.url).get("/exam").url.path == "/"  # no session: back to the code page

    rubric = yaml.safe_load(RUBRIC.read_text())
    personas = [yaml.safe_load(p.read_text()) for p in MINI.glob("*.yaml")]
    secrets = [a for c in rubric["criteria"] for a in c["anchors"].values()]
    secrets += [h[k] for p in personas for h in p.get("hidden_facts", []) for k in ("fact", "say")]
    pages = [a.get("/exam").text, a.get(f"/conversations/{a_conv[0]}").text,
             a.get(f"/conversations/{a_conv[1]}").text]  # fmt: skip
    for page in pages:
        for secret in secrets:
            assert secret not in page


def test_posts_need_the_csrf_token_and_inputs_have_limits(server) -> None:
    visitor = Visitor(server.url)
    visitor.get("/")
    assert visitor.http.post("/enter", data={"code": "x"}).status_code == 403  # no token
    forged = visitor.http.post("/enter", data={"code": "x", "csrf": "guess"})
    assert forged.status_code == 403
    cross = visitor.http.post("/enter", data={"code": "x", "csrf": visitor.csrf},
                              headers={"Origin": "http://evil.example"})  # fmt: skip
    assert cross.status_code == 403
    assert visitor.post("/enter", {"code": "NOPE-NOPE"}).status_code == 401
    assert visitor.post("/enter", {"code": "A" * 65}).status_code == 422
    big = visitor.http.post("/enter", content=b"x" * 20_000,
                            headers={"Content-Type": "application/x-www-form-urlencoded"})  # fmt: skip
    assert big.status_code == 413
    assert visitor.post("/trainer/login", {"token": "wrong"}).status_code == 401

    teacher = trainer(server.url)
    (code,) = new_codes(teacher, "mini", 1)
    person = candidate(server.url, code)
    conv = conversation_ids(person.post("/exam/attempts").text)[0]
    person.get(f"/conversations/{conv}")
    too_long = person.say(conv, "x" * 2001)
    assert too_long.status_code == 422
    page = person.get(f"/conversations/{conv}")
    assert "Content-Security-Policy" in page.headers and page.headers["X-Frame-Options"] == "DENY"
    session_cookie = next(c for c in person.http.cookies.jar if c.name == "deesc_session")
    assert session_cookie.has_nonstandard_attr("HttpOnly")


def test_attempts_are_limited_and_a_new_attempt_starts_fresh(server) -> None:
    teacher = trainer(server.url)
    (code,) = new_codes(teacher, "mini", 1)
    person = candidate(server.url, code)
    take_exam(person, ["Calm down."])
    page = take_exam(person, [GOOD, GOOD_2])
    assert "Attempt 2: finished" in page and "Start attempt 3" not in page
    refused = person.post("/exam/attempts")
    assert refused.status_code == 409 and "all 2 attempts are used" in refused.text


def test_the_time_limit_ends_a_conversation(server) -> None:
    teacher = trainer(server.url)
    (code,) = new_codes(teacher, "timed", 1, "Slow")
    person = candidate(server.url, code)
    conv = conversation_ids(person.post("/exam/attempts").text)[0]
    person.get(f"/conversations/{conv}")
    assert person.say(conv, "Hello, let me look.").status_code == 200
    time.sleep(2.2)  # the exam allows 0.034 minutes
    late = person.say(conv, "Still there?")
    assert late.status_code == 409 and "time is up" in late.json()["error"]
    assert "over (time limit)" in person.get(f"/conversations/{conv}").text
    exam = person.get("/exam").text
    assert "Your answers are with your trainer." in exam and "Your score" not in exam  # no feedback
    rows = list(csv.DictReader(io.StringIO(teacher.get("/trainer/exams/timed/results.csv").text)))
    assert rows[-1]["end_reason"] == "time_limit" and rows[-1]["agent_turns"] == "1"


def test_a_restart_mid_exam_loses_nothing(tmp_path) -> None:
    db = sqlite_url(tmp_path / "exams.sqlite")
    first = Server(db, "tests/data/exams", *SERVER_ARGS).start()
    try:
        (code,) = new_codes(trainer(first.url), "mini", 1)
        person = candidate(first.url, code)
        conv = conversation_ids(person.post("/exam/attempts").text)[0]
        person.get(f"/conversations/{conv}")
        before = person.say(conv, GOOD).json()["turns"]
    finally:
        first.kill()  # mid-conversation, no clean shutdown
    second = Server(db, "tests/data/exams", *SERVER_ARGS)
    second.port, second.url = first.port, first.url  # the same address: the cookies still apply
    second.args = first.args
    second.start()
    try:
        token_before = person.csrf  # from a page the old process rendered
        page = person.get(f"/conversations/{conv}").text  # the same session, still signed in
        assert person.csrf == token_before  # the signing key is kept: open pages still post
        assert escape(GOOD) in page and escape(before[1]["text"]) in page
        after = person.say(conv, GOOD_2).json()
        assert after["ended"]  # the customer's mood carried over: satisfied, as without a restart
        assert "done" in person.get("/exam").text
    finally:
        second.kill()


def test_the_shipped_exam_resolves_and_a_wrong_persona_is_pointed_at(tmp_path) -> None:
    from harness.errors import SpecError
    from harness.exam.attempts import attempt_result
    from harness.personas.exam import load_exams, resolve_exam

    (setup,) = load_exams("exams").values()
    assert setup.id == "core-certification" and len(setup.personas) == 5
    assert setup.personas[0].id == "billing-double-charge"
    assert all(c.tip for c in setup.rubric.criteria)  # every criterion has a tip for trainees
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        Path("exams/core-certification.yaml").read_text()
        .replace("../personas/core", str(Path("personas/core").resolve()))
        .replace("../rubrics", str(Path("rubrics").resolve()))
        .replace("- aggressive-outage", "- no-such-persona")
    )  # fmt: skip
    with pytest.raises(SpecError, match=r"bad.yaml: at /personas/2: no persona 'no-such-persona'"):
        resolve_exam(bad)
    ok = {"composite": 80.0, "critical_failures": []}
    assert attempt_result([ok, {**ok, "composite": 62.0}], 70) == (71.0, True)
    assert attempt_result([ok, {**ok, "critical_failures": ["insults_customer"]}], 70)[1] is False
    assert attempt_result([ok, {**ok, "composite": None}], 70) == (40.0, False)


def test_a_session_ends_after_a_working_day(server) -> None:
    import sqlite3

    teacher = trainer(server.url)
    (code,) = new_codes(teacher, "mini", 1)
    person = candidate(server.url, code)
    assert person.get("/exam").url.path == "/exam"
    db = server.args[server.args.index("--db") + 1].removeprefix("sqlite:///")
    with sqlite3.connect(db) as conn:  # every session signed in 13 hours ago
        conn.execute("UPDATE sessions SET created_at = datetime('now', '-13 hours')")
    assert person.get("/exam").url.path == "/"
    assert teacher.get("/trainer").url.path == "/trainer/login"


def _expire_sessions(server: Server) -> None:
    import sqlite3

    db = server.args[server.args.index("--db") + 1].removeprefix("sqlite:///")
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE sessions SET created_at = datetime('now', '-13 hours')")


def test_errors_say_exactly_what_happened(server) -> None:
    teacher = trainer(server.url)
    (code,) = new_codes(teacher, "mini", 1)
    person = candidate(server.url, code)
    conv = conversation_ids(person.post("/exam/attempts").text)[0]
    person.get(f"/conversations/{conv}")
    long = person.say(conv, "x" * 2345)
    assert long.status_code == 422
    assert long.json() == {
        "error": "Not sent: your message is 2,345 characters long; at most 2,000 fit."
    }
    form = person.post(f"/conversations/{conv}/messages", {"text": "x" * 2345})  # no script
    assert form.status_code == 422 and "at most 2,000 fit" in form.text
    empty = person.say(conv, "   ")
    assert empty.status_code == 409 and empty.json()["error"] == "Not sent: your message is empty."
    person.post(f"/conversations/{conv}/finish")
    over = person.say(conv, "Are you still there?")
    assert over.json()["error"] == "This conversation is over; your message was not sent."
    missing = person.get("/no/such/page")
    assert missing.status_code == 404 and "There is nothing here for you." in missing.text
    codes = teacher.post("/trainer/exams/mini/codes", {"count": "900"})
    assert (
        codes.status_code == 422 and "the number of codes must be between 1 and 500" in codes.text
    )

    other = conversation_ids(person.get("/exam").text)[-1]
    person.get(f"/conversations/{other}")
    _expire_sessions(server)  # the working day is over while the page is open
    late = person.say(other, "Hello?")
    assert late.status_code == 401
    assert late.json()["error"].startswith("Your session has ended: your message was not sent.")
    assert late.json()["signin"] == "/"


def test_the_chat_page_says_how_long_the_customer_takes(server) -> None:
    (code,) = new_codes(trainer(server.url), "mini", 1)
    person = candidate(server.url, code)
    conv = conversation_ids(person.post("/exam/attempts").text)[0]
    person.get(f"/conversations/{conv}")
    answer = person.say(conv, "Hello, I'm here to help. What happened?").json()
    assert isinstance(answer["typical_s"], float) and 0 < answer["typical_s"] < 30
    page = person.get(f"/conversations/{conv}").text
    assert 'id="typing"' in page  # the indicator the script shows while waiting
    assert re.search(r'data-typical-s="[0-9.]+"', page)
    assert "The customer takes under a second to answer at the moment." in page


def test_reasons_are_words_and_tips_point_at_this_conversation(server) -> None:
    from harness.behaviours import NAMES

    teacher = trainer(server.url)
    (code,) = new_codes(teacher, "mini", 1, "Words")
    person = candidate(server.url, code)
    page = take_exam(person, ["Calm down. That's our policy, you should have read it."])
    attempt = re.search(r'href="/attempts/(\d+)"', page).group(1)
    result = person.get(f"/attempts/{attempt}").text
    cards = re.findall(r'<section class="card".*?</section>', result, re.S)
    assert len(cards) == 2
    for card in cards:
        reasons = re.findall(r'<span class="reason">(.*?)</span>', card)
        assert reasons and all(
            r.startswith(("Seen:", "Not seen in these replies:")) for r in reasons
        )
        for name in (n for n in NAMES if "_" in n):  # no behaviour id in what candidates read
            assert name not in card, name
        assert "penalty" not in card and "shows " not in card  # the judge's own shorthand
        assert "Against it: minimises the feeling" in card  # "calm down", in the taxonomy's words
    billing, inflexible = cards
    assert "charged twice" not in inflexible  # the rubric's billing example stays out
    assert "In this conversation, turn 1, the customer wrote: “You billed me twice." in billing
    assert "You billed me twice" not in inflexible  # each card quotes its own customer
    assert "In this conversation, turn 2, you wrote: “Calm down." in inflexible

    board = teacher.get("/trainer/exams/mini").text
    detail = re.search(r'href="/trainer/candidates/(\d+)">Words<', board).group(1)
    transcript = teacher.get(f"/trainer/candidates/{detail}").text
    assert "customer's anger after this reply" in transcript
    assert re.search(r"Candidate · <span", transcript) and "agent · anger" not in transcript
    assert "Against it: minimises the feeling" in transcript and "penalty dismiss" not in transcript


def test_the_dashboard_shows_the_columns_the_trainer_picks_and_times_for_any_zone(server) -> None:
    teacher = trainer(server.url)
    (code,) = new_codes(teacher, "mini", 1, "Columns")
    take_exam(candidate(server.url, code), [GOOD, GOOD_2])
    everything = teacher.get("/trainer/exams/mini").text
    assert len(re.findall(r'<th class="criterion"', everything)) == 13
    assert re.search(r'<time datetime="\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ">', everything)
    assert '<script src="/static/local-time.js"' in everything
    two = teacher.get(
        "/trainer/exams/mini?columns=1&show=empathy_validation&show=staying_calm"
    ).text
    assert re.findall(r'<th class="criterion"[^>]*>([^<]+)</th>', two) == [
        "Empathy and validation",
        "Staying calm",
    ]
    none = teacher.get("/trainer/exams/mini?columns=1").text
    assert '<th class="criterion"' not in none and "Criteria shown: 0 of 13" in none
    icon = teacher.get("/favicon.ico")
    assert icon.status_code == 200 and icon.headers["content-type"].startswith("image/svg+xml")
