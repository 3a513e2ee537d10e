"""manifest.json and manifest.sig let a reviewer check that a run folder is the one this installation signed."""

import json
import os

from reports.manifest import MANIFEST, SIGNATURE, add_documents, is_inside, seal_of, verify, verify_cli, write_manifest


def test_manifest_covers_every_evidence_file_and_the_signature_every_document(built_run):
    """Every file of the run is listed: evidence in manifest.json, the documents built from it in manifest.sig."""
    files = json.loads((built_run / MANIFEST).read_text(encoding="utf-8"))["files"]
    documents = json.loads((built_run / SIGNATURE).read_text(encoding="utf-8"))["documents"]
    for name in ("summary.json", "junit.xml", "journal.jsonl", "evidence/ket-hon/processing/trace.zip", "logs/mock.log"):
        assert name in files, name
    assert set(documents) == {"report.xlsx", "report.pdf", "report.html"}
    assert not set(files) & {MANIFEST, SIGNATURE, *documents}
    assert all(len(entry["sha256"]) == 64 for entry in [*files.values(), *documents.values()])
    assert verify(built_run) == []


def test_report_prints_the_key_fingerprint_and_the_manifest_hash(built_run):
    """The printed report names the signing key and the manifest, so a reader can match it to --verify."""
    seal = seal_of(built_run)
    page = (built_run / "report.html").read_text(encoding="utf-8")
    assert "Khoá công khai ký bộ kết quả kiểm thử" in page
    assert seal.fingerprint in page and seal.manifest_sha256 in page
    assert seal.fingerprint.startswith("SHA256:") and len(seal.manifest_sha256) == 64


def test_pdf_prints_the_key_fingerprint_and_the_manifest_hash(built_run):
    pypdf = __import__("pytest").importorskip("pypdf")
    text = " ".join(page.extract_text() for page in pypdf.PdfReader(built_run / "report.pdf").pages)
    flat = " ".join(text.split())
    seal = seal_of(built_run)
    assert "Khoá công khai ký bộ kết quả kiểm thử" in flat
    assert seal.manifest_sha256 in flat.replace(" ", "")
    assert seal.fingerprint.replace(" ", "") in flat.replace(" ", "")


def test_verify_detects_a_modified_evidence_file(run_dir, capsys):
    write_manifest(run_dir)
    assert verify_cli(run_dir) == 0
    assert seal_of(run_dir).fingerprint in capsys.readouterr().out  # shown for comparison with the PDF
    shot = run_dir / "evidence" / "ket-hon" / "sso" / "01-portal-login.png"
    shot.write_bytes(shot.read_bytes() + b"\x00")
    assert verify(run_dir) == ["modified: evidence/ket-hon/sso/01-portal-login.png"]
    assert verify_cli(run_dir) == 1
    assert "modified: evidence/ket-hon/sso/01-portal-login.png" in capsys.readouterr().out


def test_verify_detects_missing_and_added_files(run_dir):
    write_manifest(run_dir)
    (run_dir / "junit.xml").unlink()
    (run_dir / "evidence" / "extra.png").write_bytes(b"x")
    assert verify(run_dir) == ["missing: junit.xml", "added: evidence/extra.png"]


def test_verify_detects_a_modified_document(run_dir):
    """Documents are covered by the signature even though manifest.json was written before them."""
    write_manifest(run_dir)
    (run_dir / "report.html").write_text("<p>ok</p>", encoding="utf-8")
    add_documents(run_dir, [run_dir / "report.html"])
    assert verify(run_dir) == []
    (run_dir / "report.html").write_text("<p>forged</p>", encoding="utf-8")
    assert verify(run_dir) == ["modified: report.html"]


def test_verify_without_manifest_or_signature(run_dir):
    assert verify(run_dir)[0].startswith("missing: manifest.json")
    assert verify_cli(run_dir) == 1
    write_manifest(run_dir)
    (run_dir / SIGNATURE).unlink()
    assert verify(run_dir) == [f"missing: {SIGNATURE} (bộ kết quả kiểm thử chưa được ký / build the report first: "
                               f"kiemthu report {run_dir.resolve()})"]


def test_a_manifest_edited_to_match_a_forged_file_breaks_the_signature(run_dir):
    """Recomputing the hash of a modified file in manifest.json is caught: manifest.sig signs the manifest's hash."""
    write_manifest(run_dir)
    (run_dir / "junit.xml").write_text("<testsuites/>", encoding="utf-8")
    manifest = json.loads((run_dir / MANIFEST).read_text(encoding="utf-8"))
    from reports.manifest import sha256_file

    manifest["files"]["junit.xml"] = {"sha256": sha256_file(run_dir / "junit.xml"), "size": 13}
    (run_dir / MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")
    assert verify(run_dir) == ["modified: manifest.json (SHA-256 differs from the signed one / khác bản đã ký)"]


def test_a_signature_edited_to_the_new_hash_no_longer_verifies(run_dir):
    write_manifest(run_dir)
    sig = json.loads((run_dir / SIGNATURE).read_text(encoding="utf-8"))
    sig["manifest_sha256"] = "0" * 64
    (run_dir / SIGNATURE).write_text(json.dumps(sig), encoding="utf-8")
    problems = verify(run_dir)
    assert problems[0].startswith(f"bad signature: {SIGNATURE}")


def test_a_listed_path_outside_the_folder_is_refused(run_dir):
    """A manifest naming ../ or an absolute path would make --verify read files outside the bundle."""
    write_manifest(run_dir)
    manifest = json.loads((run_dir / MANIFEST).read_text(encoding="utf-8"))
    manifest["files"]["../../etc/passwd"] = {"sha256": "0" * 64}
    (run_dir / MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")
    problems = verify(run_dir)
    assert problems[0] == ("outside: ../../etc/passwd (đường dẫn ra ngoài thư mục / a listed path leaves "
                           "the run folder)")


def test_paths_inside_and_outside():
    assert is_inside("evidence/a/b.png") and is_inside("summary.json")
    for rel in ("../x", "/etc/passwd", "a/../../x", "a//b", "./a", "C:/x", "a\\..\\x", ""):
        assert not is_inside(rel), rel


def test_a_fifo_in_the_folder_is_refused(run_dir):
    write_manifest(run_dir)
    os.mkfifo(run_dir / "evidence" / "pipe")
    assert verify(run_dir)[0].startswith("special file: evidence/pipe")


def test_verify_without_a_key_on_this_installation_asks_for_one(run_dir, monkeypatch, tmp_path):
    """On a reviewer's machine with no signing key, --verify needs --public-key and does not make a key."""
    write_manifest(run_dir)
    monkeypatch.setenv("KIEMTHU_SIGNING_KEY", str(tmp_path / "none" / "signing-key.pem"))
    problems = verify(run_dir)
    assert len(problems) == 1 and "has no signing key" in problems[0] and "--public-key" in problems[0]
    assert not (tmp_path / "none").exists()
