"""HTTP routes: citizen pages (deep link, SSO, wizard, receipt, payment, my dossiers), the officer back office,
the payment callbacks and the operator's outbox view."""

from __future__ import annotations

import logging
import secrets
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.concurrency import run_in_threadpool

from examples.ministry import auth, billing, dossiers, forms
from examples.ministry.catalogue import form_documents, offers_online_payment
from examples.ministry.db import dumps, loads
from examples.ministry.dossiers import STATUS_NAMES, NewDocument
from examples.ministry.outbox import Outbox
from examples.ministry.sso import SSOError, logout_url
from examples.ministry.timeutil import parse_iso

log = logging.getLogger("ministry.web")
TEMPLATES = Environment(loader=FileSystemLoader(Path(__file__).with_name("templates")),
                        autoescape=select_autoescape(["html"]))
DEFAULT_ACR = "LoA1"


def money(amount: int | None) -> str:
    return f"{int(amount or 0):,}".replace(",", ".") + " đồng"


def datefmt(text: str | None) -> str:
    moment = parse_iso(text)
    return moment.strftime("%d/%m/%Y %H:%M") if moment else ""


TEMPLATES.globals.update(money=money, datefmt=datefmt, status_name=lambda s: STATUS_NAMES.get(s, s))


def ctx_of(request: Request):
    return request.app.state.ministry


def render(request: Request, template: str, status_code: int = 200, **values: Any) -> HTMLResponse:
    ctx = ctx_of(request)
    values.setdefault("title", "Dịch vụ công")
    values.setdefault("user", None)
    values.setdefault("officer", False)
    html = TEMPLATES.get_template(template).render(
        agency_name=ctx.settings.agency_name, agency_code=ctx.settings.agency_code,
        officer_name=ctx.settings.officer_name, **values)
    return HTMLResponse(html, status_code=status_code)


def message_page(request: Request, heading: str, *lines: str, status_code: int = 200, user=None,
                 link: tuple[str, str] | None = None) -> HTMLResponse:
    return render(request, "message.html", status_code, title=heading, heading=heading, lines=lines, user=user,
                  link=link)


def redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def set_cookie(request: Request, response: Response, name: str, value: str, max_age: int | None = None) -> None:
    ctx = ctx_of(request)
    weak = name == auth.CITIZEN_COOKIE and ctx.defects.on("session-cookie-not-httponly")
    response.set_cookie(name, value, max_age=max_age, path="/", httponly=not weak,
                        samesite=None if weak else "lax", secure=ctx.settings.public_url.startswith("https"))


router = APIRouter()


# --- health and home ---------------------------------------------------------------------------------
@router.get("/health")
def health(request: Request) -> dict[str, Any]:
    ctx = ctx_of(request)
    return {"status": "ok", "defects": sorted(ctx.defects.active), "outbox": Outbox(ctx).counts()}


def citizen(request: Request):
    return auth.current_citizen(ctx_of(request), request.cookies.get(auth.CITIZEN_COOKIE))


@router.get("/", response_class=HTMLResponse)
def home(request: Request):
    found = citizen(request)
    return render(request, "home.html", title="Dịch vụ công trực tuyến", services=ctx_of(request).catalogue.services,
                  user=found[1] if found else None, logged_out=not found and "state" in request.query_params)


# --- SSO -----------------------------------------------------------------------------------------------
def login_redirect(request: Request, return_to: str, acr: str = DEFAULT_ACR) -> RedirectResponse:
    ctx = ctx_of(request)
    url, state = auth.begin_login(ctx, return_to, acr)
    response = redirect(url)
    set_cookie(request, response, auth.SSO_COOKIE, state, max_age=auth.LOGIN_REQUEST_TTL_S)
    return response


