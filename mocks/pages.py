"""HTML pages of the mock portal (login, payment, errors). Plain, accessible markup: every control has a label."""

from __future__ import annotations

from html import escape
from typing import Any, Iterable

STYLE = """
body{font-family:"DejaVu Sans",Arial,sans-serif;margin:0;background:#f4f6f9;color:#1d2733}
header{background:#b71c1c;color:#fff;padding:12px 24px}header h1{font-size:20px;margin:0}
main{max-width:760px;margin:24px auto;background:#fff;padding:24px;border-radius:6px;box-shadow:0 1px 3px #0002}
fieldset{border:1px solid #ccd;margin:0 0 16px;padding:12px}legend{font-weight:bold}
label{display:block;margin:6px 0}button{background:#b71c1c;color:#fff;border:0;padding:10px 20px;font-size:16px;
border-radius:4px;cursor:pointer}.error{color:#b71c1c;font-weight:bold}.muted{color:#667}table{border-collapse:collapse}
td,th{padding:4px 8px;border-bottom:1px solid #eee;text-align:left}
"""


def page(title: str, body: str) -> str:
    return (f"<!doctype html><html lang=\"vi\"><head><meta charset=\"utf-8\"><title>{escape(title)}</title>"
            f"<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\"><style>{STYLE}</style></head>"
            f"<body><header><h1>Cổng Dịch vụ công quốc gia (giả lập kiểm thử)</h1></header>"
            f"<main><h2>{escape(title)}</h2>{body}</main></body></html>")


def error_page(title: str, message: str, detail: str = "") -> str:
    extra = f"<p class=\"muted\">{escape(detail)}</p>" if detail else ""
    return page(title, f"<p class=\"error\" role=\"alert\">{escape(message)}</p>{extra}")


def login_page(action: str, session_key: str, identities: list[dict[str, Any]], acr_values: Iterable[str],
               selected_acr: str, client_name: str = "", error: str = "", selected: str = "") -> str:
    radios = []
    for i, ident in enumerate(identities):
        label = f"{ident['HoVaTen']} ({ident['SoDinhDanh']})"
        kind = "Doanh nghiệp: " + ident["TenDoanhNghiep"] if ident.get("LoaiTaiKhoan") == "2" else "Công dân"
        checked = " checked" if (selected == ident["TechID"] or (not selected and i == 0)) else ""
        radios.append(f"<label><input type=\"radio\" name=\"techid\" value=\"{escape(ident['TechID'])}\"{checked} "
                      f"aria-label=\"{escape(label)}\"> {escape(label)} <span class=\"muted\">— {escape(kind)}; "
                      f"mức xác thực tối đa {escape(ident['loAs'][-1])}</span></label>")
    options = "".join(f"<option value=\"{escape(a)}\"{' selected' if a == selected_acr else ''}>{escape(a)}</option>"
                      for a in acr_values)
    who = f"<p>Ứng dụng <strong>{escape(client_name)}</strong> yêu cầu đăng nhập.</p>" if client_name else ""
    err = f"<p class=\"error\" role=\"alert\">{escape(error)}</p>" if error else ""
    body = (f"{who}{err}<form method=\"post\" action=\"{escape(action)}\">"
            f"<input type=\"hidden\" name=\"sessionDataKey\" value=\"{escape(session_key)}\">"
            f"<fieldset><legend>Tài khoản thử nghiệm</legend>{''.join(radios)}</fieldset>"
            f"<label for=\"acr\">Mức độ xác thực</label><select id=\"acr\" name=\"acr\">{options}</select>"
            f"<p><button type=\"submit\">Đăng nhập</button></p></form>")
    return page("Đăng nhập", body)


def portal_home(user: dict[str, Any] | None, procedures: list[dict[str, Any]], deep_link_base: str | None,
                agency_code: str, login_url: str) -> str:
    if user:
        hello = f"<p>Xin chào <strong>{escape(user['HoVaTen'])}</strong> ({escape(user['SoDinhDanh'])}).</p>"
    else:
        hello = f"<p><a href=\"{escape(login_url)}\">Đăng nhập</a> để nộp hồ sơ trực tuyến.</p>"
    rows = []
    for p in procedures:
        for dvc in p["DichVuCong"]:
            name = escape(dvc["TenDVC"] or p["TenTTHC"])
            if deep_link_base:
                from urllib.parse import urlencode
                q = urlencode({"MaTTHCDP": p["MaTTHCDP"], "MaCoQuanThucHien": agency_code, "vnconnect": "1",
                               "MaDVC": dvc["MaDVC"]})
                name = f"<a href=\"{escape(deep_link_base)}?{escape(q)}\">{name}</a>"
            rows.append(f"<tr><td>{escape(p['MaTTHC'])}</td><td>{name}</td><td>{escape(p['TenMucDo'])}</td></tr>")
    table = ("<table><thead><tr><th>Mã TTHC</th><th>Dịch vụ công</th><th>Mức độ</th></tr></thead>"
             f"<tbody>{''.join(rows)}</tbody></table>")
    return page("Dịch vụ công trực tuyến", hello + table)


def payment_page(action: str, info: dict[str, Any], banks: list[dict[str, str]],
                 outcomes: dict[str, dict[str, str]]) -> str:
    bank_radios = "".join(
        f"<label><input type=\"radio\" name=\"bank\" value=\"{escape(b['MaNganHang'])}\"{' checked' if i == 0 else ''}>"
        f" {escape(b['TenNganHang'])}</label>" for i, b in enumerate(banks))
    outcome_radios = "".join(
        f"<label><input type=\"radio\" name=\"outcome\" value=\"{escape(k)}\"{' checked' if k == 'success' else ''}>"
        f" {escape(v['label'])}</label>" for k, v in outcomes.items())
    rows = "".join(f"<tr><th>{escape(k)}</th><td>{escape(str(v))}</td></tr>" for k, v in info.items())
    body = (f"<table>{rows}</table><form method=\"post\" action=\"{escape(action)}\">"
            f"<fieldset><legend>Ngân hàng</legend>{bank_radios}</fieldset>"
            f"<fieldset><legend>Kết quả giao dịch (giả lập)</legend>{outcome_radios}</fieldset>"
            f"<p><button type=\"submit\">Xác nhận thanh toán</button></p></form>")
    return page("Thanh toán trực tuyến", body)


def message_page(title: str, message: str) -> str:
    return page(title, f"<p role=\"status\">{escape(message)}</p>")
