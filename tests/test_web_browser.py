"""The exam pages in a real headless Chromium (Debian's package, driven by Playwright): a
walk-through of the mini exam with the scripted customer (the customer typing, a result, an
ended session, a missing page, the trainer's dashboard and transcripts, with screenshots), and
the shipped exam end to end with the packaged offline customer model.

Screenshots go to $DEESC_SCREENSHOTS when it is set (to look at them), else to the test's
temporary folder."""

from __future__ import annotations

import os
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from test_report import CHROMIUM, CHROMIUM_ARGS
from test_web import GOOD, GOOD_2, SERVER_ARGS
from webserver import TOKEN, Server, new_codes, sqlite_url, trainer

# the reply arrives late (as under load), so that the page can be seen while it waits
SLOW_FETCH = """
const realFetch = window.fetch;
window.fetch = (...args) => new Promise(done => setTimeout(done, 2500)).then(() => realFetch(...args));
"""


def _shots(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("DEESC_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def test_a_walk_through_of_the_pages_a_candidate_and_a_trainer_read(tmp_path) -> None:
    from playwright.sync_api import expect, sync_playwright

    shots = _shots(tmp_path)
    server = Server(sqlite_url(tmp_path / "exams.sqlite"), "tests/data/exams", *SERVER_ARGS).start()
    try:
        codes = new_codes(trainer(server.url), "mini", 2, "Lin")
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            # a candidate in Tokyo: every time on the pages is shown in their own zone
            context = browser.new_context(viewport={"width": 1100, "height": 800},
                                          timezone_id="Asia/Tokyo")  # fmt: skip
            context.add_init_script(SLOW_FETCH)
            page = context.new_page()
            page.goto(server.url + "/")
            icon = page.locator("link[rel=icon]").get_attribute("href")
            assert page.request.get(server.url + icon).ok
            assert page.request.get(server.url + "/favicon.ico").ok
            page.fill("#code", codes[0])
            page.get_by_role("button", name="Enter").click()
            page.get_by_role("button", name="Start the exam").click()
            page.locator("a.button", has_text="Start").first.click()
            page.fill("#text", GOOD)
            page.click("#send-button")
            typing = page.locator("#typing")
            expect(typing).to_be_visible()
            expect(page.locator("#log .msg.agent")).to_contain_text("so sorry")
            page.screenshot(path=str(shots / "chat-typing.png"), full_page=True)
            expect(page.locator("#log .msg.customer:not(#typing)")).to_have_count(2)
            expect(typing).to_be_hidden()
            expect(page.locator("#wait-note")).to_have_text(
                re.compile(r"The customer takes (under a second|about \d+ s) to answer")
            )
            page.screenshot(path=str(shots / "chat.png"), full_page=True)
            page.fill("#text", GOOD_2)
            page.click("#send-button")
            expect(page.locator("#ended")).to_be_visible(timeout=15_000)  # accepted: over
            page.get_by_role("link", name="Back to your exam").click()
            page.locator("a.button", has_text="Start").first.click()
            page.fill("#text", "Calm down. That's our policy, you should have read it.")
            page.click("#send-button")
            expect(page.locator("#log .msg.customer:not(#typing)")).to_have_count(2)
            page.click("#finish")
            page.get_by_role("link", name="See your feedback").click()
            expect(page.locator("section.card")).to_have_count(2)
            why = " ".join(page.locator("span.reason").all_inner_texts())
            assert "Seen:" in why and not re.search(r"\b[a-z]+_[a-z_]+\b", why)  # no ids
            tips = page.locator("section.card").nth(1).locator(".moment").all_inner_texts()
            opening = page.locator("section.card").nth(1).locator(".moment", has_text="turn 1")
            said = opening.first.inner_text() if opening.count() else ""
            # each tip points at this customer's own line or the candidate's own reply
            assert tips and all("you wrote: “Calm down." in t or t == said for t in tips)
            assert not said or re.search("I want my money back|Refund me, now", said)
            page.screenshot(path=str(shots / "result.png"), full_page=True)

            # the working day ends while a chat is open: the page says so and where to go
            other = context.new_page()
            other.goto(server.url + "/")
            other.fill("#code", codes[1])
            other.get_by_role("button", name="Enter").click()
            other.get_by_role("button", name="Start the exam").click()
            other.locator("a.button", has_text="Start").first.click()
            context.clear_cookies(name="deesc_session")
            other.fill("#text", "Hello, let me look into it.")
            other.click("#send-button")
            status = other.locator("#status")
            expect(status).to_contain_text("Your session has ended: your message was not sent.")
            expect(status.get_by_role("link", name="Enter your code")).to_have_attribute(
                "href", "/"
            )
            expect(other.locator("#text")).to_have_value("Hello, let me look into it.")  # kept
            other.screenshot(path=str(shots / "error-session-ended.png"), full_page=True)
            other.goto(server.url + "/conversations/99999999999999999999999")
            expect(other.locator("h1")).to_have_text("Not found")
            other.screenshot(path=str(shots / "error-not-found.png"), full_page=True)

            staff = browser.new_context(viewport={"width": 1300, "height": 900},
                                        timezone_id="America/New_York").new_page()  # fmt: skip
            staff.goto(server.url + "/trainer/login")
            staff.fill("#token", TOKEN)
            staff.get_by_role("button", name="Sign in").click()
            staff.get_by_role("link", name="Mini exam").click()
            table = staff.locator("#results")
            expect(table.locator("th.criterion")).to_have_count(13)
            staff.screenshot(path=str(shots / "dashboard.png"), full_page=True)
            # every column is on the screen: nothing hides behind a horizontal scroll
            box = staff.locator("div.wide")
            assert box.evaluate("e => e.scrollWidth <= e.clientWidth"), "the table scrolls"
            last = table.locator("tr", has_text="Lin 1").locator("time")
            utc = datetime.fromisoformat(last.get_attribute("datetime").replace("Z", "+00:00"))
            new_york = utc.astimezone(UTC) + (staff.evaluate(
                "iso => -new Date(iso).getTimezoneOffset()", utc.isoformat()) * timedelta(minutes=1))  # fmt: skip
            assert "UTC" not in last.inner_text() and "UTC" in last.get_attribute("title")
            assert f"{new_york:%-I:%M}" in last.inner_text()  # the trainer's own clock
            staff.locator("#columns summary").click()
            for box_ in staff.locator("#columns input[type=checkbox]").all()[2:]:
                box_.uncheck()
            staff.click("#show-columns")
            expect(staff.locator("#results th.criterion")).to_have_text(
                ["Active listening", "Empathy and validation"]
            )
            staff.screenshot(path=str(shots / "dashboard-two-columns.png"), full_page=True)
            staff.get_by_role("link", name="Lin 1").click()
            labels = staff.locator("section.conversation .msg.agent .who").all_inner_texts()
            assert labels and all("CUSTOMER'S ANGER AFTER THIS REPLY" in t.upper() for t in labels)
            staff.screenshot(path=str(shots / "transcripts.png"), full_page=True)
            browser.close()
    finally:
        server.kill()


REPLIES = [
    "I'm so sorry about this, that sounds really frustrating. Could you tell me your order number?",
    "Thank you. I can refund it today, or send a replacement. Which would you prefer?",
]


@pytest.mark.slow
def test_a_candidate_takes_the_shipped_exam_in_chromium_and_the_trainer_sees_it(tmp_path) -> None:
    from playwright.sync_api import expect, sync_playwright

    shots = _shots(tmp_path)
    server = Server(sqlite_url(tmp_path / "exams.sqlite"), "exams").start()  # the offline model
    try:
        (code,) = new_codes(trainer(server.url), "core-certification", 1, "Grace")
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1100, "height": 900})
            page.goto(server.url + "/")
            page.fill("#code", code.lower().replace("-", " "))  # typed loosely: still accepted
            page.get_by_role("button", name="Enter").click()
            expect(page.locator("h1")).to_have_text("De-escalation certification (core)")
            page.get_by_role("button", name="Start the exam").click()
            starts = page.locator("a.button", has_text="Start")
            count = starts.count()
            assert count == 5
            for i in range(count):
                page.locator("a.button", has_text="Start").first.click()
                log = page.locator("#log .msg:not(#typing)")
                expect(log).to_have_count(1)  # the customer's opening line
                for reply in (
                    REPLIES if i == 0 else REPLIES[:1]
                ):  # one model call each after the first
                    if page.locator("#send").count() == 0:
                        break  # the customer already accepted and the page says it is over
                    before = log.count()
                    page.fill("#text", reply)
                    page.click("#send-button")
                    # the model takes seconds: the page says the customer is typing meanwhile
                    expect(page.locator("#typing")).to_be_visible()
                    if i == 0 and before == 1:
                        page.screenshot(path=str(shots / "chat-typing-model.png"), full_page=True)
                    # the answer appears in place, without a page load (or the page says it is over)
                    answer = page.locator("#log .msg:not(#typing)").nth(before + 1)
                    answer = answer.or_(page.locator("#ended"))
                    answer.first.wait_for(timeout=120_000)
                    if i == 0 and before == 1:
                        page.screenshot(path=str(shots / "chat-model.png"), full_page=True)
                page.wait_for_load_state()
                if page.locator("#finish").count():
                    page.click("#finish")
                else:
                    page.get_by_role("link", name="Back to your exam").click()
            expect(page.locator("text=Your score:")).to_be_visible()
            page.get_by_role("link", name="See your feedback").click()
            expect(page.locator("#attempt-score")).to_have_text(re.compile(r"\d+\.\d"))
            expect(page.locator("section.card")).to_have_count(5)
            expect(page.locator(".tip").first).to_be_visible()
            page.screenshot(path=str(shots / "result-model.png"), full_page=True)
            score = page.locator("#attempt-score").inner_text()

            staff = browser.new_page(viewport={"width": 1300, "height": 900})
            staff.goto(server.url + "/trainer/login")
            staff.fill("#token", TOKEN)
            staff.get_by_role("button", name="Sign in").click()
            staff.get_by_role("link", name="De-escalation certification (core)").click()
            row = staff.locator("#results tr", has_text="Grace")
            expect(row).to_contain_text(score)
            expect(row).to_contain_text(re.compile("passed|not passed"))
            staff.screenshot(path=str(shots / "dashboard-model.png"), full_page=True)
            row.locator("a").click()
            expect(staff.locator("section.conversation")).to_have_count(5)
            staff.screenshot(path=str(shots / "transcripts-model.png"), full_page=True)
            browser.close()
    finally:
        server.kill()
