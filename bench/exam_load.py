"""Load on the exam server: N candidates at once, each taking a whole exam over HTTP on
127.0.0.1, with the customer played by the scripted engine so that the server is what is
measured (sessions, CSRF, database writes, the episode loop, judging each conversation), or
by the shipped model (`--customer-model offline:smollm2-135m`), where a message's time is the
customer's reply from the model.

    .venv/bin/python bench/exam_load.py [--candidates 50] [--exams tests/data/exams] [--exam mini]
        [--customer-model SPEC] [--appraisal lexicon|classifier]

Prints errors, requests, wall time and page times (median, p95, max) per kind of request.
`tests/test_web_load.py` runs the same load and requires it to finish without an error.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import re
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
MESSAGES = [
    "I'm so sorry, that must be frustrating. Could you tell me the invoice number?",
    "Thank you. I can refund the second charge today.",
]


class Timings:
    def __init__(self) -> None:
        self.by_kind: dict[str, list[float]] = defaultdict(list)
        self.errors: list[str] = []

    async def request(
        self, client: httpx.AsyncClient, kind: str, method: str, url: str, **kw
    ) -> httpx.Response:
        start = time.perf_counter()
        response = await client.request(method, url, **kw)
        self.by_kind[kind].append(time.perf_counter() - start)
        if response.status_code >= 400:
            self.errors.append(f"{kind} {url}: {response.status_code} {response.text[:120]}")
        return response

    def all(self) -> list[float]:
        return [t for times in self.by_kind.values() for t in times]


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1] if len(values) > 1 else values[0]


async def one_candidate(base: str, code: str, timings: Timings) -> None:
    async with httpx.AsyncClient(base_url=base, follow_redirects=True, timeout=120) as client:
        page = await timings.request(client, "code page", "GET", "/")
        csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
        await timings.request(client, "enter", "POST", "/enter", data={"csrf": csrf, "code": code})
        exam = await timings.request(
            client, "start attempt", "POST", "/exam/attempts", data={"csrf": csrf}
        )
        for conversation in re.findall(r'href="/conversations/(\d+)"', exam.text):
            await timings.request(client, "chat page", "GET", f"/conversations/{conversation}")
            for text in MESSAGES:
                answer = await timings.request(
                    client, "message", "POST", f"/conversations/{conversation}/messages",
                    data={"csrf": csrf, "text": text}, headers={"Accept": "application/json"},
                )  # fmt: skip
                if answer.status_code != 200 or answer.json()["ended"]:
                    break
            await timings.request(client, "finish", "POST", f"/conversations/{conversation}/finish",
                                  data={"csrf": csrf})  # fmt: skip
        await timings.request(client, "exam page", "GET", "/exam")


async def load(base: str, codes: list[str]) -> tuple[Timings, float]:
    timings = Timings()
    start = time.perf_counter()
    await asyncio.gather(*(one_candidate(base, code, timings) for code in codes))
    return timings, time.perf_counter() - start


def report(timings: Timings, wall: float, candidates: int) -> str:
    lines = [f"{candidates} candidates at once; {len(timings.all())} requests in {wall:.1f} s; "
             f"{len(timings.errors)} errors"]  # fmt: skip
    lines.append(f"{'request':<14} {'n':>5} {'median ms':>10} {'p95 ms':>8} {'max ms':>8}")
    for kind, values in [*timings.by_kind.items(), ("all", timings.all())]:
        lines.append(f"{kind:<14} {len(values):>5} {1000 * statistics.median(values):>10.0f} "
                     f"{1000 * p95(values):>8.0f} {1000 * max(values):>8.0f}")  # fmt: skip
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--candidates", type=int, default=50)
    parser.add_argument("--exams", default="tests/data/exams")
    parser.add_argument("--exam", default="mini")
    parser.add_argument("--customer-model", default=None, help="default: the scripted customer")
    parser.add_argument("--appraisal", default="lexicon")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT / "tests"))
    from webserver import SCRIPTED_CUSTOMER, Server, new_codes, trainer

    with tempfile.TemporaryDirectory() as tmp:
        customer = args.customer_model or SCRIPTED_CUSTOMER
        server = Server(f"sqlite:///{tmp}/exams.sqlite", args.exams, "--customer-model",
                        customer, "--appraisal", args.appraisal).start()  # fmt: skip
        try:
            codes = new_codes(trainer(server.url), args.exam, args.candidates, "load")
            timings, wall = asyncio.run(load(server.url, codes))
        finally:
            server.kill()
    print(
        f"machine: {platform.machine()}, {platform.processor() or 'cpu'}, python {platform.python_version()}, "
        f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at the end; "
        f"customer {args.customer_model or 'scripted'}, appraisal {args.appraisal}"
    )
    print(report(timings, wall, args.candidates))
    for error in timings.errors[:10]:
        print("error:", error)
    return 1 if timings.errors else 0


if __name__ == "__main__":
    raise SystemExit(main())
