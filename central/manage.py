"""The management page at ``/``: server-rendered HTML for the people who follow appeals (R10, R11).

Log in with the management token; a session cookie (random id, HttpOnly, SameSite=Strict, Secure
over TLS, 8 hours) keeps you in. The page lists appeals, newest first, with their R11 due time and
status, filtered by unit, operator, date and status; a queued forward can be marked as sent (a form
carrying the session's CSRF token); the same list downloads as CSV; and a chart shows line quality
across the fleet: the share of calls per unit and per local hour whose worst verdict was degraded
or worse.
"""

from __future__ import annotations

import asyncio
import csv
import hmac
import io
import re
import secrets
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from anyio import to_thread
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse
from starlette.routing import Route

from central.store import AppealFilter, Store, token_hash

COOKIE = "deskunit_session"
SESSION_S = 8 * 3600
PAGE_SIZE = 50
FAILED_LOGIN_DELAY_S = 1.0
STATUSES = ("queued", "sent", "none")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
CSV_COLUMNS = (
    "record_id", "unit", "operator", "ended_at", "kind", "full_name", "residence", "essence", "phone", "email",
    "forward_to", "due_at", "status", "sent_at",
)  # fmt: skip


@dataclass
class _Session:
    expires: float
    csrf: str


def _filters(params: Any) -> tuple[AppealFilter, list[str]]:
    """The filter form's values; what is malformed is dropped and named in the returned notes."""
    notes = []
    values: dict[str, str | None] = {}
    for key in ("unit", "operator"):
        values[key] = (params.get(key) or "").strip()[:100] or None
    for key in ("date_from", "date_to"):
        text = (params.get(key) or "").strip()
        if text and not _DATE.fullmatch(text):
            notes.append(f"{key}: use YYYY-MM-DD")
            text = ""
        values[key] = text or None
    status = params.get("status") or None
    if status and status not in STATUSES:
        notes.append(f"status: one of {', '.join(STATUSES)}")
        status = None
    values["status"] = status
    return AppealFilter(**values), notes


def _bars(rows: list[dict[str, Any]], label: Callable[[dict[str, Any]], str], width: int = 640) -> dict[str, Any]:
    """Geometry of a horizontal bar chart of bad-line shares, drawn as inline SVG by the template."""
    bar_h, gap, left = 18, 6, 110
    bars = []
    for i, row in enumerate(rows):
        share = row["bad"] / row["calls"] if row["calls"] else 0.0
        bars.append(
            {
                "label": label(row),
                "y": i * (bar_h + gap),
                "w": round(share * (width - left - 120), 1),
                "share": share,
                "calls": row["calls"],
                "bad": row["bad"],
            }
        )
    return {"bars": bars, "height": max(1, len(rows)) * (bar_h + gap), "width": width, "left": left, "bar_h": bar_h}


