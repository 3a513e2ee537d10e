"""HTML reading of the journeys on synthetic pages: forms, labelled radios, codes and statuses."""

from __future__ import annotations

from loadtest.context import CODE_RX
from loadtest.forms import parse_page
from loadtest.journeys import status_after, status_named_in
from schemas import load_profile

LOGIN = """<form method="post" action="/commonauth"><input type="hidden" name="sessionDataKey" value="k1">
<fieldset><label><input type="radio" name="techid" value="T1" checked aria-label="An (001)"> An (001)</label>
<label><input type="radio" name="techid" value="T2"> Bình (002)</label></fieldset>
<label for="acr">Mức độ xác thực</label><select id="acr" name="acr"><option value="LoA1">LoA1</option>
<option value="LoA2" selected>LoA2</option></select><button type="submit">Đăng nhập</button></form>"""

STEP2 = """<form method="post" action="/dvc/nop-ho-so/buoc-2" enctype="multipart/form-data">
<input type="hidden" name="ho_so_nhap" value="d1">
<label for="tp-TP-01">Tờ khai</label><input type="file" id="tp-TP-01" name="tp_TP-01">
<input type="checkbox" id="kho-TP-01" name="khodl_TP-01" value="1"><label for="kho-TP-01">Kho</label>
<input type="checkbox" id="cam-doan" name="cam_doan" value="1"><label for="cam-doan">Tôi cam đoan</label>
<button type="submit">Nộp hồ sơ</button></form>"""

PAY = """<form method="post" action="/paymentplatform/pay/tok/confirm">
<label><input type="radio" name="bank" value="VCB" checked> Vietcombank</label>
<label><input type="radio" name="outcome" value="success" checked> Thành công</label>
<label><input type="radio" name="outcome" value="cancel"> Hủy giao dịch</label>
<button type="submit">Xác nhận thanh toán</button></form>"""


def test_login_form_defaults_and_labels():
    page = parse_page(LOGIN)
    form = page.form_with("techid")
    assert form.defaults() == {"sessionDataKey": "k1", "techid": "T1", "acr": "LoA2"}
    assert form.radio_by_label("techid", "Bình (002)").value == "T2"
    assert form.url("http://127.0.0.1:9/oauth2/authorize?x=1") == "http://127.0.0.1:9/commonauth"


def test_upload_form_and_payment_outcome():
    form = parse_page(STEP2).forms[0]
    assert [f.name for f in form.file_fields()] == ["tp_TP-01"]
    assert form.enctype == "multipart/form-data" and form.hidden() == {"ho_so_nhap": "d1"}
    pay = parse_page(PAY).form_with("outcome")
    assert pay.radio_by_label("outcome", "Hủy giao dịch").value == "cancel"
    assert pay.buttons()[0].label == "Xác nhận thanh toán"


def test_code_and_status_from_page_text():
    profile = load_profile()
    page = parse_page("<h1>Nộp hồ sơ thành công</h1><p>Mã số hồ sơ: <strong>000.00.00.G15-260101-0042</strong></p>"
                      "<table><tr><th>Trạng thái</th><td>Mới đăng ký</td></tr></table>")
    assert CODE_RX.search(page.text).group(0) == "000.00.00.G15-260101-0042"
    assert status_after(page.text, "Trạng thái", profile) == "1"
    assert status_named_in("Hồ sơ X: Đã xử lý xong.", profile) == "9"
    assert status_named_in("Hồ sơ X: Đang xử lý.", profile) == "4"
    # a malformed (5-digit) code is still found, so it can be reconciled
    assert CODE_RX.search("000.00.00.G15-260101-12345").group(0).endswith("12345")
