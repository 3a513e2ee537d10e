"""`kiemthu report --merge RUN_DIR... [--output DIR]`: one run directory, one manifest, one submission from several.

A catalogue split over machines (`kiemthu run --shard K/N`) comes back as N signed run directories. The merge
checks each one first (its signature by the trusted key, every file against its manifest, its summary
against its portal journal) and refuses one that is tampered or unsigned, runs of different targets or
contract profiles (naming the field and both values), and a service tested in two runs. Then it writes:

    DIR/runs/<run-id>/      each source folder as it was signed (still verifiable on its own, journal included)
    DIR/summary.json        every service, each naming the run it came from (`_run_id`, `_run_dir`)
    DIR/junit.xml           the shards' test suites side by side
    DIR/allure-results/     the shards' results, for one Allure page
    DIR/manifest.json/.sig  one manifest over all of it, signed, and the documents (reports/build.py)

Each service keeps its evidence and its journal in its own run's folder, so the cross-check of the summary
against the portal's record (reports/crosscheck.py) reads the journal the service was tested against.
"""

from __future__ import annotations

import json
import shutil
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape

from kiemthu.runtime import DEFAULT_OUT, new_run_id
from reports.model import SummaryError, parse_time, read_summary

RUNS = "runs"
# what two runs must share to make one submission; `target.*` fields name the system under test
SAME_FIELDS = ("profile", "target.agency_code", "target.name", "publication_date", "tester")
ALLURE_CONTEXT = ("environment.properties", "executor.json")


class MergeRefused(Exception):
    """The runs cannot be merged; each problem names the run, the field and the values."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("; ".join(problems))


@dataclass
class Source:
    run_dir: Path
    summary: dict[str, Any]
    seal: Any = None

    @property
    def run_id(self) -> str:
        return self.summary["run_id"]

    @property
    def service_ids(self) -> list[str]:
        return [s["id"] for s in self.summary.get("services", [])]


@dataclass
class MergeResult:
    run_dir: Path
    paths: list[Path] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    failed: bool = False


# -- refusals -------------------------------------------------------------------------------------------------

def field_value(summary: dict[str, Any], dotted: str) -> Any:
    value: Any = summary
    for part in dotted.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def ensure_same_target(sources: list[Source]) -> list[str]:
    """Every run tested the same system under the same contract profile (and for the same submission)."""
    first = sources[0]
    problems = []
    for other in sources[1:]:
        for name in SAME_FIELDS:
            a, b = field_value(first.summary, name), field_value(other.summary, name)
            if a != b:
                problems.append(f"{name}: run {first.run_id} has {json.dumps(a, ensure_ascii=False)}, run "
                                f"{other.run_id} has {json.dumps(b, ensure_ascii=False)} — runs of different "
                                f"targets or profiles are not merged (khác hệ thống hoặc hồ sơ hợp đồng)")
    return problems


def ensure_services_once(sources: list[Source]) -> list[str]:
    """A service tested in two runs would have two verdicts in one submission: refused, naming both runs."""
    seen: dict[str, str] = {}
    problems = []
    for source in sources:
        for sid in source.service_ids:
            if sid in seen:
                problems.append(f"services: {sid} is in run {seen[sid]} and in run {source.run_id} — merge runs "
                                f"of distinct services, e.g. the shards of one --shard K/N split "
                                f"(dịch vụ có mặt ở hai lần chạy)")
            else:
                seen[sid] = source.run_id
    return problems


def ensure_runs_distinct(sources: list[Source]) -> list[str]:
    ids = [s.run_id for s in sources]
    return [f"run_id: {i} is given twice (một lần chạy được chỉ định hai lần)" for i in sorted({i for i in ids
                                                                                             if ids.count(i) > 1})]


def ensure_signed(run_dir: Path, public_key: Path | None) -> list[str]:
    """The source is the bundle that was signed, by the trusted key (reports.manifest.verify)."""
    from reports.manifest import verify

    return [f"{run_dir}: {p}" for p in verify(run_dir, public_key)]


def read_sources(run_dirs: list[Path], public_key: Path | None) -> list[Source]:
    """Each run directory read and verified; every problem of every run is told at once."""
    from reports.manifest import seal_of

    if len(run_dirs) < 2:
        raise MergeRefused([f"RUN_DIR: rule 'at least two run directories' — {len(run_dirs)} given "
                            f"(cần ít nhất hai thư mục lần chạy)"])
    problems: list[str] = []
    sources: list[Source] = []
    for run_dir in run_dirs:
        run_dir = Path(run_dir)
        if not run_dir.is_dir():
            problems.append(f"{run_dir}: run directory not found (không tìm thấy thư mục lần chạy)")
            continue
        try:
            summary = read_summary(run_dir)
        except SummaryError as exc:
            problems.append(str(exc))
            continue
        unsigned = ensure_signed(run_dir, public_key)
        if unsigned:
            problems.append(f"{run_dir}: not merged, the run is not the bundle that was signed "
                            f"(bộ kết quả không còn nguyên vẹn hoặc chưa ký):")
            problems += [f"  {p}" for p in unsigned]
            continue
        sources.append(Source(run_dir.resolve(), summary, seal_of(run_dir)))
    if problems:
        raise MergeRefused(problems)
    sources.sort(key=lambda s: (parse_time(s.summary["started_at"]), s.run_id))
    problems = ensure_runs_distinct(sources) + ensure_same_target(sources) + ensure_services_once(sources)
    if problems:
        raise MergeRefused(problems)
    return sources


def output_dir(output: Path | None, sources: list[Source]) -> Path:
    """A new or empty folder outside every source (and holding none)."""
    out = Path(output) if output else DEFAULT_OUT / new_run_id()
    resolved = out.resolve()
    for s in sources:
        if resolved.is_relative_to(s.run_dir) or s.run_dir.is_relative_to(resolved):
            raise MergeRefused([f"--output: rule 'outside the source runs' — value {out} overlaps {s.run_dir}"])
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise MergeRefused([f"--output: rule 'a new or empty folder' — value {out} already holds files "
                            f"(thư mục đích phải trống)"])
    out.mkdir(parents=True, exist_ok=True)
    return out


# -- the merged folder ----------------------------------------------------------------------------------------

def copy_sources(out: Path, sources: list[Source]) -> None:
    """Each source as signed, under runs/<run-id>/ (its journal and evidence stay together)."""
    for s in sources:
        shutil.copytree(s.run_dir, out / RUNS / s.run_id, symlinks=True)


def merge_allure_results(out: Path, sources: list[Source]) -> None:
    """One allure-results folder: result files are named by uuid, so the shards' never collide."""
    target = out / "allure-results"
    for s in sources:
        results = s.run_dir / "allure-results"
        if not results.is_dir():
            continue
        target.mkdir(exist_ok=True)
        for path in sorted(results.iterdir()):
            if path.is_file() and not (path.name in ALLURE_CONTEXT and (target / path.name).exists()):
                shutil.copy2(path, target / path.name)