def require_citizen(request: Request, acr: str = DEFAULT_ACR):
    """(session, user) or a response sending the citizen to log in."""
    found = citizen(request)
    return_to = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    if found is None:
        return login_redirect(request, return_to, acr)
    session, user = found
    if not auth.acr_satisfies(session["acr"], acr):
        return login_redirect(request, return_to, acr)  # step-up: this service needs a higher assurance level
    if ctx_of(request).defects.on("asks-second-login") and not session["second_login_done"]:
        return redirect("/dang-nhap?" + urlencode({"next": return_to}))
    return found


@router.get("/sso/callback", response_class=HTMLResponse)
def sso_callback(request: Request):
    ctx = ctx_of(request)
    try:
        result = auth.complete_login(ctx, dict(request.query_params), request.cookies.get(auth.SSO_COOKIE))
    except SSOError as exc:
        log.warning("đăng nhập SSO thất bại: %s", exc.reason)
        response = message_page(request, "Đăng nhập không thành công", exc.reason,
                                "Vui lòng quay lại Cổng Dịch vụ công quốc gia và thử lại.", status_code=401,
                                link=("/", "Về trang chủ"))
        response.delete_cookie(auth.SSO_COOKIE, path="/")
        return response
    old = request.cookies.get(auth.CITIZEN_COOKIE)
    auth.end_session(ctx, old)
    session_id = auth.create_session(ctx, "citizen", str(result.user_id), result.id_token, result.acr)
    target = result.return_to
    if ctx.defects.on("asks-second-login"):
        target = "/dang-nhap?" + urlencode({"next": target})
    response = redirect(target)
    response.delete_cookie(auth.SSO_COOKIE, path="/")
    set_cookie(request, response, auth.CITIZEN_COOKIE, session_id)
    return response


@router.get("/dang-nhap", response_class=HTMLResponse)
def local_login_page(request: Request, next: str = "/"):
    found = citizen(request)
    return render(request, "login.html", title="Đăng nhập hệ thống một cửa", heading="Đăng nhập hệ thống một cửa",
                  intro="Vui lòng đăng nhập tài khoản của hệ thống một cửa để tiếp tục.", action="/dang-nhap",
                  next=auth.safe_return_path(next), user=found[1] if found else None)


@router.post("/dang-nhap")
async def local_login(request: Request):
    form = await request.form()
    found = citizen(request)
    if found is None:
        return redirect("/")
    if form.get("ten_dang_nhap") and form.get("mat_khau"):
        ctx_of(request).db.run("UPDATE sessions SET second_login_done=1 WHERE id=?", found[0]["id"])
        return redirect(auth.safe_return_path(str(form.get("next") or "/")))
    return render(request, "login.html", 400, title="Đăng nhập hệ thống một cửa", heading="Đăng nhập hệ thống một cửa",
                  action="/dang-nhap", next=form.get("next"), errors=["Vui lòng nhập tên đăng nhập và mật khẩu."])


@router.post("/dang-xuat")
def logout(request: Request):
    ctx = ctx_of(request)
    found = citizen(request)
    auth.end_session(ctx, request.cookies.get(auth.CITIZEN_COOKIE))
    if found and not ctx.defects.on("logout-not-propagated"):
        response = redirect(logout_url(ctx.settings, found[0]["id_token"]))
    else:
        response = redirect("/")
    response.delete_cookie(auth.CITIZEN_COOKIE, path="/")
    return response


# --- submission wizard ---------------------------------------------------------------------------------
def step1_page(request: Request, service, user, values: dict[str, str], errors: list[str] | None = None):
    return render(request, "step1.html", 400 if errors else 200, title="Bước 1: Thông tin người nộp",
                  service=service, user=user, values=values, errors=errors or [])


def identity_values(service, user) -> dict[str, str]:
    claims = loads(user["claims_json"], {})
    return {f["name"]: str(claims.get(f["from_identity"], "") or "") for f in service.fields if f.get("from_identity")}


