"""The exam server under attack, over real HTTP on 127.0.0.1: guessing trainer tokens and
candidate codes is slowed (per address and overall) and logged, weak trainer tokens are refused,
every id-taking route answers 404 and never 500 to ids out of range or malformed, CSRF tokens are
bound to their session, and the headers and cookie options of a deployment behind TLS."""

from __future__ import annotations

import itertools
import re
import subprocess
import sys
import time

import httpx
import pytest
from conftest import ROOT
from test_web import SERVER_ARGS
from webserver import (
    TOKEN,
    Server,
    Visitor,
    candidate,
    conversation_ids,
    new_codes,
    sqlite_url,
    trainer,
)

# documentation addresses (RFC 5737): only ever a header that the local server reads
ATTACKER, NEIGHBOUR = "203.0.113.7", "198.51.100.9"


@pytest.fixture
def fresh_server(tmp_path):
    """A server of its own: the limits' memory is per process, and these tests fill it."""
    server = Server(sqlite_url(tmp_path / "exams.sqlite"), "tests/data/exams", *SERVER_ARGS).start()
    yield server
    server.kill()


def test_the_backoff_allows_at_most_ten_tries_in_any_minute() -> None:
    from harness.exam.throttle import Backoff, Throttle

    now = [0.0]
    throttle = Throttle("test", clock=lambda: now[0])
    tries = []
    while now[0] < 3600:  # an attacker who tries again the moment it is allowed, for an hour
        wait = throttle.retry_after("a")
        if wait:
            now[0] += wait
            continue
        tries.append(now[0])
        throttle.failed("a")
    most = max(sum(1 for t in tries if start <= t < start + 60) for start in tries)
    assert most <= 10
    assert 20 <= len(tries) <= 60  # about one a minute once the window is full: slowed, not shut
    waits = [b - a for a, b in itertools.pairwise(tries[4:13])]
    assert tries[:5] == [0.0] * 5 and tries[5] == 2.0
    assert waits == [2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0]  # doubling after 5 free tries
    assert throttle.retry_after("b") == 0  # another address is not slowed ...
    crowd = Throttle("test", overall=Backoff(free=50, base_s=1.0), clock=lambda: now[0])
    for i in range(50):  # ... until many addresses together use up the overall allowance
        crowd.failed(f"10.0.0.{i}")
    assert crowd.retry_after("someone-new") == pytest.approx(1.0)


def _attempts(visitor: Visitor, path: str, field: str, value: str, n: int) -> list[httpx.Response]:
    return [visitor.post(path, {field: value}) for _ in range(n)]


def test_guessing_the_trainer_token_and_codes_is_slowed_per_address(fresh_server) -> None:
    url = fresh_server.url
    attacker = Visitor(url, ATTACKER)
    attacker.get("/trainer/login")
    start = time.monotonic()
    answers = _attempts(attacker, "/trainer/login", "token", "wrong-guess", 40)
    elapsed = time.monotonic() - start
    checked = [a for a in answers if a.status_code == 401]
    slowed = [a for a in answers if a.status_code == 429]
    assert len(checked) + len(slowed) == 40
    assert 5 <= len(checked) <= 10 and elapsed < 60  # at most 10 guesses looked at in the minute
    assert all("Too many wrong trainer tokens" in a.text for a in slowed)
    assert all(int(a.headers["Retry-After"]) >= 1 for a in slowed)
    # while the wait lasts, even the right token is refused unchecked
    blocked = attacker.post("/trainer/login", {"token": TOKEN})
    assert blocked.status_code == 429 and blocked.url.path == "/trainer/login"
    teacher = trainer(url, address=NEIGHBOUR)  # someone else is not slowed
    time.sleep(int(blocked.headers["Retry-After"]) + 0.2)
    assert attacker.post("/trainer/login", {"token": TOKEN}).url.path == "/trainer"
    assert "trainer sign-in: 5 wrong tries from 203.0.113.7" in fresh_server.log()

    (code,) = new_codes(teacher, "mini", 1)
    guesser = Visitor(url, ATTACKER)
    guesser.get("/")
    answers = _attempts(guesser, "/enter", "code", "AAAAA-BBBBB", 30)
    assert 5 <= sum(a.status_code == 401 for a in answers) <= 10
    assert answers[-1].status_code == 429 and "Too many wrong codes" in answers[-1].text
    assert guesser.post("/enter", {"code": code}).status_code == 429  # a right code waits too
    assert candidate(url, code, address=NEIGHBOUR).get("/exam").status_code == 200
    assert "code entry: 5 wrong tries from 203.0.113.7" in fresh_server.log()


