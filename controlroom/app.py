"""The control room's web application (FastAPI, server-rendered Jinja2 pages, a small script for live progress).

Every page needs a session; every POST needs the session's CSRF token; administration pages need `quan_tri`.
Runs are started, followed and cancelled through the engine (`controlroom.engine.RunManager`); their results
are read from the run directory and the run history, never from live servers.
"""

from __future__ import annotations

import json
import mimetypes
import os
import re
import secrets
import sqlite3
from contextlib import asynccontextmanager, closing
from datetime import date, datetime, time as dtime
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, FileSystemLoader, select_autoescape

from controlroom import auth, db
from controlroom.i18n import CHECKS, LANG_COOKIE, LANGUAGES, RUN_STATES, VERDICTS, translator
from kiemthu.logs import redact
from kiemthu.runtime import DEFAULT_OUT, REPO_ROOT, VN_TZ
from kiemthu.workdays import deadline_status

HERE = Path(__file__).resolve().parent
DEMO_TARGET = REPO_ROOT / "examples" / "ministry" / "target.yaml"
DEFAULT_DB = DEFAULT_OUT / "controlroom.sqlite"
ALL_CHECKS = ("sso", "submission", "payment", "processing")
PARALLEL = ("auto", "0", "2", "4")  # the start form's choices of services side by side (`kiemthu run --workers`)
ACTIVE_STATES = ("queued", "running")
RUNS_SHOWN = 30  # runs listed on a campaign page unless the officer asks for all of them
DOCUMENTS = ("report.pdf", "report.xlsx", "report.html", "allure-report.html")
SHOWN_TEXT_LIMIT = 20_000  # characters of a journal slice or validation file shown inline
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
                               "object-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}
ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


class LoginRequired(Exception):
    pass


# --- targets and their services ----------------------------------------------------------------------------------

def target_services(path: Path) -> list[dict[str, Any]]:
    """The services a target file lists (scenario id, codes, names, checks), read without its secrets."""
    from scenarios import ROOT as SCENARIOS
    from scenarios import load_scenario

    data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    out = []
    for svc in data.get("services") or []:
        here = Path(path).parent / svc["scenario"]
        scenario = load_scenario(here if here.exists() else SCENARIOS / svc["scenario"])
        out.append({"id": scenario["id"], "MaTTHC": scenario.get("MaTTHC"), "TenTTHC": scenario.get("TenTTHC"),
                    "MaDVC": scenario.get("MaDVC"), "TenDVC": scenario.get("TenDVC"),
                    "checks": svc.get("checks") or list(ALL_CHECKS)})
    return out


def ensure_demo_target(conn: sqlite3.Connection) -> None:
    if db.target(conn, "demo") is None and DEMO_TARGET.is_file():
        db.add_target(conn, "demo", "Hệ thống tham chiếu Bộ Tư pháp (demo)", DEMO_TARGET, demo=True)


@lru_cache(maxsize=1)
def _defect_catalogue() -> tuple[dict[str, Any], ...]:
    from kiemthu.demo import list_defects

    return tuple(list_defects())


def demo_defects() -> list[dict[str, Any]]:
    """The reference system's defect catalogue, asked of it once per server (it is a process to start)."""
    try:
        return list(_defect_catalogue())
    except Exception:  # the list is a convenience of the form; a run still starts without it
        return []


# --- a campaign's state, per service -----------------------------------------------------------------------------

def failed_checks(verdicts: dict[str, str], which: tuple[str, ...] = ("failed", "error")) -> list[str]:
    return [c for c in ALL_CHECKS if verdicts.get(c) in which]


