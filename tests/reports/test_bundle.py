"""A bundle no one can bend: a forged summary.json is refused by `kiemthu report` and by `--verify`, a bundle
signed by this installation verifies, one signed again with another key does not, and a symlink planted in
the run folder is refused. The fixture is a real demo run (summary.json and journal.jsonl as the harness and
the mock portal wrote them), built once through the command line. The PDF is left out of these builds
to keep them quick: it is one more signed document, and its seal block is tested in test_manifest.py.
"""

import json
import shutil
import sqlite3

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from typer.testing import CliRunner

from conftest import demo_journal, demo_summary, write_run_dir
from kiemthu.cli import app
from reports.manifest import SIGNATURE, add_documents, seal_of, sha256_file, write_manifest
from reports.signing import public_pem

runner = CliRunner()
FORGED = "000.00.00.G15-261202-0099"  # a dossier code the portal never received
DOCUMENTS = ("report.xlsx", "report.html")


@pytest.fixture(scope="module")
def without_pdf():
    import reports.build as build_module

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(build_module, "DOCUMENTS", tuple(d for d in build_module.DOCUMENTS if d[0] in DOCUMENTS))
        yield


@pytest.fixture(scope="module")
def signed_demo(tmp_path_factory, signing_key_path, without_pdf):
    """The real demo run, built and signed by `kiemthu report` once for the module."""
    root = tmp_path_factory.mktemp("signed-demo")
    run = write_run_dir(root / demo_summary()["run_id"], demo_summary(), demo_journal())
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("KIEMTHU_SIGNING_KEY", str(signing_key_path))
        mp.setenv("KIEMTHU_ALLURE", "/nonexistent/allure")
        mp.setenv("KIEMTHU_HISTORY_DB", str(root / "history.sqlite"))
        result = runner.invoke(app, ["report", str(run)])
    assert result.exit_code == 0, result.output
    return run


@pytest.fixture
def bundle(signed_demo, tmp_path):
    """A private copy of the signed demo bundle, for one test to tamper with."""
    return shutil.copytree(signed_demo, tmp_path / signed_demo.name, symlinks=True)


def forge_summary(run):
    summary = json.loads((run / "summary.json").read_text(encoding="utf-8"))
    summary["services"][0]["dossier_codes"] = [FORGED]
    (run / "summary.json").write_text(json.dumps(summary, ensure_ascii=False, indent=2), encoding="utf-8")


def fingerprints(run):
    return {name: sha256_file(run / name) for name in (*DOCUMENTS, "manifest.json", SIGNATURE)}


def recorded_runs(history_db):
    if not history_db.exists():
        return []
    with sqlite3.connect(history_db) as conn:
        return conn.execute("SELECT run_id FROM runs").fetchall()


def test_a_signed_bundle_verifies(bundle):
    """`kiemthu report --verify` accepts the bundle as signed, and prints the key and manifest hash of the PDF."""
    result = runner.invoke(app, ["report", "--verify", str(bundle)])
    assert result.exit_code == 0, result.output
    seal = seal_of(bundle)
    assert "intact, signature valid" in result.output
    assert seal.fingerprint in result.output and seal.manifest_sha256 in result.output


def test_a_forged_summary_is_refused_by_report_and_nothing_is_rebuilt_or_recorded(bundle, history_db):
    """A dossier code that never reached the portal: refused, naming service, field and value; no new PDF,
    no new signature, no history record."""
    forge_summary(bundle)
    before = fingerprints(bundle)
    result = runner.invoke(app, ["report", str(bundle)])
    assert result.exit_code == 2, result.output
    assert "summary.json mâu thuẫn với journal.jsonl" in result.output
    assert f'lltp-cap-phieu: services[0].dossier_codes[0] = "{FORGED}"' in result.output
    assert "never reached the portal" in result.output and "Traceback" not in result.output
    assert fingerprints(bundle) == before
    assert recorded_runs(history_db) == []


def test_a_forged_summary_is_refused_by_verify(bundle):
    forge_summary(bundle)
    result = runner.invoke(app, ["report", "--verify", str(bundle)])
    assert result.exit_code == 1
    assert "modified: summary.json" in result.output
    assert f'disagrees with journal.jsonl: summary.json lltp-cap-phieu: services[0].dossier_codes[0] = "{FORGED}"' \
        in result.output


