"""Fixtures of the load-test tests: demo ports and secrets, target variants, a fresh reference system."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from kiemthu.demo import DEMO_TARGET


@pytest.fixture
def make_target(tmp_path):
    """Write a copy of the demo target with its `load` section changed (scenarios resolve from scenarios/)."""

    def make(load: dict | None = None, *, replace: bool = False, name: str = "target.yaml", **top) -> Path:
        data = yaml.safe_load(DEMO_TARGET.read_text(encoding="utf-8"))
        data["load"] = load if replace else {**data.get("load", {}), **(load or {})}
        data.update(top)
        path = tmp_path / name
        path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
        return path

    return make


@pytest.fixture
def reference_system(tmp_path):
    """Start the reference ministry system for a target file (fresh database each time); stopped afterwards."""
    from kiemthu.demo import start_reference_system
    from kiemthu.target import load_target

    started = []

    def start(target_path: Path, defects: list[str] | tuple[str, ...] = ()):
        proc = start_reference_system(load_target(target_path), tmp_path / "ministry", list(defects))
        started.append(proc)
        return proc

    yield start
    for proc in started:
        proc.stop()


def summary_of(run_dir: Path) -> dict:
    return json.loads((run_dir / "load" / "summary.json").read_text(encoding="utf-8"))
