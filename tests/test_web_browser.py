"""The shipped exam end to end in a real headless Chromium (Debian's package, driven by
Playwright): a candidate enters a code, holds every conversation with the packaged offline
customer model, finishes and reads the feedback; the trainer sees the result."""

from __future__ import annotations

import re

import pytest
from test_report import CHROMIUM, CHROMIUM_ARGS
from webserver import TOKEN, Server, new_codes, sqlite_url, trainer

REPLIES = [
    "I'm so sorry about this, that sounds really frustrating. Could you tell me your order number?",
    "Thank you. I can refund it today, or send a replacement. Which would you prefer?",
]


@pytest.mark.slow
def test_a_candidate_takes_the_shipped_exam_in_chromium_and_the_trainer_sees_it(tmp_path) -> None:
    from playwright.sync_api import expect, sync_playwright

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
                log = page.locator("#log .msg")
                expect(log).to_have_count(1)  # the customer's opening line
                for reply in (
                    REPLIES if i == 0 else REPLIES[:1]
                ):  # one model call each after the first
                    if page.locator("#send").count() == 0:
                        break  # the customer already accepted and the page says it is over
                    before = log.count()
                    page.fill("#text", reply)
                    page.click("#send-button")
                    # the answer appears in place, without a page load (or the page says it is over)
                    answer = page.locator("#log .msg").nth(before + 1).or_(page.locator("#ended"))
                    answer.first.wait_for(timeout=120_000)
                    if i == 0 and before == 1:
                        page.screenshot(path=str(tmp_path / "chat.png"), full_page=True)
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
            page.screenshot(path=str(tmp_path / "result.png"), full_page=True)
            score = page.locator("#attempt-score").inner_text()

            staff = browser.new_page(viewport={"width": 1300, "height": 900})
            staff.goto(server.url + "/trainer/login")
            staff.fill("#token", TOKEN)
            staff.get_by_role("button", name="Sign in").click()
            staff.get_by_role("link", name="De-escalation certification (core)").click()
            row = staff.locator("#results tr", has_text="Grace")
            expect(row).to_contain_text(score)
            expect(row).to_contain_text(re.compile("passed|not passed"))
            staff.screenshot(path=str(tmp_path / "dashboard.png"), full_page=True)
            row.locator("a").click()
            expect(staff.locator("section.conversation")).to_have_count(5)
            staff.screenshot(path=str(tmp_path / "transcripts.png"), full_page=True)
            browser.close()
    finally:
        server.kill()