@router.get("/dvc/nop-ho-so", response_class=HTMLResponse)
def deep_link(request: Request, MaDVC: str = "", MaTTHCDP: str = "", MaCoQuanThucHien: str = "",
              vnconnect: str = ""):
    ctx = ctx_of(request)
    service = ctx.catalogue.find(MaDVC, MaTTHCDP)
    if service is None:
        return message_page(request, "Không tìm thấy dịch vụ công",
                            f"Không có dịch vụ công trực tuyến với mã {MaDVC or MaTTHCDP or '(trống)'}.",
                            status_code=404, link=("/", "Danh sách dịch vụ"))
    if MaCoQuanThucHien and MaCoQuanThucHien != ctx.settings.agency_code:
        log.info("liên kết từ Cổng với MaCoQuanThucHien=%s", MaCoQuanThucHien)
    found = require_citizen(request, service.get("acr", DEFAULT_ACR))
    if isinstance(found, Response):
        return found
    return step1_page(request, service, found[1], identity_values(service, found[1]))


@router.get("/dvc/nop-ho-so/buoc-1", response_class=HTMLResponse)
def step1_again(request: Request, ho_so_nhap: str = ""):
    found = citizen_draft(request, ho_so_nhap)
    if isinstance(found, Response):
        return found
    user, draft = found
    if draft is None:
        return redirect("/")
    service = ctx_of(request).catalogue.by_id(draft["service_id"])
    return step1_page(request, service, user, loads(draft["fields_json"], {}))


@router.post("/dvc/nop-ho-so/buoc-1", response_class=HTMLResponse)
async def step1_submit(request: Request):
    form = {k: str(v) for k, v in (await request.form()).items()}
    return await run_in_threadpool(_step1_submit, request, form)


def _step1_submit(request: Request, form: dict[str, str]):
    ctx = ctx_of(request)
    found = require_citizen(request)
    if isinstance(found, Response):
        return found
    service = ctx.catalogue.by_id(form.get("dich_vu", ""))
    if service is None:
        return message_page(request, "Không tìm thấy dịch vụ công", status_code=404, user=found[1])
    values, errors = forms.validate_fields(service, form)
    if errors:
        return step1_page(request, service, found[1], values, errors)
    draft_id = secrets.token_urlsafe(16)
    ctx.db.run("INSERT INTO drafts(id, user_id, service_id, fields_json, created_at) VALUES (?,?,?,?,?)",
               draft_id, found[1]["id"], service.id, dumps(values), ctx.clock.now().timestamp())
    return redirect(f"/dvc/nop-ho-so/buoc-2?ho_so_nhap={draft_id}")


def citizen_draft(request: Request, draft_id: str):
    """(the signed-in citizen, their draft or None), or the response that sends a visitor to sign in."""
    found = require_citizen(request)
    if isinstance(found, Response):
        return found
    user = found[1]
    row = ctx_of(request).db.one("SELECT * FROM drafts WHERE id=?", draft_id)
    return user, (row if row and row["user_id"] == user["id"] else None)


def step2_page(request: Request, service, user, draft_id: str, errors: list[str] | None = None):
    ctx = ctx_of(request)
    return render(request, "step2.html", 400 if errors else 200, title="Bước 2: Thành phần hồ sơ", service=service,
                  user=user, draft_id=draft_id, errors=errors or [], consent_text=forms.CONSENT_TEXT,
                  documents=form_documents(service, ctx.catalogue, ctx.defects))


@router.get("/dvc/nop-ho-so/buoc-2", response_class=HTMLResponse)
def step2(request: Request, ho_so_nhap: str = ""):
    found = citizen_draft(request, ho_so_nhap)
    if isinstance(found, Response):
        return found
    user, draft = found
    if draft is None:
        return message_page(request, "Không tìm thấy hồ sơ đang soạn", "Vui lòng bắt đầu lại từ Cổng Dịch vụ công.",
                            status_code=404, user=user, link=("/", "Danh sách dịch vụ"))
    return step2_page(request, ctx_of(request).catalogue.by_id(draft["service_id"]), user, ho_so_nhap)