def merge_junit(out: Path, sources: list[Source]) -> Path | None:
    """junit.xml holding every shard's <testsuite>, each named after its run."""
    root = ET.Element("testsuites")
    for s in sources:
        path = s.run_dir / "junit.xml"
        if not path.is_file():
            continue
        try:
            tree = ET.parse(path).getroot()
        except ET.ParseError:
            continue
        for suite in ([tree] if tree.tag == "testsuite" else tree.findall("testsuite")):
            suite.set("name", f"{suite.get('name', 'pytest')} [{s.run_id}]")
            root.append(suite)
    if not len(root):
        return None
    path = out / "junit.xml"
    ET.ElementTree(root).write(path, encoding="utf-8", xml_declaration=True)
    return path


def merged_service(service: dict[str, Any], source: Source) -> dict[str, Any]:
    """A service as its run recorded it, naming that run and where its evidence and journal are now."""
    out = dict(service)
    inner = service.get("_run_dir")  # a source that was itself merged keeps its services' own runs
    base = f"{RUNS}/{source.run_id}"
    out["_run_dir"] = f"{base}/{inner}" if inner and not Path(inner).is_absolute() else base
    out["_run_id"] = service.get("_run_id") or source.run_id
    out["_target"] = service.get("_target") or source.summary.get("target") or {}
    out["_defects"] = service.get("_defects") or list(source.summary.get("defects") or [])
    return out


def merged_summary(run_id: str, sources: list[Source]) -> dict[str, Any]:
    from schemas import validator

    first = sources[0].summary
    services = [merged_service(svc, s) for s in sources for svc in s.summary.get("services", [])]
    totals: dict[str, int] = {"services": len(services), "completed": sum(bool(s.get("completed")) for s in services)}
    for svc in services:
        for check in (svc.get("checks") or {}).values():
            totals[check["verdict"]] = totals.get(check["verdict"], 0) + 1
    run_ids: list[str] = []
    for s in sources:
        run_ids += s.summary.get("_run_ids") or [s.run_id]
    summary = {
        "schema_version": 1, "run_id": run_id, "harness_version": first.get("harness_version"),
        "profile": first["profile"], "target": dict(first["target"]),
        "tester": first.get("tester"), "publication_date": first.get("publication_date"),
        "defects": sorted({d for s in sources for d in s.summary.get("defects") or []}),
        "started_at": min((s.summary["started_at"] for s in sources), key=parse_time),
        "finished_at": max((s.summary["finished_at"] for s in sources), key=parse_time),
        "services": services, "totals": totals,
        "_run_ids": list(dict.fromkeys(run_ids)),
        "merged_from": [source_record(s) for s in sources],
    }
    errors = [e.message for e in validator("summary").iter_errors(summary)]
    if errors:
        raise MergeRefused([f"summary.json of the merge breaks its schema: {'; '.join(errors[:3])}"])
    return summary


