"""The guides a new user needs exist, are linked from the README, and say what the code does: every adapter step kind
of schemas/adapter.schema.json is in the reference with a valid example, and every secret variable is named."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import yaml

from conformance.adapter.dsl import validate_adapter
from kiemthu.demo import SECRET_VARS, demo_environment
from kiemthu.scaffold import InitSettings
from tests.conftest import REPO

GUIDES = REPO / "docs" / "guides"
REFERENCE = GUIDES / "adapter.md"
README = REPO / "README.md"
LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")


def schema() -> dict:
    return json.loads((REPO / "schemas" / "adapter.schema.json").read_text(encoding="utf-8"))


def step_kinds() -> list[str]:
    """The step kinds as the schema defines them: the required key of each branch of a step."""
    return [branch["required"][0] for branch in schema()["$defs"]["step"]["oneOf"]]


def sections(text: str) -> dict[str, str]:
    """`### `kind`` heading → the text up to the next heading."""
    parts = re.split(r"^### `([a-z_]+)`\s*$", text, flags=re.MULTILINE)
    return {parts[i]: parts[i + 1] for i in range(1, len(parts), 2)}


def yaml_blocks(text: str) -> list[str]:
    return re.findall(r"```yaml\n(.*?)```", text, flags=re.DOTALL)


def test_every_step_kind_of_the_schema_has_a_section_with_a_valid_example():
    """One section per step kind (no more, no less), each with an example the adapter schema accepts."""
    found = sections(REFERENCE.read_text(encoding="utf-8"))
    assert sorted(found) == sorted(step_kinds())
    for kind, body in found.items():
        blocks = yaml_blocks(body)
        assert blocks, f"no example for step kind {kind!r}"
        for block in blocks:
            steps = yaml.safe_load(block)
            assert isinstance(steps, list) and any(kind in step for step in steps), (kind, block)
            spec = {"flows": {"citizen_login": [{"goto": "{system.base_url}/"}], "submit": steps}}
            assert validate_adapter(spec) == [], (kind, block)


def test_the_reference_names_every_flow_marker_and_locator_key():
    text = REFERENCE.read_text(encoding="utf-8")
    props = schema()["properties"]
    names = [*props["flows"]["properties"], *props["markers"]["properties"],
             *schema()["$defs"]["locatorBase"]["properties"], *schema()["$defs"]["common"]["properties"]]
    missing = [name for name in names if f"`{name}`" not in text]
    assert not missing, missing
    assert "bắt đầu ở đâu" in text  # where each flow begins


def test_the_readme_links_every_guide_and_the_part_documents():
    text = README.read_text(encoding="utf-8")
    linked = {(REPO / target).resolve() for target in LINK.findall(text) if not target.startswith("http")}
    wanted = [*GUIDES.glob("*.md"), REPO / "mocks" / "README.md", REPO / "conformance" / "README.md",
              REPO / "conformance" / "REQUIREMENTS.md"]
    missing = [str(p.relative_to(REPO)) for p in wanted if p.resolve() not in linked]
    assert not missing, missing


def test_every_relative_link_of_the_readme_and_guides_resolves():
    broken = []
    for doc in [README, *GUIDES.glob("*.md")]:
        for target in LINK.findall(doc.read_text(encoding="utf-8")):
            if not target.startswith("http") and not (doc.parent / target).exists():
                broken.append(f"{doc.relative_to(REPO)} → {target}")
    assert not broken, broken


def test_the_readme_names_every_variable_of_the_scaffold_and_the_demo_and_what_run_does_not_do():
    text = README.read_text(encoding="utf-8")
    scaffold = InitSettings("https://motcua.example.gov.vn", "000.00.00.G15", ["2.001417"]).secrets
    before = dict(os.environ)
    demo = demo_environment()  # the variables `kiemthu demo` sets
    os.environ.clear()
    os.environ.update(before)
    missing = [name for name in {*scaffold, *SECRET_VARS, *demo} if f"`{name}`" not in text]
    assert not missing, missing
    assert "`kiemthu run` does not start the system under test" in text


def test_the_conformance_readme_points_to_the_adapter_reference():
    text = (REPO / "conformance" / "README.md").read_text(encoding="utf-8")
    assert "../docs/guides/adapter.md" in text