@router.post("/dvc/nop-ho-so/buoc-2", response_class=HTMLResponse)
async def step2_submit(request: Request):
    ctx = ctx_of(request)
    form = await request.form(max_files=20, max_fields=50)
    limit = ctx.settings.max_upload_bytes
    uploads: dict[str, forms.Upload] = {}
    fields: dict[str, str] = {}
    for key, value in form.multi_items():
        if hasattr(value, "read"):
            if value.filename:
                content = await value.read(limit + 1)
                uploads[key] = forms.Upload(value.filename, content, truncated=len(content) > limit)
        else:
            fields[key] = str(value)
    return await run_in_threadpool(_step2_submit, request, fields, uploads)


def _step2_submit(request: Request, fields: dict[str, str], uploads: dict[str, forms.Upload]):
    ctx = ctx_of(request)
    draft_id = fields.get("ho_so_nhap", "")
    found = citizen_draft(request, draft_id)
    if isinstance(found, Response):
        return found
    user, draft = found
    if draft is None:
        return message_page(request, "Không tìm thấy hồ sơ đang soạn", status_code=404, user=user)
    service = ctx.catalogue.by_id(draft["service_id"])
    documents, errors = collect_documents(ctx, service, user, fields, uploads)
    if fields.get("cam_doan") != "1":
        errors.append(f"Vui lòng đánh dấu “{forms.CONSENT_TEXT}”.")
    if errors:
        return step2_page(request, service, user, draft_id, errors)
    folder = ctx.settings.data_dir / "tep" / secrets.token_hex(6)
    for doc, upload in documents:
        if upload is not None:
            doc.stored_path = forms.store_upload(folder, upload)
            doc.size = len(upload.content)
    try:
        code = dossiers.receive_online(ctx, service, user, loads(draft["fields_json"], {}),
                                       [d for d, _ in documents], draft_id)
    except dossiers.DraftGone:
        return redirect("/ho-so-cua-toi")  # submitted already (double click): show the dossiers
    return redirect(f"/ho-so/{code}")


def collect_documents(ctx, service, user, fields: dict[str, str], uploads: dict[str, forms.Upload]):
    """Each document of the form, from an upload or from Kho DL, plus the validation messages."""
    documents: list[tuple[NewDocument, forms.Upload | None]] = []
    errors: list[str] = []
    checks_on = not ctx.defects.on("upload-type-not-checked")
    for doc in form_documents(service, ctx.catalogue, ctx.defects):
        ma, name = doc["MaThanhPhanHoSo"], doc["TenThanhPhanHoSo"]
        if doc.get("khodl_result_code") and fields.get(f"khodl_{ma}") == "1":
            reused = forms.khodl_document(ctx, user, service, doc)
            if reused is None:
                errors.append(f"Không tìm thấy “{name}” trong Kho dữ liệu của bạn; vui lòng đính kèm tệp.")
            else:
                documents.append((reused, None))
            continue
        upload = uploads.get(f"tp_{ma}")
        if upload is None or not upload.content:
            if doc.get("required"):
                errors.append(f"Vui lòng đính kèm “{name}”.")
            continue
        problem = forms.upload_error(doc, upload, ctx.settings.max_upload_bytes, checks_on)
        if problem:
            errors.append(problem)
            continue
        documents.append((NewDocument(ma, name, forms.safe_file_name(upload.filename)), upload))
    return documents, errors


# --- receipt, my dossiers, files -----------------------------------------------------------------------
def own_dossier(request: Request, code: str, user):
    d = dossiers.load(ctx_of(request), code)
    return d if d and d.row["user_id"] == user["id"] else None


@router.get("/ho-so/{code}", response_class=HTMLResponse)
def receipt(request: Request, code: str):
    found = require_citizen(request)
    if isinstance(found, Response):
        return found
    d = own_dossier(request, code, found[1])
    if d is None:
        return message_page(request, "Không tìm thấy hồ sơ", status_code=404, user=found[1])
    can_pay = offers_online_payment(d.service, ctx_of(request).defects) and not d.row["paid"]
    return render(request, "receipt.html", title=f"Hồ sơ {code}", d=d, user=found[1], can_pay=can_pay)