def service_states(conn: sqlite3.Connection, services: list[sqlite3.Row], runs: list[Any]) -> list[dict[str, Any]]:
    """One row per service: not run / queued / running / failed (which checks) / passed (code) / submitted."""
    rows = db.history_rows(conn, [str(r.run_dir) for r in runs if r.run_dir and r.state not in ACTIVE_STATES])
    by_dir = {str(r.run_dir): r.id for r in runs if r.run_dir}
    out = []
    for svc in services:
        sid = svc["service_id"]
        mine = [r for r in rows if r["service_id"] == sid]
        latest = mine[0] if mine else None
        passing = next((r for r in mine if r["completed"]), None)
        active = next((r for r in runs if r.state in ACTIVE_STATES and (not r.services or sid in r.services)), None)
        state: dict[str, Any] = {"id": sid, "ma_dvc": svc["ma_dvc"], "ten_dvc": svc["ten_dvc"], "codes": [],
                                 "failed": [], "run_id": None}
        if svc["submitted_at"]:
            state.update(status="submitted", codes=json.loads(svc["submitted_codes_json"] or "[]"),
                         run_id=svc["submitted_run_id"])
        elif active is not None:
            state.update(status=active.state, room_run=active.id)
        elif latest is None:
            state.update(status="not_run")
        elif latest["completed"]:
            state.update(status="passed", codes=json.loads(latest["dossier_codes_json"]), run_id=latest["run_id"])
        else:
            verdicts = json.loads(latest["verdicts_json"])
            failed = failed_checks(verdicts)
            # nothing failed, but some check was not run or not concluded: the service is not done yet
            state.update(status="failed" if failed else "partial", run_id=latest["run_id"],
                         failed=failed or failed_checks(verdicts, ("inconclusive", "not_evaluated", "skipped")))
        if passing is not None and state["status"] == "failed":
            state["passing_codes"] = json.loads(passing["dossier_codes_json"])
        source = passing if state["status"] == "passed" else latest
        if source is not None and "room_run" not in state:
            state["room_run"] = by_dir.get(source["run_dir"])
        out.append(state)
    return out


def deadline_info(publication: str) -> dict[str, Any]:
    status = deadline_status(publication, datetime.now(VN_TZ).date())
    end = datetime.combine(status.deadline, dtime(23, 59, 59), VN_TZ)
    return {"deadline": status.deadline, "days_left": status.days_left, "overdue": status.overdue,
            "deadline_iso": end.isoformat()}


def submission_rows(conn: sqlite3.Connection, campaign_id: str, runs: list[Any]) -> list[dict[str, Any]]:
    """Per service of the campaign, its latest passing run in this campaign (services may come from several runs)."""
    rows = db.history_rows(conn, [str(r.run_dir) for r in runs if r.run_dir and r.state not in ACTIVE_STATES],
                           full=True)
    out = []
    for svc in db.campaign_services(conn, campaign_id):
        passing = next((r for r in rows if r["service_id"] == svc["service_id"] and r["completed"]), None)
        out.append({"service": svc, "row": passing,
                    "codes": json.loads(passing["dossier_codes_json"]) if passing else []})
    return out


# --- reading a run -----------------------------------------------------------------------------------------------

def read_text_file(path: Path) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    return redact(text[:SHOWN_TEXT_LIMIT] + ("\n…" if len(text) > SHOWN_TEXT_LIMIT else ""))