class ManagementPage:
    """The routes of the management page and its in-memory sessions."""

    def __init__(
        self,
        store: Store,
        admin_token: str,
        clock: Callable[[], float] = time.time,
        tz: str = "Europe/Kyiv",
        secure_cookies: bool = False,
    ) -> None:
        self.store = store
        self._admin_hash = token_hash(admin_token)
        self._clock = clock
        self.tz = ZoneInfo(tz)
        self._secure = secure_cookies
        self._sessions: dict[str, _Session] = {}
        self._templates = Environment(
            loader=FileSystemLoader(Path(__file__).with_name("templates")),
            autoescape=select_autoescape(default=True),
        )

    def routes(self) -> list[Route]:
        return [
            Route("/", self.index, methods=["GET"]),
            Route("/login", self.login_form, methods=["GET"]),
            Route("/login", self.login, methods=["POST"]),
            Route("/logout", self.logout, methods=["POST"]),
            Route("/forwards/{record_id}/sent", self.mark_sent, methods=["POST"]),
            Route("/appeals.csv", self.export, methods=["GET"]),
        ]

    # --- sessions --------------------------------------------------------------------------------
    def _session(self, request: Request) -> _Session | None:
        sid = request.cookies.get(COOKIE)
        session = self._sessions.get(sid or "")
        if session is None:
            return None
        if session.expires < time.monotonic():
            self._sessions.pop(sid or "", None)
            return None
        return session

    def _render(self, name: str, status: int = 200, **context: Any) -> HTMLResponse:
        html = self._templates.get_template(name).render(**context)
        return HTMLResponse(html, status, headers={"Cache-Control": "no-store", "X-Frame-Options": "DENY"})

    async def login_form(self, request: Request) -> Response:
        return self._render("login.html", error=None)

    async def login(self, request: Request) -> Response:
        form = await request.form(max_files=0, max_fields=4, max_part_size=4096)
        token = str(form.get("token") or "")
        if not hmac.compare_digest(token_hash(token), self._admin_hash):
            await asyncio.sleep(FAILED_LOGIN_DELAY_S)  # slows down guessing; the token is long anyway
            return self._render("login.html", 401, error="That is not the management token.")
        now = time.monotonic()
        for sid in [s for s, v in self._sessions.items() if v.expires < now]:
            del self._sessions[sid]
        sid = secrets.token_urlsafe(32)
        self._sessions[sid] = _Session(now + SESSION_S, secrets.token_urlsafe(16))
        response = RedirectResponse("/", 303)
        response.set_cookie(
            COOKIE, sid, max_age=SESSION_S, httponly=True, samesite="strict", secure=self._secure, path="/"
        )
        return response

    async def logout(self, request: Request) -> Response:
        self._sessions.pop(request.cookies.get(COOKIE) or "", None)
        response = RedirectResponse("/login", 303)
        response.delete_cookie(COOKIE, path="/")
        return response

    # --- pages -----------------------------------------------------------------------------------
    async def index(self, request: Request) -> Response:
        session = self._session(request)
        if session is None:
            return RedirectResponse("/login", 303)
        where, notes = _filters(request.query_params)
        try:
            page = max(1, min(10_000, int(request.query_params.get("page") or 1)))
        except ValueError:
            page = 1
        rows = await to_thread.run_sync(self.store.appeals, where, PAGE_SIZE + 1, (page - 1) * PAGE_SIZE)
        quality = await to_thread.run_sync(self.store.line_quality, where.date_from, where.date_to)
        now = datetime.fromtimestamp(self._clock(), self.tz)
        for row in rows:
            row["overdue"] = row["status"] == "queued" and row["due_at"] is not None and row["due_at"] <= now
            row["due_local"] = row["due_at"].astimezone(self.tz).strftime("%Y-%m-%d %H:%M") if row["due_at"] else ""
        query = {k: v for k, v in vars(where).items() if v}
        return self._render(
            "manage.html",
            rows=rows[:PAGE_SIZE],
            page=page,
            more=len(rows) > PAGE_SIZE,
            where=where,
            notes=notes,
            statuses=STATUSES,
            csrf=session.csrf,
            query=urlencode(query),
            back="/?" + urlencode({**query, "page": page}),
            now=now.strftime("%Y-%m-%d %H:%M"),
            units_chart=_bars(quality["units"], lambda r: r["unit"]),
            hours_chart=_bars(quality["hours"], lambda r: f"{r['hour']:02d}:00"),
        )

    async def mark_sent(self, request: Request) -> Response:
        session = self._session(request)
        if session is None:
            return RedirectResponse("/login", 303)
        form = await request.form(max_files=0, max_fields=4, max_part_size=4096)
        if not hmac.compare_digest(str(form.get("csrf") or ""), session.csrf):
            return HTMLResponse("stale form: reload the page", 403)
        try:
            rid = str(uuid.UUID(request.path_params["record_id"]))
        except ValueError:
            return HTMLResponse("not a record id", 400)
        now = datetime.fromtimestamp(self._clock(), self.tz)
        row = await to_thread.run_sync(self.store.mark_forward_sent, rid, now)
        if row is None:
            return HTMLResponse("no forward for this record", 404)
        back = str(form.get("back") or "/")
        return RedirectResponse(back if back.startswith("/?") or back == "/" else "/", 303)

    async def export(self, request: Request) -> Response:
        if self._session(request) is None:
            return RedirectResponse("/login", 303)
        where, _notes = _filters(request.query_params)
        batches = self._batches(where)

        async def lines() -> Any:
            out = io.StringIO()
            writer = csv.writer(out)
            writer.writerow(CSV_COLUMNS)
            while True:
                rows = await to_thread.run_sync(next, batches, None)
                if rows is None:
                    break
                for row in rows:
                    appeal = row["appeal"]
                    writer.writerow(
                        [row["record_id"], row["unit"], row["operator"], row["ended_at"], appeal.get("kind"),
                         appeal.get("full_name"), appeal.get("residence"), appeal.get("essence"), appeal.get("phone"),
                         appeal.get("email"), row["forward_to"] or "",
                         row["due_at"].isoformat() if row["due_at"] else "", row["status"], row["sent_at"] or ""]
                    )  # fmt: skip
                yield out.getvalue()
                out.seek(0)
                out.truncate()
            yield out.getvalue()

        stamp = datetime.fromtimestamp(self._clock(), self.tz).strftime("%Y%m%d-%H%M")
        return StreamingResponse(
            lines(),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="appeals-{stamp}.csv"', "Cache-Control": "no-store"},
        )

    def _batches(self, where: AppealFilter) -> Iterator[list[dict[str, Any]]]:
        before = None
        while True:
            rows = self.store.appeals(where, 1000, before=before)
            if not rows:
                return
            yield rows
            before = rows[-1]["seq"]
