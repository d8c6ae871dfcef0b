"""What the exam server does, without HTTP: codes and sessions, attempts, conversations turn by
turn, judging, results. Every method that takes a candidate id checks that the thing asked for
is that candidate's; anything else is "not found", never someone else's data."""

from __future__ import annotations

import asyncio
import csv
import hashlib
import io
import secrets
import statistics
import time
from collections import defaultdict, deque
from datetime import timedelta
from typing import Any

from sqlalchemy import Engine, func, insert, select, update

from harness.appraisal.base import Appraiser
from harness.engine.registry import EnginePool, ModelOptions
from harness.exam.attempts import attempt_result
from harness.exam.db import attempts, candidates, conversations, sessions, utcnow
from harness.judge.records import judge_episode
from harness.personas.exam import ExamSetup
from harness.results.summary import criterion_values
from harness.seeds import derive_seed
from harness.sim.customer import CustomerSimulator, shipped_critic
from harness.sim.episode import EndReason
from harness.sim.live import LiveConversation
from harness.transcripts import count_agent_turns

CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I/L
CODE_LENGTH = 10
MAX_CODES_PER_REQUEST = 500
SESSION_HOURS = 12  # a sign-in lasts a working day; the cookie says the same
# the largest row id: the tables' Integer columns are 32-bit on PostgreSQL
MAX_ID = 2**31 - 1
RECENT_REPLIES = 20  # enough to smooth one slow reply, few enough to follow a change of load


class NotFound(Exception):
    """Not there, or not the asker's: the two look the same from outside."""


class Refused(Exception):
    """A request that cannot be done now (no attempts left, conversation over); the message is
    for the person."""


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def normalise_code(code: str) -> str:
    return "".join(ch for ch in code.upper() if ch.isalnum())[:64]


def new_code() -> str:
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    return f"{raw[:5]}-{raw[5:]}"


def candidate_turns(turns: list[dict[str, Any]]) -> list[dict[str, str]]:
    """What a candidate sees of a conversation: who said what, nothing of the simulation."""
    return [{"role": t["role"], "text": t["text"]} for t in turns]


class ReplyTimes:
    """How long the customer has taken to answer lately (the median of the last replies it
    wrote): what a candidate is told to expect while waiting."""

    def __init__(self, keep: int = RECENT_REPLIES) -> None:
        self._recent: deque[float] = deque(maxlen=keep)
        self.waiting = 0  # replies being written now

    def add(self, seconds: float) -> None:
        self._recent.append(seconds)

    def typical(self) -> float | None:
        return statistics.median(self._recent) if self._recent else None


