"""report.xlsx: the table officers send VPCP — procedure and service names and the codes of the dossiers that
completed testing (QT-VPB-16 Bước 4–5; docs/domain/), one row per service, printable."""

import re
from openpyxl import load_workbook

from conftest import CHECK_NOT_RUN, BUILD_DAY, DOSSIER_PATTERN, sample_summary
from reports.model import load_run
from reports.xlsx import HEADER_ROW, build_xlsx

VI_HEADERS = [
    "STT", "Tên thủ tục hành chính", "Mã TTHC", "Tên dịch vụ công trực tuyến", "Mã DVC", "Mức độ",
    "Mã số hồ sơ đã hoàn thành kiểm thử", "SSO", "Nộp hồ sơ", "Thanh toán", "Xử lý và đồng bộ", "Hoàn thành", "Ghi chú",
]


def summary_rows(path):
    ws = load_workbook(path)["Tổng hợp kết quả kiểm thử"]
    header = [c.value for c in ws[HEADER_ROW]]
    rows = []
    for row in ws.iter_rows(min_row=HEADER_ROW + 1, values_only=True):
        if not isinstance(row[0], int):
            break
        rows.append(dict(zip(header, row)))
    return ws, header, rows


def test_headers_and_one_row_per_service(built_run):
    ws, header, rows = summary_rows(built_run / "report.xlsx")
    assert header == VI_HEADERS
    assert [r["Mã DVC"] for r in rows] == ["2.001417.01", "1.001193.01", "1.000894.01"]
    assert [r["STT"] for r in rows] == [1, 2, 3]
    assert rows[0]["Tên thủ tục hành chính"].startswith("Cấp Phiếu lý lịch tư pháp")
    assert rows[0]["Mức độ"] == "Toàn trình" and rows[2]["Mức độ"] == "Một phần"


def test_completed_services_list_codes_in_circular_01_2018_format(built_run):
    _, _, rows = summary_rows(built_run / "report.xlsx")
    for row in rows[:2]:
        codes = row["Mã số hồ sơ đã hoàn thành kiểm thử"].split("\n")
        assert codes and all(re.fullmatch(DOSSIER_PATTERN, c) for c in codes), codes
    assert [r["SSO"] for r in rows] == ["Đạt", "Đạt", "Đạt"]
    assert rows[1]["Thanh toán"] == "Không áp dụng"


def test_failed_service_is_not_listed_as_completed(built_run):
    _, _, rows = summary_rows(built_run / "report.xlsx")
    failed = rows[2]
    assert failed["Mã số hồ sơ đã hoàn thành kiểm thử"] == "—"
    assert "000.00.00.G15-261116-0003" not in " ".join(str(v) for v in failed.values())
    assert failed["Xử lý và đồng bộ"] == "Không đạt" and failed["Hoàn thành"] == "Không"
    note = failed["Ghi chú"]
    assert "\n" not in note and "Xử lý và đồng bộ" in note and "ensure_status_code_in_range" not in note


def test_claimed_completion_with_a_failing_check_is_not_trusted(tmp_path):
    from conftest import write_run_dir

    data = sample_summary()
    data["services"][2]["completed"] = True  # inconsistent with its failed processing check
    run = write_run_dir(tmp_path / "run", data)
    _, _, rows = summary_rows(build_xlsx(load_run(run), tmp_path / "report.xlsx", "vi", BUILD_DAY))
    assert rows[2]["Mã số hồ sơ đã hoàn thành kiểm thử"] == "—"
    assert "không đạt" in rows[2]["Ghi chú"].lower()


def test_print_setup(built_run):
    ws, _, _ = summary_rows(built_run / "report.xlsx")
    assert ws.page_setup.orientation == "landscape"
    assert ws.sheet_properties.pageSetUpPr.fitToPage and ws.page_setup.fitToWidth == 1
    assert ws.page_setup.fitToHeight == 0
    assert ws.print_title_rows == f"${HEADER_ROW}:${HEADER_ROW}"
    assert ws.freeze_panes == f"A{HEADER_ROW + 1}"


def test_cover_rows_carry_run_and_deadline(built_run):
    ws, _, _ = summary_rows(built_run / "report.xlsx")
    top = " ".join(str(ws.cell(row=r, column=1).value) for r in range(1, HEADER_ROW))
    assert "TỔNG HỢP KẾT QUẢ KIỂM THỬ" in top
    assert "20261116-091502-a3f9" in top and "Bộ Tư pháp" in top
    assert "19/11/2026 (còn 3 ngày làm việc" in top


def test_rule_details_sheet(built_run):
    ws = load_workbook(built_run / "report.xlsx")["Chi tiết quy tắc"]
    rows = list(ws.iter_rows(min_row=2, values_only=True))
    failed = [r for r in rows if r[5] == "Không đạt"]
    assert [(r[1], r[3]) for r in failed] == [("1.000894.01", "Quy tắc status code in range")]
    assert "mong đợi 1..10; thực tế 11" in failed[0][6]
    assert not any(r[6] for r in rows if r[5] == "Đạt")  # passing rows carry no empty finding text


def test_english_option(run_dir, tmp_path):
    path = build_xlsx(load_run(run_dir), tmp_path / "report.xlsx", "en", BUILD_DAY)
    ws = load_workbook(path)["Test results summary"]
    header = [c.value for c in ws[HEADER_ROW]]
    assert header[:2] == ["No.", "Procedure name"] and header[6] == "Codes of dossiers that completed testing"
    assert [c.value for c in ws[HEADER_ROW + 3]][10] == "Failed"


def test_text_that_looks_like_a_formula_stays_text(run_dir, tmp_path):
    data = sample_summary()
    data["services"][2]["TenDVC"] = '=HYPERLINK("http://example.invalid","x")'
    from conftest import write_run_dir

    run = write_run_dir(tmp_path / "run", data)
    ws = load_workbook(build_xlsx(load_run(run), tmp_path / "r.xlsx", "vi", BUILD_DAY)).active
    cell = ws.cell(row=HEADER_ROW + 3, column=4)
    assert cell.data_type == "s" and "HYPERLINK" in cell.value


def test_service_not_completed_because_a_check_was_skipped_says_so(tmp_path):
    from conftest import write_run_dir

    data = sample_summary()
    ks = data["services"][1]
    ks["checks"]["processing"] = {"verdict": "skipped", "reason": "not selected for this run"}
    ks["completed"] = False
    del data["services"][0]["checks"]["payment"]  # a check missing altogether
    data["services"][0]["completed"] = False
    run = write_run_dir(tmp_path / "run", data)
    _, _, rows = summary_rows(build_xlsx(load_run(run), tmp_path / "r.xlsx", "vi", BUILD_DAY))
    assert rows[1]["Mã số hồ sơ đã hoàn thành kiểm thử"] == "—"
    word = "chưa đánh giá được" if CHECK_NOT_RUN == "skipped" else "không áp dụng"
    assert rows[1]["Ghi chú"] == f"Xử lý và đồng bộ: {word} — không chọn trong lần chạy này."
    assert rows[0]["Thanh toán"] == "Chưa kiểm thử" and rows[0]["Ghi chú"] == "Thanh toán: chưa kiểm thử."
