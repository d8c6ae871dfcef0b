"""Load on the exam server: N candidates at once, each taking an exam over HTTP on 127.0.0.1.

With the scripted customer (the default) the server is what is measured: sessions, CSRF,
database writes, the episode loop, judging each conversation. With the shipped customer model
(`--customer-model offline:smollm2-135m`) what a candidate waits for is the model, and the
question is how many candidates one machine serves: `--cohorts 1,2,4,8` runs one cohort after
the other on the same server (the model loaded once) and reports the reply times of each.

    .venv/bin/python bench/exam_load.py [--candidates 50] [--exams tests/data/exams] [--exam mini]
    .venv/bin/python bench/exam_load.py --customer-model offline:smollm2-135m --exams exams \
        --exam core-certification --cohorts 1,2,4,8 --conversations 1

Prints errors, requests, wall time and page times (median, p95, max) per kind of request; per
cohort, the reply times ("message": the candidate's message and the customer's answer).
`tests/test_web_load.py` runs the scripted load and requires it to finish without an error.
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
    # inclusive: never beyond the largest value seen, which the default does for small samples
    return (
        statistics.quantiles(values, n=20, method="inclusive")[-1] if len(values) > 1 else values[0]
    )


def _csrf(page: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', page).group(1)


async def one_candidate(
    base: str, code: str, timings: Timings, conversations: int | None = None
) -> None:
    async with httpx.AsyncClient(base_url=base, follow_redirects=True, timeout=120) as client:
        page = await timings.request(client, "code page", "GET", "/")
        csrf = _csrf(page.text)
        entered = await timings.request(
            client, "enter", "POST", "/enter", data={"csrf": csrf, "code": code}
        )
        csrf = _csrf(entered.text)  # the token is bound to the new session
        exam = await timings.request(
            client, "start attempt", "POST", "/exam/attempts", data={"csrf": csrf}
        )
        found = re.findall(r'href="/conversations/(\d+)"', exam.text)
        for conversation in found[:conversations]:
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


async def load(
    base: str, codes: list[str], conversations: int | None = None
) -> tuple[Timings, float]:
    timings = Timings()
    start = time.perf_counter()
    await asyncio.gather(*(one_candidate(base, code, timings, conversations) for code in codes))
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
    parser.add_argument("--customer-model", help="default: the scripted customer of the tests")
    parser.add_argument("--cohorts", help="cohort sizes run one after another, e.g. 1,2,4,8 "
                        "(instead of --candidates)")  # fmt: skip
    parser.add_argument("--conversations", type=int, help="per candidate (default all)")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT / "tests"))
    from webserver import SCRIPTED_CUSTOMER, Server, new_codes, trainer

    cohorts = [int(n) for n in args.cohorts.split(",")] if args.cohorts else [args.candidates]
    model = args.customer_model or SCRIPTED_CUSTOMER
    # the scripted load measures the server, so it reads behaviours with the cheap lexicon; a
    # real customer is measured as shipped, with the classifier
    extra = [] if args.customer_model else ["--appraisal", "lexicon"]
    print(f"machine: {platform.machine()}, {os.cpu_count()} cpus, load average "
          f"{os.getloadavg()[0]:.1f} at start, python {platform.python_version()}")  # fmt: skip
    print(f"customer: {model}; exam {args.exam} from {args.exams}")
    failed = False
    with tempfile.TemporaryDirectory() as tmp:
        server = Server(f"sqlite:///{tmp}/exams.sqlite", args.exams, "--customer-model", model,
                        *extra).start()  # fmt: skip
        try:
            teacher = trainer(server.url)
            if args.customer_model:  # the model loads on the first reply: not a candidate's wait
                (warm,) = new_codes(teacher, args.exam, 1, "warm-up")
                asyncio.run(load(server.url, [warm], 1))
            for size in cohorts:
                codes = new_codes(teacher, args.exam, size, f"cohort-{size}")
                timings, wall = asyncio.run(load(server.url, codes, args.conversations))
                print()
                print(report(timings, wall, size))
                replies = timings.by_kind.get("message", [])
                if replies:
                    print(f"cohort {size}: reply median {statistics.median(replies):.1f} s, "
                          f"p95 {p95(replies):.1f} s, max {max(replies):.1f} s over "
                          f"{len(replies)} replies")  # fmt: skip
                    print("replies (s):", " ".join(f"{r:.1f}" for r in sorted(replies)))
                for error in timings.errors[:10]:
                    print("error:", error)
                failed = failed or bool(timings.errors)
        finally:
            server.kill()
    print(f"load average at the end {os.getloadavg()[0]:.1f}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