def source_record(source: Source) -> dict[str, Any]:
    record: dict[str, Any] = {"run_id": source.run_id, "dir": f"{RUNS}/{source.run_id}",
                              "services": source.service_ids}
    if source.summary.get("shard"):
        record["shard"] = source.summary["shard"]
    if source.seal is not None:
        record["manifest_sha256"] = source.seal.manifest_sha256
        record["fingerprint"] = source.seal.fingerprint
    return record


def repeated_codes(sources: list[Source]) -> list[str]:
    """Dossier codes that two runs both used (two reference systems numbering from 1): worth a note."""
    owner: dict[str, str] = {}
    notes = []
    for s in sources:
        for svc in s.summary.get("services", []):
            for code in svc.get("dossier_codes") or []:
                if code in owner and owner[code] != s.run_id:
                    notes.append(f"dossier code {code} is used in run {owner[code]} and in run {s.run_id} "
                                 f"(mã hồ sơ trùng giữa hai lần chạy: the systems tested numbered separately)")
                owner.setdefault(code, s.run_id)
    return notes


def merge_runs(run_dirs: list[Path], output: Path | None = None, public_key: Path | None = None,
               language: str = "vi", trend_from: Path | None = None) -> MergeResult:
    """Verify, refuse or merge, then build the documents and seal the merged folder (reports.build.build)."""
    from reports.build import build

    sources = read_sources([Path(p) for p in run_dirs], public_key)
    created = not (output and Path(output).exists())
    out = output_dir(output, sources)
    try:
        copy_sources(out, sources)
        merge_allure_results(out, sources)
        merge_junit(out, sources)
        run_id = out.name if _is_run_id(out.name) else new_run_id()
        summary = merged_summary(run_id, sources)
        (out / "summary.json").write_text(json.dumps(summary, ensure_ascii=False, indent=2), encoding="utf-8")
        (out / "logs").mkdir(exist_ok=True)
        built = build(out, language, trend_from=trend_from)
    except BaseException:
        clear(out, remove=created)  # a half-merged folder is no bundle
        raise
    return MergeResult(out, built.paths, repeated_codes(sources) + built.notes, built.failed)


def clear(out: Path, remove: bool) -> None:
    """Empty the output folder again; remove it when the merge created it."""
    if remove:
        shutil.rmtree(out, ignore_errors=True)
        return
    for path in out.iterdir():
        shutil.rmtree(path, ignore_errors=True) if path.is_dir() and not path.is_symlink() else path.unlink()


def _is_run_id(name: str) -> bool:
    from conformance.suite import RUN_ID

    return bool(RUN_ID.match(name))


def merge_cli(run_dirs: list[Path], output: Path | None = None, public_key: Path | None = None,
              language: str = "vi", trend_from: Path | None = None) -> int:
    """0 when merged and every document built, 1 when a document failed, 2 when the merge is refused."""
    from reports.crosscheck import EvidenceMismatch
    from reports.manifest import UnsafeFolder
    from reports.signing import SigningKeyError

    console = Console()
    try:
        result = merge_runs(run_dirs, output, public_key, language, trend_from)
    except MergeRefused as exc:
        console.print(f"[red]Không gộp được / merge refused[/red] ({len(exc.problems)}):", highlight=False)
        for line in exc.problems:
            console.print(f"  {line}", markup=False, highlight=False, soft_wrap=True)
        return 2
    except EvidenceMismatch as exc:
        console.print("[red]Không gộp được: summary.json mâu thuẫn với journal.jsonl / merge refused: the summary "
                      "disagrees with the portal's journal[/red]", highlight=False, soft_wrap=True)
        for line in exc.disagreements:
            console.print(f"  {line}", markup=False, highlight=False, soft_wrap=True)
        return 2
    except (SummaryError, UnsafeFolder, SigningKeyError, ValueError) as exc:
        console.print(f"[red]Không gộp được / merge refused:[/red] {escape(str(exc))}", highlight=False,
                      soft_wrap=True)
        return 2
    console.print(f"Merged run directory (thư mục lần chạy đã gộp): {escape(str(result.run_dir))}", highlight=False,
                  soft_wrap=True)
    summary = read_summary(result.run_dir)
    for svc in summary["services"]:
        console.print(f"  {escape(svc['id'])} ← run {escape(svc['_run_id'])}", highlight=False)
    for path in result.paths:
        console.print(f"[green]✓[/green] {escape(str(path))}", highlight=False, soft_wrap=True)
    for note in result.notes:
        console.print(f"[yellow]![/yellow] {escape(note)}", highlight=False, soft_wrap=True)
    return 1 if result.failed else 0
