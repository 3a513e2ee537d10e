"""The installation's signing key: made once, private (mode 0600), outside the run folder, overridable."""

import stat
from pathlib import Path

import pytest

from reports.signing import (ENV_KEY, SigningKeyError, fingerprint, installation_key, key_path, load_public_key,
                             public_pem, sign, signature_valid)


def test_the_key_path_follows_the_environment(monkeypatch, tmp_path):
    """$KIEMTHU_SIGNING_KEY wins; else $XDG_CONFIG_HOME/kiemthu/; else ~/.config/kiemthu/."""
    monkeypatch.setenv(ENV_KEY, str(tmp_path / "k.pem"))
    assert key_path() == tmp_path / "k.pem"
    monkeypatch.delenv(ENV_KEY)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "cfg"))
    assert key_path() == tmp_path / "cfg" / "kiemthu" / "signing-key.pem"
    monkeypatch.delenv("XDG_CONFIG_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert key_path() == tmp_path / "home" / ".config" / "kiemthu" / "signing-key.pem"


def test_tests_never_sign_with_the_users_key(signing_key):
    """Every test (and every command a test starts) signs with a key in a temporary folder."""
    assert key_path() == signing_key
    assert not key_path().is_relative_to(Path.home() / ".config")


def test_the_key_is_created_once_with_mode_0600(tmp_path):
    path = tmp_path / "new" / "signing-key.pem"
    first = installation_key(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert fingerprint(installation_key(path).public_key()) == fingerprint(first.public_key())


def test_a_key_others_can_read_is_refused(tmp_path):
    """Like ssh: a private key readable by group or others is not used (chmod 600 is named)."""
    path = tmp_path / "signing-key.pem"
    installation_key(path)
    path.chmod(0o644)
    with pytest.raises(SigningKeyError, match=r"mode 0644.*chmod 600"):
        installation_key(path)


def test_a_file_that_is_not_an_ed25519_key_is_named(tmp_path):
    path = tmp_path / "signing-key.pem"
    path.write_text("not a key", encoding="utf-8")
    path.chmod(0o600)
    with pytest.raises(SigningKeyError, match="not a readable PEM private key"):
        installation_key(path)


def test_signature_round_trip_and_fingerprint_shape(tmp_path):
    key = installation_key(tmp_path / "k.pem")
    public = load_public_key(public_pem(key.public_key()), "test")
    signature = sign(key, b"manifest")
    assert signature_valid(public, signature, b"manifest")
    assert not signature_valid(public, signature, b"manifest!")
    assert not signature_valid(public, "not base64 ***", b"manifest")
    assert fingerprint(public).startswith("SHA256:") and len(fingerprint(public).split()) == 16


def test_a_key_inside_the_run_folder_is_refused(run_dir, monkeypatch, capsys):
    """The private key would travel with the evidence it signs; `kiemthu report` refuses and builds nothing."""
    from reports.build import build_cli

    monkeypatch.setenv(ENV_KEY, str(run_dir / "logs" / "key.pem"))
    assert build_cli(run_dir) == 2
    out = capsys.readouterr().out
    assert "inside the run folder" in out and "key.pem" in out
    assert not (run_dir / "logs" / "key.pem").exists() and not (run_dir / "manifest.json").exists()


def test_runs_starting_together_keep_one_key(tmp_path):
    """Two processes creating the key at once end with the same key, and no partial file is left."""
    import subprocess
    import sys

    path = tmp_path / "cfg" / "signing-key.pem"
    code = ("import sys; from reports.signing import installation_key, fingerprint; "
            "print(fingerprint(installation_key(sys.argv[1]).public_key()))")
    procs = [subprocess.Popen([sys.executable, "-c", code, str(path)], stdout=subprocess.PIPE, text=True)
             for _ in range(4)]
    prints = {p.communicate(timeout=60)[0].strip() for p in procs}
    assert len(prints) == 1 and all(p.returncode == 0 for p in procs)
    assert [f.name for f in path.parent.iterdir()] == ["signing-key.pem"]
