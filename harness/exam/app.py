"""`deesc serve`: trainer pages (login with the trainer token, exams, candidate codes, results,
transcripts with the judge's evidence, CSV) and candidate pages (enter a code, hold each
conversation, see the result when the exam allows). Server-rendered; the one script is the
project's own and only makes the chat answer without a page load.

Safety: sessions are random tokens stored hashed, in HttpOnly SameSite=Strict cookies; every
POST carries a CSRF token that must equal its cookie (double submit) and, when it has an Origin,
must come from this server; request bodies, messages, codes and labels have length limits."""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Awaitable, Callable
from importlib import resources
from typing import Any

from fastapi import Depends, FastAPI, Form, HTTPException, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from harness.agents.human import MAX_MESSAGE_CHARS
from harness.exam.service import ExamService, NotFound, Refused, candidate_turns
from harness.judge.feedback import feedback
from harness.results.report import episode_view

SESSION_COOKIE = "deesc_session"
CSRF_COOKIE = "deesc_csrf"
MAX_BODY_BYTES = 16_384  # a message is at most 2,000 characters; forms are small


def _templates() -> Jinja2Templates:
    folder = resources.files("harness.exam") / "templates"
    templates = Jinja2Templates(directory=str(folder))
    templates.env.filters["num"] = lambda v, d=1: "-" if v is None else f"{v:.{d}f}"
    return templates


