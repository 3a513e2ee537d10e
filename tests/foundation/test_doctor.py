"""`kiemthu doctor` checks that every part of kiemthu imports, not only that external tools exist."""

from __future__ import annotations

from kiemthu.doctor import PARTS, check_imports

PLANTED = "planted: jsonschema_rs is broken on this machine"


def test_every_part_imports_here():
    finding = check_imports()
    assert finding.ok, finding.detail
    assert finding.detail == ", ".join(PARTS)


def test_a_part_that_cannot_import_is_named_with_its_missing_import(tmp_path, monkeypatch):
    """The defect a clean install showed: the mock's modules could not import `jsonschema_rs`, and the doctor
    still said everything was fine."""
    (tmp_path / "jsonschema_rs.py").write_text(f"raise ImportError({PLANTED!r})\n", encoding="utf-8")
    monkeypatch.setenv("PYTHONPATH", str(tmp_path))
    finding = check_imports()
    assert not finding.ok
    assert finding.detail.startswith(f"mocks.validation: ImportError: {PLANTED}"), finding.detail
    assert "mocks.app" in finding.detail  # the modules it takes down with it are counted, not hidden
    assert "pip install ." in finding.fix