def payment_label(row) -> str:
    if not row["fee_amount"]:
        return "Không thu phí"
    return "Đã thanh toán" if row["paid"] else "Chưa thanh toán"


@router.get("/ho-so-cua-toi", response_class=HTMLResponse)
def my_dossiers(request: Request):
    ctx = ctx_of(request)
    found = require_citizen(request)
    if isinstance(found, Response):
        return found
    rows = []
    for r in ctx.db.all("SELECT * FROM dossiers WHERE user_id=? ORDER BY submitted_at DESC", found[1]["id"]):
        service = ctx.catalogue.by_id(r["service_id"])
        rows.append({"code": r["code"], "service": service["TenDVC"], "submitted": datefmt(r["submitted_at"]),
                     "status": STATUS_NAMES.get(r["status"], r["status"]), "payment": payment_label(r),
                     "result_url": f"/ket-qua/{r['result_token']}.pdf" if r["status"] == "10" else ""})
    return render(request, "my_dossiers.html", title="Hồ sơ của tôi", rows=rows, user=found[1])


@router.get("/ket-qua/{token}.pdf")
def result_file(request: Request, token: str):
    row = ctx_of(request).db.one("SELECT code, result_path FROM dossiers WHERE result_token=?", token)
    if row is None or not row["result_path"] or not Path(row["result_path"]).is_file():
        return Response("Không tìm thấy kết quả", status_code=404)
    return FileResponse(row["result_path"], media_type="application/pdf", filename=f"ket-qua-{row['code']}.pdf")


@router.get("/tep/{token}")
def document_file(request: Request, token: str):
    row = ctx_of(request).db.one("SELECT file_name, stored_path FROM documents WHERE token=?", token)
    if row is None or not row["stored_path"] or not Path(row["stored_path"]).is_file():
        return Response("Không tìm thấy tệp", status_code=404)
    return FileResponse(row["stored_path"], filename=row["file_name"])


# --- payment -------------------------------------------------------------------------------------------
@router.get("/thanh-toan/khoi-tao/{code}", response_class=HTMLResponse)
def pay(request: Request, code: str):
    found = require_citizen(request)
    if isinstance(found, Response):
        return found
    ip = request.client.host if request.client else "127.0.0.1"
    try:
        url = billing.start_payment(ctx_of(request), code, found[1]["id"], ip)
    except billing.PaymentError as exc:
        return message_page(request, "Không khởi tạo được giao dịch thanh toán", str(exc), status_code=502,
                            user=found[1], link=(f"/ho-so/{code}", "Quay lại hồ sơ"))
    return redirect(url)


@router.post("/thanh-toan/ipn")
async def ipn(request: Request):
    try:
        if "json" in request.headers.get("content-type", ""):
            message = await request.json()
        else:
            message = dict(await request.form())
    except ValueError:
        message = None
    if not isinstance(message, dict):
        return JSONResponse({"MaLoi": "99", "MoTaLoi": "Dữ liệu không hợp lệ"}, status_code=400)
    reply = await run_in_threadpool(billing.handle_ipn, ctx_of(request), message)
    return JSONResponse(reply)


@router.get("/thanh-toan/ket-qua", response_class=HTMLResponse)
def payment_return(request: Request):
    outcome = billing.handle_return(ctx_of(request), dict(request.query_params))
    found = citizen(request)
    title = {"success": "Thanh toán thành công", "pending": "Đang chờ xác nhận thanh toán"}.get(
        outcome.state, "Thanh toán không thành công")
    return render(request, "payment_result.html", title=title, outcome=outcome, user=found[1] if found else None)