def test_guessing_from_many_addresses_is_slowed_overall(fresh_server) -> None:
    for i in range(25):  # 2 wrong tries each: under every address's own allowance
        visitor = Visitor(fresh_server.url, f"192.0.2.{i + 1}")
        visitor.get("/")
        assert [a.status_code for a in _attempts(visitor, "/enter", "code", "NOPE", 2)] == [401] * 2
    newcomer = Visitor(fresh_server.url, "192.0.2.200")
    newcomer.get("/")
    slowed = newcomer.post("/enter", {"code": "NOPE"})  # 50 wrong in all: everyone waits now
    assert slowed.status_code == 429 and "Too many wrong codes" in slowed.text
    assert "code entry: 50 wrong tries from all addresses" in fresh_server.log()
    trainer(fresh_server.url, address="192.0.2.201")  # trainers' sign-in has its own allowance


def test_a_weak_trainer_token_is_refused_and_a_missing_one_is_made(tmp_path) -> None:
    for weak in ("choose-one", "Trainer2026!", "aaaaaaaaaaaaaaaaaaaa"):
        done = subprocess.run(
            [sys.executable, "-m", "harness.cli", "serve", "--exams", "tests/data/exams", "--db",
             sqlite_url(tmp_path / "x.sqlite"), "--trainer-token", weak],
            cwd=ROOT, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert done.returncode == 2, done.stderr
        assert "the trainer token is too weak" in done.stderr
    server = Server(sqlite_url(tmp_path / "exams.sqlite"), "tests/data/exams", *SERVER_ARGS,
                    token=None).start()  # fmt: skip
    try:
        made = server.log().split("trainer token (set DEESC_TRAINER_TOKEN to choose one): ")[1]
        made = made.split()[0]
        from harness.exam.server import token_weakness

        assert len(made) >= 20 and token_weakness(made) is None
        assert trainer(server.url, token=made).get("/trainer").status_code == 200
    finally:
        server.kill()


BAD_IDS = ["99999999999999999999999", "2147483648", "-1", "0", "abc", "1.5", "1e3", "%20", "0x10"]


def _id_routes() -> list[tuple[str, str]]:
    """Every (method, path) of the app that takes an id, read from the app itself, so that a
    route added later is swept too."""
    from harness.exam.server import build_app

    app = build_app("tests/data/exams", "sqlite:///:memory:", TOKEN,
                    customer_model="scripted:tests/data/golden/customer-script.yaml",
                    appraisal="lexicon")  # fmt: skip
    routes = []
    for route in app.routes:
        path = getattr(route, "path", "")
        if "{" in path and not path.startswith("/static"):
            routes += [(m, path) for m in sorted(getattr(route, "methods", ()) - {"HEAD"})]
    return routes


def test_every_route_answers_404_never_500_to_a_bad_id(fresh_server) -> None:
    routes = _id_routes()
    assert len(routes) >= 8  # conversations, messages, finish, attempts, candidates, exams ...
    teacher = trainer(fresh_server.url)
    (code,) = new_codes(teacher, "mini", 1)
    person = candidate(fresh_server.url, code)
    person.post("/exam/attempts")
    stranger = Visitor(fresh_server.url)
    stranger.get("/")
    swept = 0
    for who in (teacher, person, stranger):
        for method, path in routes:
            for bad in BAD_IDS:
                url = path.split("{")[0] + bad + path.split("}", 1)[1]
                form = {"csrf": who.csrf, "text": "hi"}
                answer = who.http.get(url) if method == "GET" else who.http.post(url, data=form)
                swept += 1
                assert answer.status_code != 500, (method, url, answer.text)
                if "{exam_id}" in path and who is not teacher:
                    # an exam name is not an id: whoever is not a trainer is sent to sign in
                    assert answer.url.path == "/trainer/login"
                    continue
                assert answer.status_code == 404, (method, url, answer.status_code, answer.text)
                assert "There is nothing here for you." in answer.text
    assert swept == 3 * len(routes) * len(BAD_IDS)
    # the largest id that fits is checked too: an unknown row, not an error
    assert person.get("/conversations/2147483647").status_code == 404
    assert teacher.get("/trainer/candidates/2147483647").status_code == 404
    assert person.get("/").status_code == 200  # the server is still up and serving


def test_a_csrf_token_works_only_with_its_own_session(fresh_server) -> None:
    url = fresh_server.url
    chosen = "attacker-chosen-value"
    # a cookie and field of the attacker's choosing (set, say, through a sibling subdomain)
    cookies = f"deesc_csrf={chosen}; deesc_visitor={chosen}"
    forged = httpx.post(url + "/enter", data={"code": "x", "csrf": chosen},
                        headers={"Cookie": cookies})  # fmt: skip
    assert forged.status_code == 403 and "security token" in forged.text

    (code_a, code_b) = new_codes(trainer(url), "mini", 2)
    a, b = candidate(url, code_a), candidate(url, code_b)
    conv = conversation_ids(b.post("/exam/attempts").text)[0]
    b.get(f"/conversations/{conv}")
    a.get("/exam")
    assert a.csrf != b.csrf  # each session has its own
    stolen = b.http.post(f"/conversations/{conv}/messages", data={"text": "hi", "csrf": a.csrf})
    assert stolen.status_code == 403
    assert b.say(conv, "Hello, how can I help?").status_code == 200  # its own token passes
    before_sign_in = Visitor(url)
    before_sign_in.get("/")
    anonymous = before_sign_in.csrf
    assert before_sign_in.post("/enter", {"code": code_a}).url.path == "/exam"
    assert before_sign_in.csrf != anonymous  # signing in binds a new token to the new session


def test_headers_hosts_and_cookies_for_a_deployment_behind_tls(tmp_path) -> None:
    server = Server(sqlite_url(tmp_path / "exams.sqlite"), "tests/data/exams", *SERVER_ARGS,
                    "--secure-cookies", "--allowed-host", "exams.example.org",
                    "--allowed-host", "127.0.0.1").start()  # fmt: skip
    try:
        page = httpx.get(server.url + "/")
        assert page.headers["X-Content-Type-Options"] == "nosniff"
        assert "Secure" in page.headers["set-cookie"] and "HttpOnly" in page.headers["set-cookie"]
        assert httpx.get(server.url + "/", headers={"Host": "evil.example"}).status_code == 400
        # as nginx forwards it: the public name, HTTPS, and the browser's Origin
        proxy = {"Host": "exams.example.org", "X-Forwarded-Proto": "https",
                 "X-Forwarded-For": ATTACKER}  # fmt: skip
        client = httpx.Client(base_url=server.url, headers=proxy)
        form = client.get("/trainer/login")
        csrf = re.search(r'name="csrf" value="([^"]+)"', form.text).group(1)
        # a Secure cookie travels only over HTTPS, which the proxy gets: send it as it would
        visitor = form.headers["set-cookie"].split(";")[0]
        client.cookies.clear()
        client.headers["Cookie"] = visitor
        signed = client.post("/trainer/login", data={"token": TOKEN, "csrf": csrf},
                             headers={"Origin": "https://exams.example.org"})  # fmt: skip
        assert signed.status_code == 303 and signed.headers["location"] == "/trainer"
        assert "Secure" in signed.headers["set-cookie"]
        wrong_scheme = client.post("/trainer/login", data={"token": TOKEN, "csrf": csrf},
                                   headers={"Origin": "http://exams.example.org"})  # fmt: skip
        assert wrong_scheme.status_code == 403
    finally:
        server.kill()


def test_the_default_server_refuses_other_host_names(fresh_server) -> None:
    # a page of another site that rebinds its name to 127.0.0.1 cannot reach the server
    rebound = httpx.get(fresh_server.url + "/", headers={"Host": "attacker.example"})
    assert rebound.status_code == 400
    assert httpx.get(fresh_server.url + "/", headers={"Host": "localhost"}).status_code == 200