def create_app(service: ExamService, trainer_token: str) -> FastAPI:
    app = FastAPI(title="deesc exams", docs_url=None, redoc_url=None, openapi_url=None)
    templates = _templates()
    static = resources.files("harness.exam") / "static"
    app.mount("/static", StaticFiles(directory=str(static)), name="static")

    @app.middleware("http")
    async def limits_and_headers(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        length = request.headers.get("content-length")
        if length is not None and (not length.isdigit() or int(length) > MAX_BODY_BYTES):
            return PlainTextResponse("request too large", status_code=413)
        origin = request.headers.get("origin")
        if (
            request.method == "POST"
            and origin
            and origin != f"{request.url.scheme}://{request.url.netloc}"
        ):
            return PlainTextResponse("cross-site request refused", status_code=403)
        response = await call_next(request)
        if CSRF_COOKIE not in request.cookies:
            response.set_cookie(CSRF_COOKIE, request.state.csrf, httponly=False, samesite="strict")
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["Content-Security-Policy"] = (
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
            "frame-ancestors 'none'; form-action 'self'"
        )
        response.headers["Referrer-Policy"] = "same-origin"
        return response

    @app.middleware("http")
    async def csrf_value(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        # runs first: the token pages put in their forms (the cookie's, or a new one)
        request.state.csrf = request.cookies.get(CSRF_COOKIE) or secrets.token_urlsafe(24)
        return await call_next(request)

    # the CSRF check itself is a dependency of every POST: it reads the form, which a middleware
    # cannot do without taking the body from the route
    def csrf_protect(request: Request, csrf: str = Form("", max_length=100)) -> None:
        """Every POST: the token in the form (or the X-CSRF-Token header) equals its cookie."""
        cookie = request.cookies.get(CSRF_COOKIE, "")
        sent = request.headers.get("x-csrf-token") or csrf
        if not cookie or not hmac.compare_digest(cookie.encode(), sent.encode()):
            raise HTTPException(
                status_code=403, detail="missing or wrong CSRF token; reload the page"
            )

    post = lambda path, **kw: app.post(path, dependencies=[Depends(csrf_protect)], **kw)  # noqa: E731

    def page(request: Request, name: str, status: int = 200, **context: Any) -> HTMLResponse:
        return templates.TemplateResponse(
            request, name, {"csrf": request.state.csrf, **context}, status_code=status
        )

    def who(request: Request) -> dict[str, Any] | None:
        return service.session(request.cookies.get(SESSION_COOKIE))

    def trainer(request: Request) -> None:
        session = who(request)
        if session is None or session["role"] != "trainer":
            raise HTTPException(status_code=303, headers={"Location": "/trainer/login"})

    def candidate_id(request: Request) -> int:
        session = who(request)
        if session is None or session["role"] != "candidate":
            raise HTTPException(status_code=303, headers={"Location": "/"})
        return int(session["candidate_id"])

    def signed_in(response: Response, token: str) -> Response:
        response.set_cookie(
            SESSION_COOKIE, token, httponly=True, samesite="strict", max_age=12 * 3600
        )
        return response

    @app.exception_handler(NotFound)
    async def not_found(request: Request, exc: NotFound) -> HTMLResponse:
        return page(request, "message.html", status=404, title="Not found",
                    message="There is nothing here for you.")  # fmt: skip

    @app.exception_handler(Refused)
    async def refused(request: Request, exc: Refused) -> Response:
        if request.headers.get("accept") == "application/json":
            return JSONResponse({"error": str(exc)}, status_code=409)
        return page(request, "message.html", status=409, title="Not possible", message=str(exc))

    # --- candidates -----------------------------------------------------------------------

    @app.get("/", response_class=HTMLResponse)
    async def enter_page(request: Request) -> HTMLResponse:
        return page(request, "enter.html", error=None)

    @post("/enter")
    async def enter(request: Request, code: str = Form(..., max_length=64)) -> Response:
        found = service.candidate_by_code(code)
        if found is None:
            return page(request, "enter.html", status=401, error="That code is not valid.")
        token = service.new_session("candidate", found["id"])
        return signed_in(RedirectResponse("/exam", status_code=303), token)

    @post("/leave")
    async def leave(request: Request) -> Response:
        service.end_session(request.cookies.get(SESSION_COOKIE))
        response = RedirectResponse("/", status_code=303)
        response.delete_cookie(SESSION_COOKIE)
        return response

    @app.get("/exam", response_class=HTMLResponse)
    async def exam_page(request: Request) -> HTMLResponse:
        cid = candidate_id(request)
        candidate = service.candidate(cid)
        setup = service.exam_of(candidate)
        tries = service.attempts_of(cid)
        return page(request, "exam.html", candidate=candidate, exam=setup.exam, attempts=tries,
                    personas={p.id: p for p in setup.personas})  # fmt: skip

    @post("/exam/attempts")
    async def new_attempt(request: Request) -> Response:
        service.start_attempt(candidate_id(request))
        return RedirectResponse("/exam", status_code=303)

    def chat_context(cid: int, row: dict[str, Any]) -> dict[str, Any]:
        setup = service.exam_of(service.candidate(cid))
        persona = setup.persona(row["persona_id"])
        return {"conversation": row, "turns": candidate_turns(row["turns"]), "exam": setup.exam,
                "company": persona.scenario.company, "product": persona.scenario.product,
                "max_chars": MAX_MESSAGE_CHARS}  # fmt: skip

    @app.get("/conversations/{conversation_id}", response_class=HTMLResponse)
    async def chat_page(request: Request, conversation_id: int) -> HTMLResponse:
        cid = candidate_id(request)
        row = await service.open_conversation(cid, conversation_id)
        return page(request, "chat.html", **chat_context(cid, row))

    @post("/conversations/{conversation_id}/messages")
    async def send(
        request: Request, conversation_id: int, text: str = Form(..., max_length=MAX_MESSAGE_CHARS)
    ) -> Response:
        row, added = await service.send(candidate_id(request), conversation_id, text)
        if request.headers.get("accept") == "application/json":
            return JSONResponse(
                {"turns": candidate_turns(added), "ended": row["finished_at"] is not None}
            )
        return RedirectResponse(f"/conversations/{conversation_id}", status_code=303)

    @post("/conversations/{conversation_id}/finish")
    async def finish(request: Request, conversation_id: int) -> Response:
        await service.finish(candidate_id(request), conversation_id)
        return RedirectResponse("/exam", status_code=303)

    @app.get("/attempts/{attempt_id}", response_class=HTMLResponse)
    async def result_page(request: Request, attempt_id: int) -> HTMLResponse:
        cid = candidate_id(request)
        setup = service.exam_of(service.candidate(cid))
        attempt = next((a for a in service.attempts_of(cid) if a["id"] == attempt_id), None)
        if attempt is None or attempt["finished_at"] is None:
            raise NotFound(attempt_id)
        if not setup.exam.show_feedback:
            return page(request, "message.html", title="Attempt finished",
                        message="Your answers are with your trainer, who will tell you the result.")  # fmt: skip
        items = [(c, feedback(c["record"], setup.rubric)) for c in attempt["conversations"]]
        return page(request, "result.html", exam=setup.exam, attempt=attempt, items=items)

    # --- trainers -------------------------------------------------------------------------

    @app.get("/trainer/login", response_class=HTMLResponse)
    async def login_page(request: Request) -> HTMLResponse:
        return page(request, "login.html", error=None)

    @post("/trainer/login")
    async def login(request: Request, token: str = Form(..., max_length=200)) -> Response:
        if not hmac.compare_digest(token.encode(), trainer_token.encode()):
            return page(request, "login.html", status=401, error="Wrong trainer token.")
        return signed_in(
            RedirectResponse("/trainer", status_code=303), service.new_session("trainer")
        )

    @app.get("/trainer", response_class=HTMLResponse)
    async def exams_page(request: Request) -> HTMLResponse:
        trainer(request)
        rows = [service.exam_summary(exam_id) for exam_id in service.exams]
        return page(request, "trainer_exams.html", summaries=rows)

    @app.get("/trainer/exams/{exam_id}", response_class=HTMLResponse)
    async def exam_dashboard(request: Request, exam_id: str) -> HTMLResponse:
        trainer(request)
        return page(
            request, "trainer_exam.html", summary=service.exam_summary(exam_id), new_codes=None
        )

    @post("/trainer/exams/{exam_id}/codes", response_class=HTMLResponse)
    async def make_codes(
        request: Request, exam_id: str, count: int = Form(1), label: str = Form("", max_length=80)
    ) -> HTMLResponse:
        trainer(request)
        codes = service.create_codes(exam_id, count, label)
        return page(
            request, "trainer_exam.html", summary=service.exam_summary(exam_id), new_codes=codes
        )

    @app.get("/trainer/exams/{exam_id}/results.csv")
    async def results_csv(request: Request, exam_id: str) -> Response:
        trainer(request)
        return Response(service.results_csv(exam_id), media_type="text/csv",
                        headers={"Content-Disposition": f'attachment; filename="{exam_id}-results.csv"'})  # fmt: skip

    @app.get("/trainer/candidates/{cid}", response_class=HTMLResponse)
    async def candidate_page(request: Request, cid: int) -> HTMLResponse:
        trainer(request)
        candidate = service.candidate(cid)
        setup = service.exams.get(candidate["exam_id"])
        tries = service.attempts_of(cid)
        views = {
            c["id"]: episode_view(c["record"])
            for a in tries
            for c in a["conversations"]
            if c["record"]
        }
        return page(request, "trainer_candidate.html", candidate=candidate, setup=setup,
                    attempts=tries, views=views)  # fmt: skip

    return app