# --- officer back office --------------------------------------------------------------------------------
def officer_session(request: Request):
    return auth.get_session(ctx_of(request), request.cookies.get(auth.OFFICER_COOKIE), "officer")


def officer_login_page(request: Request, errors: list[str] | None = None, status_code: int = 200):
    return render(request, "login.html", status_code, title="Cán bộ đăng nhập", heading="Đăng nhập dành cho cán bộ",
                  action="/can-bo/dang-nhap", errors=errors or [])


@router.get("/can-bo/dang-nhap", response_class=HTMLResponse)
def officer_login_form(request: Request):
    return officer_login_page(request)


@router.post("/can-bo/dang-nhap")
async def officer_login(request: Request):
    form = await request.form()
    ctx = ctx_of(request)
    if not auth.officer_credentials_ok(ctx, str(form.get("ten_dang_nhap", "")), str(form.get("mat_khau", ""))):
        return officer_login_page(request, ["Tên đăng nhập hoặc mật khẩu không đúng."], 401)
    response = redirect("/can-bo/ho-so")
    set_cookie(request, response, auth.OFFICER_COOKIE, auth.create_session(ctx, "officer", ctx.settings.officer_user))
    return response


@router.post("/can-bo/dang-xuat")
def officer_logout(request: Request):
    auth.end_session(ctx_of(request), request.cookies.get(auth.OFFICER_COOKIE))
    response = redirect("/can-bo/dang-nhap")
    response.delete_cookie(auth.OFFICER_COOKIE, path="/")
    return response


def officer_allowed(request: Request) -> bool:
    return officer_session(request) is not None or ctx_of(request).defects.on("officer-pages-unauthenticated")


@router.get("/can-bo/ho-so", response_class=HTMLResponse)
def officer_list(request: Request, tb: str = "", loi: str = ""):
    ctx = ctx_of(request)
    if not officer_allowed(request):
        return redirect("/can-bo/dang-nhap")
    rows = []
    for r in ctx.db.all("SELECT d.*, u.ho_va_ten FROM dossiers d JOIN users u ON u.id = d.user_id "
                        "ORDER BY d.submitted_at DESC"):
        service = ctx.catalogue.by_id(r["service_id"])
        rows.append({"code": r["code"], "service": service["TenDVC"], "holder": r["ho_va_ten"],
                     "submitted": datefmt(r["submitted_at"]), "status": STATUS_NAMES.get(r["status"], r["status"]),
                     "payment": payment_label(r), "actions": dossiers.actions_for(r["status"]),
                     "result_url": f"/ket-qua/{r['result_token']}.pdf" if r["result_token"] else ""})
    return render(request, "officer_list.html", title="Danh sách hồ sơ", rows=rows, officer=True,
                  flash=tb or loi, flash_error=bool(loi))


@router.post("/can-bo/ho-so/{code}/{action}")
def officer_action(request: Request, code: str, action: str):
    ctx = ctx_of(request)
    if not officer_allowed(request):
        return redirect("/can-bo/dang-nhap")
    try:
        status = dossiers.apply_action(ctx, code, action)
    except dossiers.TransitionError as exc:
        return redirect("/can-bo/ho-so?" + urlencode({"loi": f"{code}: {exc}"}))
    return redirect("/can-bo/ho-so?" + urlencode({"tb": f"Hồ sơ {code}: {STATUS_NAMES.get(status, status)}."}))


# --- operations ------------------------------------------------------------------------------------------
@router.get("/van-hanh/outbox", response_class=HTMLResponse)
def outbox_page(request: Request):
    box = Outbox(ctx_of(request))
    return render(request, "outbox.html", title="Hàng đợi đồng bộ", counts=box.counts(), messages=box.listing())


@router.get("/van-hanh/outbox.json")
def outbox_json(request: Request, dossier: str = ""):
    box = Outbox(ctx_of(request))
    messages = box.listing()
    if dossier:
        messages = [m for m in messages if m["dossier_code"] == dossier]
    return {"counts": box.counts(), "messages": messages}
