"""manifest.json lets a reviewer check that nothing in a run directory changed after the run."""

import json

from reports.manifest import verify, verify_cli, write_manifest


def test_manifest_covers_every_artefact_and_evidence_file(built_run):
    files = json.loads((built_run / "manifest.json").read_text(encoding="utf-8"))["files"]
    for name in ("summary.json", "junit.xml", "journal.jsonl", "report.xlsx", "report.pdf", "report.html",
                 "evidence/ket-hon/processing/trace.zip", "logs/mock.log"):
        assert name in files, name
    assert "manifest.json" not in files
    assert all(len(entry["sha256"]) == 64 for entry in files.values())
    assert verify(built_run) == []


def test_verify_detects_a_modified_evidence_file(run_dir, capsys):
    write_manifest(run_dir)
    assert verify_cli(run_dir) == 0
    shot = run_dir / "evidence" / "ket-hon" / "sso" / "01-portal-login.png"
    shot.write_bytes(shot.read_bytes() + b"\x00")
    assert verify(run_dir) == ["modified: evidence/ket-hon/sso/01-portal-login.png"]
    capsys.readouterr()
    assert verify_cli(run_dir) == 1
    assert "modified: evidence/ket-hon/sso/01-portal-login.png" in capsys.readouterr().out


def test_verify_detects_missing_and_added_files(run_dir):
    write_manifest(run_dir)
    (run_dir / "junit.xml").unlink()
    (run_dir / "evidence" / "extra.png").write_bytes(b"x")
    assert verify(run_dir) == ["missing: junit.xml", "added: evidence/extra.png"]


def test_verify_without_manifest(run_dir):
    assert verify(run_dir)[0].startswith("missing: manifest.json")
    assert verify_cli(run_dir) == 1