def run_results(run_dir: Path | None, selected: list[str] | None = None) -> dict[str, Any] | None:
    """The run's summary shaped for the page: per service, per check, every rule; failures with their evidence."""
    if run_dir is None or not (Path(run_dir) / "summary.json").is_file():
        return None
    run_dir = Path(run_dir)
    try:
        summary = json.loads((run_dir / "summary.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    services = []
    for svc in summary.get("services", []):
        checks = []
        for name in ALL_CHECKS:
            check = (svc.get("checks") or {}).get(name)
            if not check or (selected and name not in selected):  # a check this run did not play says nothing
                continue
            evidence = [e for e in check.get("evidence") or [] if inside(run_dir, e)]
            shots = [e for e in evidence if e.endswith(".png")]
            failing = check.get("verdict") in ("failed", "error", "inconclusive")
            extra = {}
            if failing:
                extra = {
                    "validation": "\n".join(read_text_file(run_dir / e) for e in evidence
                                            if Path(e).name.startswith("validation")),
                    "journal": "\n".join(read_text_file(run_dir / e) for e in evidence
                                         if Path(e).name.startswith("journal") and e.endswith(".json")),
                    "trace": next((e for e in evidence if e.endswith("trace.zip")), None),
                }
            rules = []
            for r in check.get("rules") or []:
                where = r.get("where") or ""
                rules.append({**r, "shot": where if where.endswith(".png") and inside(run_dir, where) else None,
                              "message": redact(str(r.get("note") or r.get("message") or "")),
                              "actual_text": redact(json.dumps(r["actual"], ensure_ascii=False))
                              if "actual" in r else ""})
            checks.append({"name": name, "verdict": check.get("verdict"), "reason": redact(check.get("reason", "")),
                           "rules": rules, "shots": shots, "failing": failing, "files": evidence, **extra})
        services.append({**svc, "check_list": checks})
    documents = [n for n in DOCUMENTS if (run_dir / n).is_file()]
    return {"summary": summary, "services": services, "documents": documents,
            "manifest": (run_dir / "manifest.json").is_file()}


def inside(base: Path, rel: str) -> Path | None:
    """`rel` resolved inside `base`, or None (a `..`, an absolute path or a link out of the folder)."""
    if not rel or "\x00" in rel:
        return None
    base = Path(base).resolve()
    try:
        path = (base / rel).resolve()
    except (OSError, ValueError):
        return None
    return path if path.is_relative_to(base) and path != base else None


def send_file(base: Path, rel: str) -> Response:
    """A file of a run folder; documents as downloads (an HTML report never runs in our origin), images and text
    inline, sandboxed."""
    path = inside(base, rel)
    if path is None or not path.is_file():
        raise HTTPException(404, "Không có tệp này / no such file")
    kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    inline = kind in ("image/png", "image/jpeg", "text/plain", "application/json")
    return FileResponse(path, media_type=kind, filename=path.name,
                        content_disposition_type="inline" if inline else "attachment",
                        headers={"X-Content-Type-Options": "nosniff", "Content-Security-Policy": "sandbox"})


# --- the application ---------------------------------------------------------------------------------------------

def create_app(db_path: Path = DEFAULT_DB, runs_root: Path | None = None, manager: Any = None) -> FastAPI:
    db_path = Path(db_path).resolve()
    runs_root = Path(runs_root or db_path.parent / "runs").resolve()
    runs_root.mkdir(parents=True, exist_ok=True)
    with closing(db.connect(db_path)) as conn:
        ensure_demo_target(conn)

    if manager is None:
        from controlroom.engine import RunManager

        manager = RunManager(db_path, runs_root)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        manager.recover()
        try:
            yield
        finally:
            manager.shutdown()

    app = FastAPI(title="kiemthu control room", lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None)
    app.state.manager = manager
    app.state.db_path = db_path
    app.state.runs_root = runs_root
    app.mount("/tinh", StaticFiles(directory=HERE / "static"), name="static")
    env = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape(["html"]))
    env.filters["masked"] = lambda text: redact(str(text or ""))
    env.filters["when"] = when

    def conn() -> sqlite3.Connection:
        return db.connect(db_path)

    def lang_of(request: Request) -> str:
        lang = request.cookies.get(LANG_COOKIE, "vi")
        return lang if lang in LANGUAGES else "vi"

    def page(request: Request, name: str, user: auth.User | None, status: int = 200, **ctx: Any) -> HTMLResponse:
        lang = lang_of(request)
        t, word = translator(lang)
        live_words = json.dumps({"verdicts": {k: word(VERDICTS, k) for k in VERDICTS},
                                 "checks": {k: word(CHECKS, k) for k in CHECKS}}, ensure_ascii=False)
        html = env.get_template(name).render(
            request=request, user=user, lang=lang, t=t, live_words=live_words, state_word=lambda s: word(RUN_STATES, s),
            verdict_word=lambda v: word(VERDICTS, v), check_word=lambda c: word(CHECKS, c), **ctx)
        return HTMLResponse(html, status_code=status)

    def current(request: Request) -> auth.User:
        with closing(conn()) as c:
            user = auth.session_user(c, request.cookies.get(auth.SESSION_COOKIE))
        if user is None:
            raise LoginRequired()
        return user

    async def posted(request: Request) -> tuple[auth.User, dict[str, str]]:
        """The signed-in user and the form of a POST that carries the session's CSRF token."""
        user = current(request)
        form = {k: v for k, v in (await request.form()).multi_items() if isinstance(v, str)}
        given = form.get("csrf") or request.headers.get("x-csrf-token")
        if not auth.csrf_matches(user.csrf, given):
            raise HTTPException(403, "Thiếu hoặc sai mã chống giả mạo (CSRF) / missing or wrong CSRF token")
        return user, form

    async def posted_multi(request: Request) -> tuple[auth.User, Any]:
        user = current(request)
        form = await request.form()
        if not auth.csrf_matches(user.csrf, form.get("csrf") or request.headers.get("x-csrf-token")):
            raise HTTPException(403, "Thiếu hoặc sai mã chống giả mạo (CSRF) / missing or wrong CSRF token")
        return user, form

    def require_admin(user: auth.User) -> None:
        if not user.is_admin:
            raise HTTPException(403, "Chỉ quản trị viên / administrators only")

    def campaign_or_404(c: sqlite3.Connection, campaign_id: str) -> sqlite3.Row:
        row = db.campaign(c, campaign_id)
        if row is None:
            raise HTTPException(404, "Không có đợt kiểm thử này / no such campaign")
        return row

    def run_or_404(run_id: str):
        if not ID.match(run_id):
            raise HTTPException(404, "Không có lần chạy này / no such run")
        try:
            return manager.get(run_id)
        except LookupError:
            raise HTTPException(404, "Không có lần chạy này / no such run")

    def runs_of(campaign_id: str) -> list[Any]:
        return sorted(manager.list(campaign_id), key=lambda r: str(r.started_at or ""), reverse=True)

    @app.exception_handler(LoginRequired)
    async def to_login(request: Request, exc: LoginRequired):
        if request.method == "GET" and "application/json" not in request.headers.get("accept", ""):
            return RedirectResponse(f"/dang-nhap?tiep={request.url.path}", 303)
        return JSONResponse({"error": "Cần đăng nhập / login required"}, 401)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException):
        if "text/html" in request.headers.get("accept", "") and request.method == "GET":
            try:
                user = current(request)
            except LoginRequired:
                user = None
            return page(request, "error.html", user, status=exc.status_code, message=str(exc.detail))
        return JSONResponse({"error": str(exc.detail)}, exc.status_code)

    @app.middleware("http")
    async def security_headers(request: Request, call_next):
        response = await call_next(request)
        for k, v in SECURITY_HEADERS.items():
            response.headers.setdefault(k, v)
        return response

    def audit(user: auth.User | None, action: str, **detail: Any) -> None:
        with closing(conn()) as c:
            db.audit(c, user.username if user else None, action, **detail)

    # --- health, language, login --------------------------------------------------------------------------------

    @app.get("/suc-khoe")
    def health():
        return {"status": "ok"}

    @app.get("/ngon-ngu/{lang}")
    def switch_language(lang: str, tiep: str = "/"):
        if lang not in LANGUAGES:
            raise HTTPException(404, f"ngôn ngữ / language: vi hoặc en — giá trị '{lang}'")
        target = tiep if tiep.startswith("/") and not tiep.startswith("//") else "/"
        response = RedirectResponse(target, 303)
        response.set_cookie(LANG_COOKIE, lang, max_age=365 * 86400, samesite="strict", httponly=True)
        return response

    def safe_next(value: str | None) -> str:
        return value if value and value.startswith("/") and not value.startswith("//") else "/"

    @app.get("/dang-nhap", response_class=HTMLResponse)
    def login_page(request: Request, tiep: str = "/"):
        token = secrets.token_urlsafe(24)
        response = page(request, "login.html", None, csrf=token, next=safe_next(tiep), failed=False)
        response.set_cookie(auth.LOGIN_CSRF_COOKIE, token, httponly=True, samesite="strict", path="/dang-nhap")
        return response

    @app.post("/dang-nhap")
    async def login(request: Request):
        form = await request.form()
        if not auth.csrf_matches(request.cookies.get(auth.LOGIN_CSRF_COOKIE), form.get("csrf")):
            raise HTTPException(403, "Thiếu hoặc sai mã chống giả mạo (CSRF) / missing or wrong CSRF token")
        username = str(form.get("username", "")).strip()
        with closing(conn()) as c:
            user = auth.authenticate(c, username, str(form.get("password", "")))
            db.audit(c, username or None, "login" if user else "login_failed")
            if user is None:
                token = secrets.token_urlsafe(24)
                response = page(request, "login.html", None, status=401, csrf=token, failed=True,
                                next=safe_next(str(form.get("tiep", "/"))))
                response.set_cookie(auth.LOGIN_CSRF_COOKIE, token, httponly=True, samesite="strict", path="/dang-nhap")
                return response
            token = auth.open_session(c, user)
        response = RedirectResponse(safe_next(str(form.get("tiep", "/"))), 303)
        response.set_cookie(auth.SESSION_COOKIE, token, httponly=True, samesite="strict",
                            max_age=auth.SESSION_HOURS * 3600, secure=request.url.scheme == "https")
        response.delete_cookie(auth.LOGIN_CSRF_COOKIE, path="/dang-nhap")
        return response

    @app.post("/dang-xuat")
    async def logout(request: Request):
        user, _ = await posted(request)
        with closing(conn()) as c:
            auth.close_session(c, request.cookies.get(auth.SESSION_COOKIE))
            db.audit(c, user.username, "logout")
        response = RedirectResponse("/dang-nhap", 303)
        response.delete_cookie(auth.SESSION_COOKIE)
        return response

    # --- campaigns ----------------------------------------------------------------------------------------------

    @app.get("/", response_class=HTMLResponse)
    def home(request: Request):
        user = current(request)
        with closing(conn()) as c:
            items = []
            for camp in db.campaigns(c):
                runs = runs_of(camp["id"])
                items.append({"c": camp, "d": deadline_info(camp["publication_date"]),
                              "services": service_states(c, db.campaign_services(c, camp["id"]), runs)})
            targets = db.targets(c)
        return page(request, "home.html", user, campaigns=items, targets=targets,
                    today=datetime.now(VN_TZ).date().isoformat())

    @app.post("/chien-dich")
    async def create_campaign(request: Request):
        user, form = await posted(request)
        name = form.get("name", "").strip()
        try:
            publication = date.fromisoformat(form.get("publication_date", ""))
        except ValueError:
            raise HTTPException(400, f"Ngày công khai / publication_date: dạng YYYY-MM-DD — giá trị "
                                     f"'{form.get('publication_date', '')}'")
        if not name or len(name) > 200:
            raise HTTPException(400, f"Tên đợt / name: 1–200 ký tự — giá trị '{name[:40]}'")
        with closing(conn()) as c:
            tgt = db.target(c, form.get("target_id", ""))
            if tgt is None:
                raise HTTPException(400, f"Hệ thống / target_id: phải là một hệ thống đã đăng ký — giá trị "
                                         f"'{form.get('target_id', '')}'")
            services = target_services(Path(tgt["path"]))
            campaign_id = f"{publication:%Y%m%d}-{secrets.token_hex(3)}"
            db.add_campaign(c, campaign_id, name, tgt["id"], publication, services, user.username)
            db.audit(c, user.username, "campaign_created", campaign=campaign_id, target=tgt["id"],
                     publication_date=publication.isoformat())
        return RedirectResponse(f"/chien-dich/{campaign_id}", 303)

    @app.get("/chien-dich/{campaign_id}", response_class=HTMLResponse)
    def campaign_page(request: Request, campaign_id: str, tat_ca: int = 0):
        user = current(request)
        with closing(conn()) as c:
            camp = campaign_or_404(c, campaign_id)
            runs = runs_of(campaign_id)
            services = service_states(c, db.campaign_services(c, campaign_id), runs)
        defects = demo_defects() if camp["target_demo"] else []
        from controlroom.engine import target_officer_by_hand

        return page(request, "campaign.html", user, c=camp, d=deadline_info(camp["publication_date"]),
                    services=services, runs=runs if tat_ca else runs[:RUNS_SHOWN], all_runs=len(runs),
                    checks=ALL_CHECKS, defects=defects, by_hand=target_officer_by_hand(Path(camp["target_path"])),
                    cores=os.cpu_count() or 1)

    @app.post("/chien-dich/{campaign_id}/chay")
    async def start_run(request: Request, campaign_id: str):
        user, form = await posted_multi(request)
        with closing(conn()) as c:
            camp = campaign_or_404(c, campaign_id)
            known = [s["service_id"] for s in db.campaign_services(c, campaign_id)]
        services = [str(s) for s in form.getlist("service")]
        checks = [str(s) for s in form.getlist("check")]
        defects = tuple(str(s) for s in form.getlist("defect")) if camp["target_demo"] else ()
        bad = [s for s in services if s not in known] + [ch for ch in checks if ch not in ALL_CHECKS]
        if bad:
            raise HTTPException(400, f"service/check: phải thuộc đợt kiểm thử / must belong to the campaign — "
                                     f"giá trị {', '.join(bad)}")
        workers = str(form.get("workers", "0")).strip()
        if workers not in PARALLEL:
            raise HTTPException(400, f"workers: phải là một trong {', '.join(PARALLEL)} / must be one of them — "
                                     f"giá trị '{workers[:40]}'")
        from controlroom.engine import RunRefused

        try:
            run_id = manager.start(campaign_id=campaign_id, target=Path(camp["target_path"]),
                                   services=services if set(services) != set(known) else [],
                                   checks=checks if set(checks) != set(ALL_CHECKS) else [],
                                   started_by=user.username, defects=defects,
                                   environment={"KIEMTHU_PUBLICATION_DATE": camp["publication_date"]},
                                   workers=workers)
        except RunRefused as exc:
            audit(user, "run_refused", campaign=campaign_id, reason=exc.message)
            raise HTTPException(409, exc.message)
        audit(user, "run_started", campaign=campaign_id, run=run_id, services=services, checks=checks,
              defects=list(defects), workers=workers)
        return RedirectResponse(f"/lan-chay/{run_id}", 303)

    # --- runs ---------------------------------------------------------------------------------------------------

    @app.get("/lan-chay/{run_id}", response_class=HTMLResponse)
    def run_page(request: Request, run_id: str):
        user = current(request)
        run = run_or_404(run_id)
        with closing(conn()) as c:
            camp = db.campaign(c, run.campaign_id)
        events = manager.progress(run_id, 0)
        return page(request, "run.html", user, run=run, c=camp, events=events, board=board_of(events),
                    prompts=manager.prompts(run_id), active=run.state in ACTIVE_STATES,
                    results=None if run.state in ACTIVE_STATES else run_results(run.run_dir, run.checks),
                    checked=None)

    @app.get("/lan-chay/{run_id}/tien-do")
    def run_progress(request: Request, run_id: str, after: int = 0):
        current(request)
        run = run_or_404(run_id)
        events = manager.progress(run_id, after)
        return JSONResponse({
            "state": run.state, "state_word": translator(lang_of(request))[1](RUN_STATES, run.state),
            "active": run.state in ACTIVE_STATES,
            "events": [json.loads(redact(json.dumps(e, ensure_ascii=False, default=str))) for e in events],
            "prompts": [{"id": p.id, "service_id": p.service_id, "dossier_code": p.dossier_code,
                         "instruction": redact(p.instruction), "deadline": when(p.deadline)}
                        for p in manager.prompts(run_id)],
        })

    @app.post("/lan-chay/{run_id}/huy")
    async def cancel_run(request: Request, run_id: str):
        user, _ = await posted(request)
        run_or_404(run_id)
        manager.cancel(run_id, by=user.username)
        audit(user, "run_cancelled", run=run_id)
        return RedirectResponse(f"/lan-chay/{run_id}", 303)

    @app.post("/lan-chay/{run_id}/nhac/{prompt_id}")
    async def answer_prompt(request: Request, run_id: str, prompt_id: str):
        user, _ = await posted(request)
        run_or_404(run_id)
        if not ID.match(prompt_id):
            raise HTTPException(404, "Không có việc này / no such prompt")
        from controlroom.engine import PromptNotOpen

        try:
            manager.answer(run_id, prompt_id, by=user.username)
        except PromptNotOpen as exc:
            raise HTTPException(409, exc.message)
        audit(user, "prompt_answered", run=run_id, prompt=prompt_id)
        return RedirectResponse(f"/lan-chay/{run_id}", 303)

    @app.get("/lan-chay/{run_id}/tep/{rel:path}")
    def run_file(request: Request, run_id: str, rel: str):
        user = current(request)
        run = run_or_404(run_id)
        if not run.run_dir:
            raise HTTPException(404, "Không có tệp này / no such file")
        response = send_file(Path(run.run_dir), rel)
        if Path(rel).name in DOCUMENTS:  # the documents handed on; not every screenshot the page shows
            audit(user, "file_downloaded", run=run_id, file=rel)
        return response

    @app.post("/lan-chay/{run_id}/kiem-tra", response_class=HTMLResponse)
    async def verify_run(request: Request, run_id: str):
        user, _ = await posted(request)
        run = run_or_404(run_id)
        from reports.manifest import verify

        problems = [redact(p) for p in verify(Path(run.run_dir))] if run.run_dir else ["no run directory"]
        audit(user, "manifest_verified", run=run_id, intact=not problems)
        events = manager.progress(run_id, 0)
        return page(request, "run.html", user, run=run, c=None, events=events, board=board_of(events),
                    prompts=manager.prompts(run_id), active=run.state in ACTIVE_STATES,
                    results=run_results(run.run_dir, run.checks), checked={"problems": problems})

    # --- submission ---------------------------------------------------------------------------------------------

    def submission_dir(campaign_id: str) -> Path:
        return runs_root / f"submission-{campaign_id}"

    @app.get("/chien-dich/{campaign_id}/nop", response_class=HTMLResponse)
    def submission_page(request: Request, campaign_id: str):
        user = current(request)
        with closing(conn()) as c:
            camp = campaign_or_404(c, campaign_id)
            rows = submission_rows(c, campaign_id, runs_of(campaign_id))
        out = submission_dir(campaign_id)
        built = [n for n in ("report.pdf", "report.xlsx") if (out / n).is_file()]
        return page(request, "submission.html", user, c=camp, rows=rows, built=built,
                    ready=any(r["row"] for r in rows))

    @app.post("/chien-dich/{campaign_id}/nop/lap")
    async def build_submission(request: Request, campaign_id: str):
        user, _ = await posted(request)
        from reports.history import assemble_summary, later_failures, write_sources
        from reports.build import build_documents
        from reports.manifest import write_manifest
        from reports.model import run_from_summary

        with closing(conn()) as c:
            campaign_or_404(c, campaign_id)
            rows = [r["row"] for r in submission_rows(c, campaign_id, runs_of(campaign_id)) if r["row"]]
            if not rows:
                raise HTTPException(409, "Chưa có dịch vụ nào đạt / no service has passed yet")
            later = {r["service_id"]: later_failures(c, r) for r in rows}
        out = submission_dir(campaign_id)
        out.mkdir(parents=True, exist_ok=True)
        summary = assemble_summary(rows, later)
        result = build_documents(run_from_summary(summary, out), out, "vi")
        write_sources(out, rows)
        write_manifest(out)
        audit(user, "submission_built", campaign=campaign_id, runs=sorted({r["run_id"] for r in rows}),
              failed=result.failed)
        return RedirectResponse(f"/chien-dich/{campaign_id}/nop", 303)

    @app.get("/chien-dich/{campaign_id}/nop/tep/{name}")
    def submission_file(request: Request, campaign_id: str, name: str):
        user = current(request)
        with closing(conn()) as c:
            campaign_or_404(c, campaign_id)
        if name not in ("report.pdf", "report.xlsx", "submission.json"):
            raise HTTPException(404, "Không có tệp này / no such file")
        audit(user, "file_downloaded", campaign=campaign_id, file=name)
        return send_file(submission_dir(campaign_id), name)

    @app.post("/chien-dich/{campaign_id}/nop/danh-dau")
    async def mark_submitted(request: Request, campaign_id: str):
        user, _ = await posted(request)
        sources_path = submission_dir(campaign_id) / "submission.json"
        with closing(conn()) as c:
            campaign_or_404(c, campaign_id)
            if not sources_path.is_file():
                raise HTTPException(409, "Cần lập bản tổng hợp trước / build the summary first")
            sources = json.loads(sources_path.read_text(encoding="utf-8"))["services"]
            db.mark_submitted(c, campaign_id, user.username, sources)
            db.audit(c, user.username, "campaign_submitted", campaign=campaign_id,
                     services=[s["service"] for s in sources])
        return RedirectResponse(f"/chien-dich/{campaign_id}/nop", 303)

    # --- administration -----------------------------------------------------------------------------------------

    @app.get("/quan-tri/tai-khoan", response_class=HTMLResponse)
    def accounts_page(request: Request):
        user = current(request)
        require_admin(user)
        with closing(conn()) as c:
            return page(request, "accounts.html", user, users=auth.users(c), roles=auth.ROLES, problem=None)

    @app.post("/quan-tri/tai-khoan", response_class=HTMLResponse)
    async def add_account(request: Request):
        user, form = await posted(request)
        require_admin(user)
        with closing(conn()) as c:
            try:
                auth.add_user(c, form.get("username", "").strip(), form.get("password", ""), form.get("role", ""),
                              form.get("full_name", "").strip())
            except auth.AccountError as exc:
                return page(request, "accounts.html", user, status=400, users=auth.users(c), roles=auth.ROLES,
                            problem=str(exc))
            db.audit(c, user.username, "account_added", account=form.get("username"), role=form.get("role"))
        return RedirectResponse("/quan-tri/tai-khoan", 303)

    @app.post("/quan-tri/tai-khoan/{username}/trang-thai")
    async def lock_account(request: Request, username: str):
        user, form = await posted(request)
        require_admin(user)
        active = form.get("active") == "1"
        if username == user.username and not active:
            raise HTTPException(400, "Không thể tự khoá tài khoản của mình / you cannot lock your own account")
        with closing(conn()) as c:
            auth.set_active(c, username, active)
            db.audit(c, user.username, "account_unlocked" if active else "account_locked", account=username)
        return RedirectResponse("/quan-tri/tai-khoan", 303)

    @app.get("/quan-tri/he-thong", response_class=HTMLResponse)
    def targets_page(request: Request):
        user = current(request)
        require_admin(user)
        with closing(conn()) as c:
            return page(request, "targets.html", user, targets=db.targets(c), problem=None)

    @app.post("/quan-tri/he-thong", response_class=HTMLResponse)
    async def add_target(request: Request):
        user, form = await posted(request)
        require_admin(user)
        from kiemthu.target import TargetError, load_target

        target_id, name, path = form.get("id", "").strip(), form.get("name", "").strip(), form.get("path", "").strip()
        problem = None
        if not ID.match(target_id):
            problem = f"Mã hệ thống / id: chữ, số, . _ - (tối đa 64 ký tự) — giá trị '{target_id}'"
        elif not name:
            problem = "Tên hệ thống / name: bắt buộc / required — giá trị ''"
        else:
            try:
                load_target(Path(path), check_env=False)
            except TargetError as exc:
                # ${NAME} placeholders are filled when a run starts (ports, dates of the run): not a fault here
                found = [p for p in exc.problems if "environment variable set" not in p and "${" not in p]
                if found:
                    problem = redact(TargetError(exc.source, found).render())
        with closing(conn()) as c:
            if problem:
                return page(request, "targets.html", user, status=400, targets=db.targets(c), problem=problem)
            db.add_target(c, target_id, name, Path(path))
            db.audit(c, user.username, "target_added", target=target_id, path=path)
        return RedirectResponse("/quan-tri/he-thong", 303)

    @app.get("/quan-tri/nhat-ky", response_class=HTMLResponse)
    def audit_page(request: Request):
        user = current(request)
        require_admin(user)
        with closing(conn()) as c:
            return page(request, "audit.html", user, rows=db.audit_rows(c))

    return app


