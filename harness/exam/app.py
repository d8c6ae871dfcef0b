"""`deesc serve`: trainer pages (login with the trainer token, exams, candidate codes, results,
transcripts with the judge's evidence, CSV) and candidate pages (enter a code, hold each
conversation, see the result when the exam allows). Server-rendered; the scripts are the
project's own: one makes the chat answer without a page load, one shows times in local time.

Safety: sessions are random tokens stored hashed, in HttpOnly SameSite=Strict cookies (Secure
with `secure_cookies`); every POST carries a CSRF token signed with the server's key for the
visitor's session (or, before sign-in, for a random visitor cookie), so a cookie and field an
attacker chose do not pass, and a POST with an Origin must come from this server; wrong trainer
tokens and codes are answered with a growing wait (`throttle.py`); ids out of range are "not
found"; request bodies, messages, codes and labels have length limits; the Host header can be
restricted to known names."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from importlib import resources
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Form, HTTPException, Request, Response
from fastapi import Path as PathParam
from fastapi.exceptions import RequestValidationError
from fastapi.responses import (
    FileResponse,
    HTMLResponse,
    JSONResponse,
    RedirectResponse,
)
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from markupsafe import Markup
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.trustedhost import TrustedHostMiddleware

from harness.agents.human import MAX_MESSAGE_CHARS
from harness.exam.db import server_key
from harness.exam.service import MAX_ID, ExamService, NotFound, Refused, candidate_turns
from harness.exam.throttle import Backoff, Throttle
from harness.judge.feedback import feedback, moment_text
from harness.results.report import episode_view

SESSION_COOKIE = "deesc_session"
VISITOR_COOKIE = "deesc_visitor"  # before sign-in, what a CSRF token is bound to
MAX_BODY_BYTES = 16_384  # a message is at most 2,000 characters; forms are small

RowId = Annotated[int, PathParam(ge=1, le=MAX_ID)]
ExamId = Annotated[str, PathParam(max_length=100)]

# what a person is told about a form field that did not pass validation
_FIELDS = {
    "text": "your message",
    "code": "the code",
    "token": "the trainer token",
    "label": "the label",
    "count": "the number of codes",
    "csrf": "the form's security token (reload the page)",
}


@dataclass(frozen=True)
class ServerOptions:
    secure_cookies: bool = False  # behind TLS: cookies only over HTTPS
    allowed_hosts: tuple[str, ...] = ("*",)  # Host header values served ("*": any)
    sign_in: Backoff = field(default_factory=Backoff)  # wrong trainer tokens, per address
    code_entry: Backoff = field(default_factory=Backoff)  # wrong codes, per address
    overall: Backoff = field(default_factory=lambda: Backoff(free=50, base_s=1.0, max_s=60.0))


class SignedOut(Exception):
    """No valid session for a page that needs one (`role`: whose)."""

    def __init__(self, role: str) -> None:
        super().__init__(role)
        self.role = role


def _local_time(value: datetime | None) -> Markup:
    """A stored (naive UTC) time as `<time>`: UTC in the page, the reader's local time once
    static/local-time.js has run."""
    if value is None:
        return Markup("-")
    return Markup('<time datetime="{}Z">{} UTC</time>').format(
        value.isoformat(timespec="seconds"), value.strftime("%Y-%m-%d %H:%M")
    )


def duration(seconds: float) -> str:
    """A wait as a person says it (static/chat.js says it the same way)."""
    if seconds < 1:
        return "under a second"
    return f"about {seconds:.0f} s" if seconds < 90 else f"about {seconds / 60:.0f} min"


def _templates() -> Jinja2Templates:
    folder = resources.files("harness.exam") / "templates"
    templates = Jinja2Templates(directory=str(folder))
    templates.env.filters["num"] = lambda v, d=1: "-" if v is None else f"{v:.{d}f}"
    templates.env.filters["when"] = _local_time
    templates.env.filters["duration"] = duration
    templates.env.globals["moment_text"] = moment_text
    return templates


def _wants_json(request: Request) -> bool:
    return "application/json" in request.headers.get("accept", "")


def _client(request: Request) -> str:
    # behind a reverse proxy uvicorn puts the forwarded address here (--forwarded-allow-ips)
    return request.client.host if request.client else "unknown"


def _needs(path: str) -> str | None:
    """Who must be signed in for a path: trainer, candidate, or nobody (None)."""
    if path.startswith("/trainer"):
        return None if path == "/trainer/login" else "trainer"
    return "candidate" if path.startswith(("/exam", "/conversations", "/attempts")) else None


def _explain(error: dict[str, Any]) -> str:
    """One validation error in words, e.g. 'your message is 2,345 characters long; at most
    2,000 fit'."""
    name = str(error["loc"][-1]) if error.get("loc") else ""
    what = _FIELDS.get(name, name.replace("_", " ") or "the request")
    kind, ctx, given = error.get("type", ""), error.get("ctx") or {}, error.get("input")
    if kind == "missing":
        return f"{what} is missing"
    if kind == "string_too_long" and isinstance(given, str):
        return f"{what} is {len(given):,} characters long; at most {ctx['max_length']:,} fit"
    if kind in ("int_parsing", "int_from_float"):
        return f"{what} must be a whole number"
    if kind in ("greater_than_equal", "less_than_equal"):
        return f"{what} must be between 1 and 500"
    return f"{what}: {error.get('msg', 'not accepted')}"