def test_a_forged_summary_signed_again_is_still_refused_by_verify(bundle):
    """Whoever holds the key and seals a forged summary by hand still contradicts the portal's journal."""
    forge_summary(bundle)
    write_manifest(bundle)
    add_documents(bundle, [bundle / name for name in DOCUMENTS])
    result = runner.invoke(app, ["report", "--verify", str(bundle)])
    assert result.exit_code == 1
    assert "modified" not in result.output and "disagrees with journal.jsonl" in result.output


def test_a_bundle_signed_again_with_another_key_is_refused_unless_that_key_is_given(bundle, tmp_path):
    other = Ed25519PrivateKey.generate()
    write_manifest(bundle, other)
    add_documents(bundle, [bundle / name for name in DOCUMENTS], other)
    result = runner.invoke(app, ["report", "--verify", str(bundle)])
    assert result.exit_code == 1
    assert f"wrong key: {SIGNATURE} is signed by" in result.output and "--public-key" in result.output
    other_pem = tmp_path / "other.pem"
    other_pem.write_text(public_pem(other.public_key()), encoding="utf-8")
    assert runner.invoke(app, ["report", "--verify", str(bundle), "--public-key", str(other_pem)]).exit_code == 0


def test_a_signature_by_another_key_with_this_key_named_is_refused(bundle, tmp_path, signing_key):
    """--public-key names the key to trust; a signature by any other key fails even with the right hashes."""
    other = Ed25519PrivateKey.generate()
    other_pem = tmp_path / "other.pem"
    other_pem.write_text(public_pem(other.public_key()), encoding="utf-8")
    result = runner.invoke(app, ["report", "--verify", str(bundle), "--public-key", str(other_pem)])
    assert result.exit_code == 1 and f"wrong key: {SIGNATURE}" in result.output


def test_a_symlink_to_etc_passwd_is_refused_by_verify_and_by_report(bundle):
    (bundle / "evidence" / "passwd").symlink_to("/etc/passwd")
    result = runner.invoke(app, ["report", "--verify", str(bundle)])
    assert result.exit_code == 1
    assert "symlink: evidence/passwd -> /etc/passwd" in result.output
    before = fingerprints(bundle)
    result = runner.invoke(app, ["report", str(bundle)])
    assert result.exit_code == 2 and "symlink: evidence/passwd -> /etc/passwd" in result.output
    assert fingerprints(bundle) == before


def test_a_symlinked_folder_is_refused(bundle, tmp_path):
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "x.png").write_bytes(b"x")
    (bundle / "evidence" / "more").symlink_to(tmp_path / "outside", target_is_directory=True)
    result = runner.invoke(app, ["report", "--verify", str(bundle)])
    assert result.exit_code == 1 and "symlink: evidence/more ->" in result.output
    assert "x.png" not in result.output  # never followed


def test_rebuilding_an_unchanged_bundle_verifies_again(bundle, without_pdf):
    """A second `kiemthu report` (e.g. in English) re-signs the same evidence; no document of the first build
    is left over as an unlisted file."""
    manifest_before = json.loads((bundle / "manifest.json").read_text(encoding="utf-8"))["files"]
    result = runner.invoke(app, ["report", str(bundle), "--language", "en"])
    assert result.exit_code == 0, result.output
    assert json.loads((bundle / "manifest.json").read_text(encoding="utf-8"))["files"] == manifest_before
    assert runner.invoke(app, ["report", "--verify", str(bundle)]).exit_code == 0


def test_a_public_key_file_that_cannot_be_read_is_named(bundle, tmp_path):
    missing = tmp_path / "nope.pem"
    result = runner.invoke(app, ["report", "--verify", str(bundle), "--public-key", str(missing)])
    assert result.exit_code == 1 and "nope.pem" in result.output and "Traceback" not in result.output
    garbage = tmp_path / "garbage.pem"
    garbage.write_text("hello", encoding="utf-8")
    result = runner.invoke(app, ["report", "--verify", str(bundle), "--public-key", str(garbage)])
    assert result.exit_code == 1 and "not a PEM public key" in result.output
