"""report.pdf: printable, Vietnamese text extractable (fonts embedded), with the cover facts and the deadline."""

import shutil
import subprocess

import pytest

pytestmark = pytest.mark.skipif(not shutil.which("pdftotext"), reason="poppler-utils not installed")


def pdf_text(path) -> str:
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout


def test_text_has_headers_codes_and_deadline(built_run):
    text = pdf_text(built_run / "report.pdf")
    flat = " ".join(text.split())
    for heading in ("TỔNG HỢP KẾT QUẢ KIỂM THỬ DỊCH VỤ CÔNG TRỰC TUYẾN", "STT", "Tên thủ tục hành chính", "Mã TTHC",
                    "Mã DVC", "Mức độ", "Nộp hồ sơ", "Thanh toán", "Ghi chú", "Hạn gửi kết quả kiểm thử"):
        assert heading in flat, heading
    for code in ("000.00.00.G15-261116-0001", "000.00.00.G15-261116-0002", "2.001417.01", "1.000894.01"):
        assert code in flat, code
    assert "19/11/2026 (còn 3 ngày làm việc, tính đến 16/11/2026)" in flat
    assert "Ngày công khai" in flat and "12/11/2026" in flat  # the label wraps in its cell


def test_cover_block(built_run):
    flat = " ".join(pdf_text(built_run / "report.pdf").split())
    for fact in ("Bộ Tư pháp (000.00.00.G15)", "https://motcua.moj.gov.vn", "dvcqg-1.0", "kiemthu 0.1.0",
                 "20261116-091502-a3f9", "16/11/2026 09:15:02", "16/11/2026 09:21:47", "Nguyễn Thị Hằng"):
        assert fact in flat, fact


def test_per_service_rules_and_verdict_words(built_run):
    flat = " ".join(pdf_text(built_run / "report.pdf").split())
    assert "Chưa hoàn thành kiểm thử" in flat and "Hoàn thành kiểm thử" in flat
    for word in ("Đạt", "Không đạt", "Không áp dụng", "Chưa đánh giá được"):
        assert word in flat
    assert "Mã số hồ sơ có dạng" in flat and "Thông tư 01/2018/TT-VPCP, Điều 19" in flat
    assert "ensure_dossier_code_format" not in flat  # rule ids are not printed to the officer


@pytest.mark.skipif(not shutil.which("pdffonts"), reason="poppler-utils not installed")
def test_fonts_are_embedded(built_run):
    out = subprocess.run(["pdffonts", str(built_run / "report.pdf")], capture_output=True, text=True, check=True).stdout
    fonts = out.splitlines()[2:]
    assert fonts and all(" yes yes yes " in line for line in fonts), out


@pytest.mark.skipif(not shutil.which("pdftoppm"), reason="poppler-utils not installed")
def test_first_page_renders(built_run, tmp_path):
    subprocess.run(["pdftoppm", "-r", "50", "-png", "-f", "1", "-l", "1", str(built_run / "report.pdf"),
                    str(tmp_path / "page")], check=True)
    pages = list(tmp_path.glob("page*.png"))
    assert pages and pages[0].stat().st_size > 5000