def create_app(
    service: ExamService, trainer_token: str, options: ServerOptions | None = None
) -> FastAPI:
    options = options or ServerOptions()
    app = FastAPI(title="deesc exams", docs_url=None, redoc_url=None, openapi_url=None)
    templates = _templates()
    static = resources.files("harness.exam") / "static"
    app.mount("/static", StaticFiles(directory=str(static)), name="static")
    csrf_key = server_key(service.db, "csrf")
    sign_in = Throttle("trainer sign-in", options.sign_in, options.overall)
    code_entry = Throttle("code entry", options.code_entry, options.overall)

    def csrf_for(binding: str) -> str:
        mac = hmac.new(csrf_key, b"csrf|" + binding.encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(mac).decode().rstrip("=")

    def binding(request: Request) -> str:
        """What this visitor's CSRF token is bound to: their session, else their visitor
        cookie (or the one this response sets)."""
        return (
            request.cookies.get(SESSION_COOKIE)
            or request.cookies.get(VISITOR_COOKIE)
            or request.state.new_visitor
        )

    def page(
        request: Request,
        name: str,
        status: int = 200,
        headers: dict[str, str] | None = None,
        **context: Any,
    ) -> HTMLResponse:
        return templates.TemplateResponse(
            request, name, {"csrf": request.state.csrf, **context}, status_code=status,
            headers=headers,
        )  # fmt: skip

    def error(
        request: Request, status: int, title: str, message: str, headers: dict | None = None
    ) -> Response:
        if _wants_json(request):
            return JSONResponse({"error": message}, status_code=status, headers=headers)
        return page(request, "message.html", status=status, headers=headers, title=title,
                    message=message, trainer_page=request.url.path.startswith("/trainer"))  # fmt: skip

    @app.middleware("http")
    async def limits_and_headers(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        request.state.new_visitor = secrets.token_urlsafe(24)
        request.state.csrf = csrf_for(binding(request))
        length = request.headers.get("content-length")
        origin = request.headers.get("origin")
        if length is not None and (not length.isdigit() or int(length) > MAX_BODY_BYTES):
            response = error(request, 413, "Too large",
                             f"The request is larger than {MAX_BODY_BYTES:,} bytes.")  # fmt: skip
        elif (
            request.method == "POST"
            and origin
            and origin != f"{request.url.scheme}://{request.url.netloc}"
        ):
            response = error(request, 403, "Refused", "A form from another site was refused.")
        else:
            response = await call_next(request)
        if VISITOR_COOKIE not in request.cookies:
            response.set_cookie(VISITOR_COOKIE, request.state.new_visitor, httponly=True,
                                samesite="strict", secure=options.secure_cookies)  # fmt: skip
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Content-Security-Policy"] = (
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
            "frame-ancestors 'none'; form-action 'self'"
        )
        response.headers["Referrer-Policy"] = "same-origin"
        return response

    # outermost, so that a request for another host name is answered before anything else
    app.add_middleware(TrustedHostMiddleware, allowed_hosts=list(options.allowed_hosts))

    def who(request: Request) -> dict[str, Any] | None:
        return service.session(request.cookies.get(SESSION_COOKIE))

    def trainer(request: Request) -> None:
        session = who(request)
        if session is None or session["role"] != "trainer":
            raise SignedOut("trainer")

    def candidate_id(request: Request) -> int:
        session = who(request)
        if session is None or session["role"] != "candidate":
            raise SignedOut("candidate")
        return int(session["candidate_id"])

    # the CSRF check itself is a dependency of every POST: it reads the form, which a middleware
    # cannot do without taking the body from the route
    def csrf_protect(request: Request, csrf: str = Form("", max_length=100)) -> None:
        """Every POST: the token in the form (or the X-CSRF-Token header) is the one this
        server signed for the visitor's own session or visitor cookie."""
        bound = request.cookies.get(SESSION_COOKIE) or request.cookies.get(VISITOR_COOKIE)
        sent = request.headers.get("x-csrf-token") or csrf
        if not bound or not hmac.compare_digest(csrf_for(bound).encode(), sent.encode()):
            # a page open longer than its session (the cookie is gone, so the token bound to it
            # no longer matches) has ended, which is what the person needs to hear
            role = _needs(request.url.path)
            if role and who(request) is None:
                raise SignedOut(role)
            raise HTTPException(
                status_code=403,
                detail="The form's security token is missing or belongs to another session. "
                "Reload the page and try again.",
            )

    post = lambda path, **kw: app.post(path, dependencies=[Depends(csrf_protect)], **kw)  # noqa: E731

    def signed_in(response: Response, token: str) -> Response:
        response.set_cookie(SESSION_COOKIE, token, httponly=True, samesite="strict",
                            max_age=12 * 3600, secure=options.secure_cookies)  # fmt: skip
        return response

    def slowed(
        request: Request, throttle: Throttle, template: str, wait: float, what: str
    ) -> HTMLResponse:
        throttle.refused(_client(request))
        seconds = max(1, round(wait + 0.49))
        return page(request, template, status=429,
                    error=f"Too many wrong {what} from your address. Wait {seconds} s, then try again.",
                    headers={"Retry-After": str(seconds)})  # fmt: skip

    @app.exception_handler(NotFound)
    async def not_found(request: Request, exc: NotFound) -> Response:
        return error(request, 404, "Not found", "There is nothing here for you.")

    @app.exception_handler(Refused)
    async def refused(request: Request, exc: Refused) -> Response:
        return error(request, 409, "Not possible", str(exc))

    @app.exception_handler(SignedOut)
    async def signed_out(request: Request, exc: SignedOut) -> Response:
        start = "/trainer/login" if exc.role == "trainer" else "/"
        if _wants_json(request):
            message = ("Your sign-in has ended. Sign in again; nothing is lost." if exc.role ==
                       "trainer" else "Your session has ended: your message was not sent. "
                       "Enter your code again on the start page; your conversation is kept.")  # fmt: skip
            return JSONResponse({"error": message, "signin": start}, status_code=401)
        return RedirectResponse(start, status_code=303)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> Response:
        errors = list(exc.errors())
        if any(e.get("loc", ("",))[0] == "path" for e in errors):  # a malformed or unknown id
            return error(request, 404, "Not found", "There is nothing here for you.")
        reasons = "; ".join(_explain(e) for e in errors)
        sending = request.url.path.endswith("/messages")
        message = ("Not sent: " if sending else "Not accepted: ") + reasons + "."
        return error(request, 422, "Not accepted", message)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        titles = {403: "Refused", 404: "Not found", 405: "Not possible"}
        message = exc.detail if exc.status_code == 403 else {
            404: "There is nothing here for you.", 405: "This page cannot be used that way.",
        }.get(exc.status_code, str(exc.detail))  # fmt: skip
        return error(request, exc.status_code, titles.get(exc.status_code, "Error"), message,
                     headers=getattr(exc, "headers", None))  # fmt: skip

    @app.get("/favicon.ico", include_in_schema=False)
    async def favicon() -> FileResponse:
        return FileResponse(str(static / "favicon.svg"), media_type="image/svg+xml")

    # --- candidates -----------------------------------------------------------------------

    @app.get("/", response_class=HTMLResponse)
    async def enter_page(request: Request) -> HTMLResponse:
        return page(request, "enter.html", error=None)

    @post("/enter")
    async def enter(request: Request, code: str = Form(..., max_length=64)) -> Response:
        address = _client(request)
        if wait := code_entry.retry_after(address):
            return slowed(request, code_entry, "enter.html", wait, "codes")
        found = service.candidate_by_code(code)
        if found is None:
            wait = code_entry.failed(address)
            later = f" Wait {max(1, round(wait + 0.49))} s before the next try." if wait else ""
            return page(request, "enter.html", status=401,
                        error="That code is not valid. Check it with your trainer." + later)  # fmt: skip
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
                "max_chars": MAX_MESSAGE_CHARS, "typical_s": service.replies.typical()}  # fmt: skip

    @app.get("/conversations/{conversation_id}", response_class=HTMLResponse)
    async def chat_page(request: Request, conversation_id: RowId) -> HTMLResponse:
        cid = candidate_id(request)
        row = await service.open_conversation(cid, conversation_id)
        return page(request, "chat.html", **chat_context(cid, row))

    @post("/conversations/{conversation_id}/messages")
    async def send(
        request: Request,
        conversation_id: RowId,
        text: str = Form(..., max_length=MAX_MESSAGE_CHARS),
    ) -> Response:
        row, added = await service.send(candidate_id(request), conversation_id, text)
        if _wants_json(request):
            return JSONResponse({"turns": candidate_turns(added),
                                 "ended": row["finished_at"] is not None,
                                 "typical_s": service.replies.typical()})  # fmt: skip
        return RedirectResponse(f"/conversations/{conversation_id}", status_code=303)

    @post("/conversations/{conversation_id}/finish")
    async def finish(request: Request, conversation_id: RowId) -> Response:
        await service.finish(candidate_id(request), conversation_id)
        return RedirectResponse("/exam", status_code=303)

    @app.get("/attempts/{attempt_id}", response_class=HTMLResponse)
    async def result_page(request: Request, attempt_id: RowId) -> HTMLResponse:
        cid = candidate_id(request)
        setup = service.exam_of(service.candidate(cid))
        attempt = next((a for a in service.attempts_of(cid) if a["id"] == attempt_id), None)
        if attempt is None or attempt["finished_at"] is None:
            raise NotFound(attempt_id)
        if not setup.exam.show_feedback:
            return page(request, "message.html", title="Attempt finished",
                        message="Your answers are with your trainer, who will tell you the result.")  # fmt: skip
        items = [(c, feedback(c["record"], setup.rubric)) for c in attempt["conversations"]]
        personas = {p.id: p for p in setup.personas}
        return page(request, "result.html", exam=setup.exam, attempt=attempt, items=items,
                    personas=personas)  # fmt: skip

    # --- trainers -------------------------------------------------------------------------

    @app.get("/trainer/login", response_class=HTMLResponse)
    async def login_page(request: Request) -> HTMLResponse:
        return page(request, "login.html", error=None)

    @post("/trainer/login")
    async def login(request: Request, token: str = Form(..., max_length=200)) -> Response:
        address = _client(request)
        if wait := sign_in.retry_after(address):
            return slowed(request, sign_in, "login.html", wait, "trainer tokens")
        if not hmac.compare_digest(token.encode(), trainer_token.encode()):
            wait = sign_in.failed(address)
            later = f" Wait {max(1, round(wait + 0.49))} s before the next try." if wait else ""
            return page(request, "login.html", status=401, error="Wrong trainer token." + later)
        return signed_in(
            RedirectResponse("/trainer", status_code=303), service.new_session("trainer")
        )

    @app.get("/trainer", response_class=HTMLResponse)
    async def exams_page(request: Request) -> HTMLResponse:
        trainer(request)
        rows = [service.exam_summary(exam_id) for exam_id in service.exams]
        return page(request, "trainer_exams.html", summaries=rows)

    def dashboard(request: Request, exam_id: str, new_codes: Any) -> HTMLResponse:
        summary = service.exam_summary(exam_id)
        criteria = summary["setup"].rubric.criteria
        picked = request.query_params.getlist("show")
        # the column form always sends `columns`, so that unticking every box shows none
        chosen = (
            [c for c in criteria if c.id in picked]
            if "columns" in request.query_params
            else list(criteria)
        )
        return page(request, "trainer_exam.html", summary=summary, new_codes=new_codes,
                    columns=chosen, criteria=criteria)  # fmt: skip

    @app.get("/trainer/exams/{exam_id}", response_class=HTMLResponse)
    async def exam_dashboard(request: Request, exam_id: ExamId) -> HTMLResponse:
        trainer(request)
        return dashboard(request, exam_id, None)

    @post("/trainer/exams/{exam_id}/codes", response_class=HTMLResponse)
    async def make_codes(
        request: Request,
        exam_id: ExamId,
        count: int = Form(1, ge=1, le=500),
        label: str = Form("", max_length=80),
    ) -> HTMLResponse:
        trainer(request)
        codes = service.create_codes(exam_id, count, label)
        return dashboard(request, exam_id, codes)

    @app.get("/trainer/exams/{exam_id}/results.csv")
    async def results_csv(request: Request, exam_id: ExamId) -> Response:
        trainer(request)
        return Response(service.results_csv(exam_id), media_type="text/csv",
                        headers={"Content-Disposition": f'attachment; filename="{exam_id}-results.csv"'})  # fmt: skip

    @app.get("/trainer/candidates/{cid}", response_class=HTMLResponse)
    async def candidate_page(request: Request, cid: RowId) -> HTMLResponse:
        trainer(request)
        candidate = service.candidate(cid)
        setup = service.exams.get(candidate["exam_id"])
        tries = service.attempts_of(cid)
        done = [c for a in tries for c in a["conversations"] if c["record"]]
        views = {c["id"]: episode_view(c["record"]) for c in done}
        reasons = {c["id"]: feedback(c["record"], setup.rubric) for c in done} if setup else {}
        return page(request, "trainer_candidate.html", candidate=candidate, setup=setup,
                    attempts=tries, views=views, reasons=reasons)  # fmt: skip

    return app
