"""Evidence scrubbing (kiemthu.scrub): a value found where a credential sits is masked everywhere it appears again,
known secrets are masked from four characters on, and what was JSON stays JSON."""

from __future__ import annotations

import json
import zipfile

from kiemthu.scrub import credentials_in, scrub_archive, scrub_text, scrub_tree

COOKIE, CODE, KEY = "7DrmQ3dJquT5wv1mevBDixe537CcYqBiae25l7kTClo", "w_51fuRW6CT-Rb3itmfpXI_dL9936xAFrvpmhKkAjB0", "ASCxOyOcP47nPq_ngvXfVg"


def har_line(url: str, headers: dict[str, str]) -> str:
    entry = {"type": "resource-snapshot", "snapshot": {"request": {
        "url": url, "headers": [{"name": k, "value": v} for k, v in headers.items()], "cookies": []}}}
    return json.dumps(entry, ensure_ascii=False)


def test_credentials_are_found_where_they_sit_and_nowhere_else():
    text = (har_line(f"http://sut/sso/callback?code={CODE}&state=s-123456", {"Cookie": f"btp_phien={COOKIE}"}) + "\n"
            + '{"type":"frame-snapshot","html":["INPUT",{"type":"hidden","name":"sessionDataKey","value":"' + KEY + '"}]}\n')
    assert credentials_in(text.encode()) == {CODE, COOKIE, KEY}  # the state, the URL and the names are no credential


def test_a_value_collected_in_one_member_is_masked_in_every_member(tmp_path):
    path = tmp_path / "trace.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("trace.network", har_line("http://sut/ho-so", {"Cookie": f"btp_phien={COOKIE}"}) + "\n")
        z.writestr("trace.trace", json.dumps({"type": "console", "text": f"phiên {COOKIE} — Xin chào"},
                                             ensure_ascii=False) + "\n")
        z.writestr("resources/page.html", f"<p>debug: {COOKIE}</p><p>pin 4821</p>")
        z.writestr("resources/shot.png", b"\x89PNG\r\n\x1a\n" + COOKIE.encode()[:3])
    assert scrub_archive(path, ["4821x"[:4]]) == 3  # a short known secret is masked too
    with zipfile.ZipFile(path) as z:
        data = {n: z.read(n) for n in z.namelist()}
    assert not any(COOKIE.encode() in b for b in data.values()) and b"4821" not in data["resources/page.html"]
    assert json.loads(data["trace.trace"])["text"] == "phiên *** — Xin chào"
    assert json.loads(data["trace.network"])["snapshot"]["request"]["headers"][0]["value"] == "btp_phien=***"
    assert data["resources/shot.png"] == b"\x89PNG\r\n\x1a\n" + COOKIE.encode()[:3]


def test_text_evidence_is_scrubbed_and_keeps_its_fingerprints():
    slice_ = json.dumps([{"path": f"/sso/callback?code={CODE}&state=s-1", "request": {"code": "***#0a1b2c3d4e5f"}},
                         {"page": f'<input type="hidden" name="sessionDataKey" value="{KEY}">'}], indent=2)
    clean = scrub_text(slice_)
    assert CODE not in clean and KEY not in clean and "***#0a1b2c3d4e5f" in clean and "state=s-1" in clean
    json.loads(clean)


def test_a_results_folder_is_scrubbed_file_by_file_and_images_are_left_alone(tmp_path):
    (tmp_path / "a-attachment.json").write_text(json.dumps({"location": f"http://sut/cb?code={CODE}"}), encoding="utf-8")
    (tmp_path / "b-attachment.png").write_bytes(b"\x89PNG code=" + CODE.encode())
    (tmp_path / "c-result.json").write_text('{"name": "test_sso", "status": "passed"}', encoding="utf-8")
    assert [p.name for p in scrub_tree(tmp_path)] == ["a-attachment.json"]
    assert CODE not in (tmp_path / "a-attachment.json").read_text(encoding="utf-8")