class ExamService:
    def __init__(
        self,
        exams: dict[str, ExamSetup],
        db: Engine,
        pool: EnginePool,
        appraiser: Appraiser,
        judge: Any,
        customer_model: ModelOptions,
        seed: int = 0,
    ) -> None:
        self.exams = exams
        self.db = db
        self.pool = pool
        self.appraiser = appraiser
        self.judge = judge
        self.customer_model = customer_model
        shipped_critic()  # opened now, so that no candidate's first reply waits for it
        self.seed = seed
        self._locks: dict[int, asyncio.Lock] = defaultdict(asyncio.Lock)
        self.replies = ReplyTimes()

    # --- sessions and codes ---------------------------------------------------------------

    def new_session(self, role: str, candidate_id: int | None = None) -> str:
        token = secrets.token_urlsafe(32)
        with self.db.begin() as c:
            c.execute(insert(sessions).values(token_hash=digest(token), role=role,
                                              candidate_id=candidate_id, created_at=utcnow()))  # fmt: skip
        return token

    def session(self, token: str | None) -> dict[str, Any] | None:
        if not token or len(token) > 100:
            return None
        with self.db.connect() as c:
            row = c.execute(select(sessions).where(sessions.c.token_hash == digest(token))).first()
        if row is None or utcnow() - row.created_at > timedelta(hours=SESSION_HOURS):
            return None
        return dict(row._mapping)

    def end_session(self, token: str | None) -> None:
        if token:
            with self.db.begin() as c:
                c.execute(sessions.delete().where(sessions.c.token_hash == digest(token)))

    def create_codes(self, exam_id: str, count: int, label: str) -> list[tuple[str, str]]:
        if exam_id not in self.exams:
            raise NotFound(exam_id)
        if not 1 <= count <= MAX_CODES_PER_REQUEST:
            raise Refused(f"Between 1 and {MAX_CODES_PER_REQUEST} codes at a time.")
        label = label.strip()[:80] or "candidate"
        created = []
        with self.db.begin() as c:
            start = c.execute(select(func.count()).select_from(candidates)
                              .where(candidates.c.exam_id == exam_id)).scalar_one()  # fmt: skip
            for i in range(count):
                code = new_code()
                name = f"{label} {start + i + 1}" if count > 1 or label == "candidate" else label
                c.execute(insert(candidates).values(
                    exam_id=exam_id, code_hash=digest(normalise_code(code)), code_hint=code[-3:],
                    label=name, created_at=utcnow()))  # fmt: skip
                created.append((code, name))
        return created

    def candidate_by_code(self, code: str) -> dict[str, Any] | None:
        with self.db.connect() as c:
            row = c.execute(
                select(candidates).where(candidates.c.code_hash == digest(normalise_code(code)))
            ).first()
        return None if row is None else dict(row._mapping)

    def candidate(self, candidate_id: int) -> dict[str, Any]:
        with self.db.connect() as c:
            row = c.execute(select(candidates).where(candidates.c.id == candidate_id)).first()
        if row is None:
            raise NotFound(candidate_id)
        return dict(row._mapping)

    # --- a candidate's exam ---------------------------------------------------------------

    def exam_of(self, candidate: dict[str, Any]) -> ExamSetup:
        setup = self.exams.get(candidate["exam_id"])
        if setup is None:
            raise Refused("This exam is no longer offered; ask your trainer.")
        return setup

    def attempts_of(self, candidate_id: int) -> list[dict[str, Any]]:
        """Every attempt, oldest first, each with its conversations in exam order."""
        with self.db.connect() as c:
            rows = c.execute(select(attempts).where(attempts.c.candidate_id == candidate_id)
                             .order_by(attempts.c.number)).all()  # fmt: skip
            out = []
            for row in rows:
                convs = c.execute(select(conversations).where(conversations.c.attempt_id == row.id)
                                  .order_by(conversations.c.position)).all()  # fmt: skip
                out.append({**row._mapping, "conversations": [dict(x._mapping) for x in convs]})
        return out

    def start_attempt(self, candidate_id: int) -> int:
        candidate = self.candidate(candidate_id)
        setup = self.exam_of(candidate)
        done = self.attempts_of(candidate_id)
        if done and done[-1]["finished_at"] is None:
            return done[-1]["id"]
        if len(done) >= setup.exam.attempts:
            raise Refused(f"No attempt left: all {setup.exam.attempts} attempts are used.")
        number = len(done) + 1
        with self.db.begin() as c:
            attempt_id = c.execute(insert(attempts).values(
                candidate_id=candidate_id, number=number, started_at=utcnow())).inserted_primary_key[0]  # fmt: skip
            for position, persona in enumerate(setup.personas):
                c.execute(insert(conversations).values(
                    attempt_id=attempt_id, position=position, persona_id=persona.id,
                    # every candidate meets the same customers: the seed ignores who they are
                    seed=derive_seed(self.seed, setup.id, persona.id, number), turns=[]))  # fmt: skip
        return attempt_id

    def _owned(self, candidate_id: int, conversation_id: int) -> dict[str, Any]:
        with self.db.connect() as c:
            row = c.execute(
                select(conversations, attempts.c.candidate_id, attempts.c.number)
                .join(attempts, attempts.c.id == conversations.c.attempt_id)
                .where(conversations.c.id == conversation_id)
            ).first()
        if row is None or row.candidate_id != candidate_id:
            raise NotFound(conversation_id)
        return dict(row._mapping)

    def _live(self, setup: ExamSetup, row: dict[str, Any], name: str) -> LiveConversation:
        persona = setup.persona(row["persona_id"])
        options = ModelOptions(spec=setup.exam.customer_model) if (
            setup.exam.customer_model and self.customer_model.spec == ModelOptions().spec
        ) else self.customer_model  # fmt: skip
        customer = CustomerSimulator(persona, self.pool.get(options), options)
        return LiveConversation(f"{name}|{persona.id}|{row['number']}", persona, customer,
                                self.appraiser, row["seed"], name, row["turns"] or None,
                                row["end_reason"])  # fmt: skip

    def _conversation(
        self, candidate_id: int, conversation_id: int
    ) -> tuple[dict[str, Any], str, ExamSetup]:
        """The candidate's conversation row, their name and their exam (NotFound otherwise)."""
        row = self._owned(candidate_id, conversation_id)
        candidate = self.candidate(candidate_id)
        return row, candidate["label"], self.exam_of(candidate)

    async def open_conversation(self, candidate_id: int, conversation_id: int) -> dict[str, Any]:
        """The conversation as the candidate sees it; the first visit starts its clock."""
        async with self._locks[conversation_id]:
            row, name, setup = self._conversation(candidate_id, conversation_id)
            if row["started_at"] is None:
                live = self._live(setup, row, name)
                now = utcnow()
                limit = setup.exam.time_limit_minutes
                deadline = now + timedelta(minutes=limit) if limit else None
                with self.db.begin() as c:
                    c.execute(update(conversations).where(conversations.c.id == conversation_id)
                              .values(started_at=now, deadline=deadline, turns=live.turns))  # fmt: skip
            elif row["finished_at"] is None and self._past(row):
                await self._finish(setup, row, name, EndReason.TIME_LIMIT)
            else:
                return row
            return self._owned(candidate_id, conversation_id)

    @staticmethod
    def _past(row: dict[str, Any]) -> bool:
        return row["deadline"] is not None and utcnow() > row["deadline"]

    async def send(
        self, candidate_id: int, conversation_id: int, text: str
    ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """The candidate's message and the customer's answer: the conversation after it, and
        the turns added."""
        async with self._locks[conversation_id]:
            row, name, setup = self._conversation(candidate_id, conversation_id)
            if row["started_at"] is None:
                raise Refused("Open the conversation first.")
            if row["finished_at"] is not None:
                raise Refused("This conversation is over; your message was not sent.")
            if self._past(row):
                await self._finish(setup, row, name, EndReason.TIME_LIMIT)
                raise Refused("Your time is up for this conversation; your message was not sent.")
            if not text.strip():
                raise Refused("Not sent: your message is empty.")
            live = self._live(setup, row, name)
            started = time.perf_counter()
            self.replies.waiting += 1
            try:
                added = await live.say(text)
            except ValueError as exc:
                raise Refused(f"Not sent: {exc}.") from None
            finally:
                self.replies.waiting -= 1
            if any(t.get("samples") for t in added):  # closing lines are not written by the model
                self.replies.add(time.perf_counter() - started)
            with self.db.begin() as c:
                c.execute(update(conversations).where(conversations.c.id == conversation_id)
                          .values(turns=live.turns))  # fmt: skip
            if live.ended:
                await self._finish(setup, row, name, None, live)
            return self._owned(candidate_id, conversation_id), added

    async def finish(self, candidate_id: int, conversation_id: int) -> dict[str, Any]:
        async with self._locks[conversation_id]:
            row, name, setup = self._conversation(candidate_id, conversation_id)
            if row["started_at"] is None or row["finished_at"] is not None:
                return row
            await self._finish(setup, row, name, EndReason.AGENT_ENDED)
            return self._owned(candidate_id, conversation_id)

    async def _finish(
        self,
        setup: ExamSetup,
        row: dict[str, Any],
        name: str,
        reason: EndReason | None,
        live: LiveConversation | None = None,
    ) -> None:
        """End (unless `live` already has), judge, store; score the attempt once all is done."""
        live = live or self._live(setup, row, name)
        if reason is not None:
            live.finish(reason)
        record = live.record()
        await judge_episode(live.episode, record, self.judge, setup.rubric)
        with self.db.begin() as c:
            c.execute(update(conversations).where(conversations.c.id == row["id"]).values(
                turns=live.turns, finished_at=utcnow(), end_reason=live.end_reason,
                record=record, composite=record.get("composite"), passed=record.get("passed")))  # fmt: skip
            convs = c.execute(select(conversations.c.record, conversations.c.finished_at)
                              .where(conversations.c.attempt_id == row["attempt_id"])).all()  # fmt: skip
            if all(x.finished_at is not None for x in convs):
                composite, passed = attempt_result([x.record for x in convs], setup.exam.pass_mark)
                c.execute(update(attempts).where(attempts.c.id == row["attempt_id"]).values(
                    finished_at=utcnow(), composite=composite, passed=passed))  # fmt: skip

    # --- trainers -------------------------------------------------------------------------

    def exam_summary(self, exam_id: str) -> dict[str, Any]:
        if exam_id not in self.exams:
            raise NotFound(exam_id)
        with self.db.connect() as c:
            rows = c.execute(select(candidates).where(candidates.c.exam_id == exam_id)
                             .order_by(candidates.c.id)).all()  # fmt: skip
        people = []
        for row in rows:
            tries = self.attempts_of(row.id)
            finished = [a for a in tries if a["finished_at"] is not None]
            best = max(finished, key=lambda a: a["composite"] or 0.0, default=None)
            people.append({**row._mapping, "attempts": tries, "best": best,
                           "criteria": criterion_means(best)})  # fmt: skip
        return {"setup": self.exams[exam_id], "candidates": people}

    def results_csv(self, exam_id: str) -> str:
        summary = self.exam_summary(exam_id)
        criteria = [c.id for c in summary["setup"].rubric.criteria]
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["candidate", "code_ends", "attempt", "attempt_composite", "attempt_passed",
                         "persona", "composite", "passed", "end_reason", "agent_turns",
                         *criteria])  # fmt: skip
        for person in summary["candidates"]:
            for attempt in person["attempts"]:
                for conv in attempt["conversations"]:
                    scores = (conv["record"] or {}).get("scores", {})
                    writer.writerow([
                        _cell(person["label"]), person["code_hint"], attempt["number"],
                        attempt["composite"], attempt["passed"], conv["persona_id"],
                        conv["composite"], conv["passed"], conv["end_reason"],
                        count_agent_turns(conv["turns"]),
                        *[(scores.get(c) or {}).get("value") for c in criteria],
                    ])  # fmt: skip
        return out.getvalue()


def criterion_means(attempt: dict[str, Any] | None) -> dict[str, float]:
    """Mean score per criterion over an attempt's judged conversations."""
    records = [c["record"] for c in (attempt or {}).get("conversations", []) if c["record"]]
    return {k: round(sum(v) / len(v), 2) for k, v in criterion_values(records).items()}


def _cell(text: str) -> str:
    """A label as a spreadsheet shows it, never as a formula (CSV injection)."""
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text