def when(moment: Any) -> str:
    """A time as officers read it (dd/mm/yyyy hh:mm:ss, Vietnam time)."""
    if not moment:
        return ""
    if isinstance(moment, str):
        try:
            moment = datetime.fromisoformat(moment)
        except ValueError:
            return moment
    if moment.tzinfo is not None:
        moment = moment.astimezone(VN_TZ)
    return f"{moment:%d/%m/%Y %H:%M:%S}"


def board_of(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Service × check rows from the progress events, folded as the terminal's live table folds them: a check's
    time runs from its first step, which may come while an earlier check needed its flows (the submission is
    played inside the SSO check's journey), to its end."""
    from conformance.progress import Board

    board = Board()
    for e in events:
        if e.get("event") in ("check", "step") and "t" in e:
            board.apply(e)
    return [{"service": row["service"], "check": row["check"], "state": row["state"],
             "step": redact(str(row.get("step", ""))), "verdict": row.get("verdict") or "",
             "seconds": row.get("seconds"), "started": row.get("started")} for row in board.rows.values()]


def serve(host: str = "127.0.0.1", port: int = 8900, db_path: Path | None = None, runs_root: Path | None = None) -> int:
    """`kiemthu serve`: the control room on host:port until Ctrl-C (running runs are marked interrupted)."""
    import uvicorn
    from rich.console import Console

    path = Path(db_path or DEFAULT_DB)
    application = create_app(path, runs_root)
    with closing(db.connect(path)) as c:
        no_accounts = not auth.users(c)
    console = Console(stderr=True)
    console.print(f"Phòng điều hành kiểm thử / control room: http://{host}:{port}/  (CSDL / database: {path})",
                  markup=False, highlight=False, soft_wrap=True)
    if no_accounts:
        console.print(f"Chưa có tài khoản / no account yet: kiemthu users add ADMIN --role quan_tri --db {path}",
                      markup=False, highlight=False, soft_wrap=True)
    uvicorn.run(application, host=host, port=port, log_level="warning", access_log=False)
    return 0


def serve_demo(port: int = 8900) -> int:
    """`kiemthu demo --serve`: the control room with a campaign for the reference system, published today."""
    path = DEFAULT_DB
    with closing(db.connect(path)) as c:
        ensure_demo_target(c)
        if not any(camp["target_id"] == "demo" for camp in db.campaigns(c)):
            today = datetime.now(VN_TZ).date()
            db.add_campaign(c, f"{today:%Y%m%d}-demo", "Đợt kiểm thử thử nghiệm (demo)", "demo", today,
                            target_services(DEMO_TARGET), "kiemthu")
            db.audit(c, None, "campaign_created", campaign=f"{today:%Y%m%d}-demo", target="demo", via="demo")
    return serve(port=port, db_path=path)
