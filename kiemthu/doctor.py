"""`kiemthu doctor`: is this machine ready? Each line is OK or says the fix to apply."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console

from kiemthu.runtime import CHROMIUM_ARGS, DEFAULT_OUT, chromium_path, port_is_free

SETUP = "bash scripts/quickstart setup"


@dataclass
class Finding:
    name: str
    ok: bool
    detail: str
    fix: str = ""


def check_python() -> Finding:
    v = sys.version_info
    ok = v >= (3, 11)
    return Finding("Python", ok, f"{v.major}.{v.minor}.{v.micro} ({sys.executable})", "" if ok else "install Python 3.11 or newer")


def check_chromium() -> Finding:
    path = chromium_path(headless=True)  # what a headless run launches
    fix = (f"install Debian's Chromium: apt-get install -y chromium (or {SETUP}); "
           f"or point KIEMTHU_CHROMIUM at a Chromium executable")
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        return Finding("Chromium", False, f"not found at {path}", fix)
    try:
        from playwright.sync_api import sync_playwright

        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=path, args=CHROMIUM_ARGS, headless=True, timeout=30000)
            version = browser.version
            page = browser.new_page()
            page.set_content("<title>ok</title>")
            title = page.title()
            browser.close()
        return Finding("Chromium", title == "ok", f"{path}, version {version}, launches headless")
    except Exception as exc:  # report, never crash the doctor
        return Finding("Chromium", False, f"{path} does not launch: {str(exc).splitlines()[0][:160]}", fix)


def check_fonts() -> Finding:
    font = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
    ok = font.is_file()
    return Finding("Fonts (DejaVu, Vietnamese)", ok, str(font) if ok else "DejaVu Sans missing",
                   "" if ok else "apt-get install -y fonts-dejavu-core")


def check_allure() -> Finding:
    from reports.allure import find_generator

    path = find_generator()
    fix = f"{SETUP} (installs npm allure-commandline into .tools/allure; needs Java 17)"
    if not path:
        return Finding("Allure generator", False, "not found", fix)
    try:
        out = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=60,
                             env={**os.environ, "ALLURE_NO_ANALYTICS": "true"})
        ok = out.returncode == 0
        return Finding("Allure generator", ok, f"{path} {out.stdout.strip()}", "" if ok else fix)
    except Exception as exc:
        return Finding("Allure generator", False, f"{path}: {exc}", fix)


def check_pdftotext() -> Finding:
    ok = shutil.which("pdftotext") is not None
    return Finding("poppler-utils (PDF checks)", ok, "pdftotext found" if ok else "pdftotext missing",
                   "" if ok else "apt-get install -y poppler-utils")


def check_ports(ports=(8800, 8801)) -> Finding:
    busy = [p for p in ports if not port_is_free(p)]
    return Finding("Default ports", not busy, "free: " + ", ".join(map(str, ports)) if not busy else f"in use: {busy}",
                   "" if not busy else "stop what uses them or pass --port; `kiemthu demo` picks free ports itself")


def check_output(out: Path = DEFAULT_OUT) -> Finding:
    try:
        out.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=out):
            pass
        return Finding("Output directory", True, f"{out} writable")
    except OSError as exc:
        return Finding("Output directory", False, f"{out}: {exc.strerror}", "use --output DIR on a writable disk")


# the shipped packages (pyproject.toml [tool.setuptools.packages.find]); every module of each must import
PARTS = ("kiemthu", "mocks", "conformance", "reports", "loadtest", "schemas", "scenarios", "examples", "controlroom")
# imported for real elsewhere: __main__ would run a program; locust's import patches the whole interpreter (gevent)
NOT_IMPORTED = ("__main__", "loadtest.locustfile")


def import_report(parts: tuple[str, ...] = PARTS) -> None:
    """In a child interpreter: import every module of every part, print one JSON line per failure
    {module, importer, error}, where `importer` is our module whose import statement failed."""
    import importlib
    import importlib.util
    import json
    import pkgutil
    import traceback

    roots = {}
    for part in parts:
        spec = importlib.util.find_spec(part)
        if spec and spec.origin:
            roots[part] = Path(spec.origin).resolve().parent

    def ours(filename: str) -> str | None:
        """`mocks.validation` for …/mocks/validation.py of our own packages, else None."""
        path = Path(filename).resolve()
        for part, root in roots.items():
            if path.is_relative_to(root):
                return ".".join((part, *path.relative_to(root).with_suffix("").parts)).removesuffix(".__init__")
        return None

    for part in parts:
        try:
            names = [part] + [m.name for m in pkgutil.walk_packages(importlib.import_module(part).__path__, part + ".")
                              if not m.name.endswith(NOT_IMPORTED)]
        except BaseException:  # the part itself fails: reported by the import below
            names = [part]
        for name in names:
            try:
                importlib.import_module(name)
            except BaseException as exc:  # a part that cannot be imported is exactly what this reports
                frames = [ours(f.filename) for f in traceback.extract_tb(exc.__traceback__)]
                importer = next((m for m in reversed(frames) if m), name)
                print(json.dumps({"module": name, "importer": importer, "error": f"{type(exc).__name__}: {exc}"}),
                      flush=True)


def check_imports() -> Finding:
    """Each part of kiemthu imports (a dependency missing from this environment is named with its importer)."""
    import json

    fix = "reinstall kiemthu with its dependencies: pip install . (or " + SETUP + ")"
    try:
        out = subprocess.run([sys.executable, "-c", "from kiemthu.doctor import import_report; import_report()"],
                             capture_output=True, text=True, timeout=300, cwd=tempfile.gettempdir())
    except subprocess.TimeoutExpired:
        return Finding("Parts import", False, "importing the parts took over 300 s", fix)
    failures = [json.loads(line) for line in out.stdout.splitlines() if line.startswith("{")]
    if out.returncode != 0 and not failures:
        tail = (out.stderr.strip().splitlines() or ["no output"])[-1]
        return Finding("Parts import", False, f"the import check itself failed: {tail}", fix)
    if not failures:
        return Finding("Parts import", True, ", ".join(PARTS))
    by_cause: dict[tuple[str, str], list[str]] = {}
    for f in failures:
        by_cause.setdefault((f["importer"], f["error"]), []).append(f["module"])
    lines = []
    for (importer, error), modules in by_cause.items():
        others = [m for m in modules if m != importer]
        lines.append(f"{importer}: {error}" + (f" (so {len(others)} more module(s) cannot load: "
                                               f"{', '.join(others[:4])}{', …' if len(others) > 4 else ''})"
                                               if others else ""))
    return Finding("Parts import", False, "; ".join(lines), fix)


CHECKS = [check_python, check_imports, check_chromium, check_fonts, check_allure, check_pdftotext, check_ports, check_output]


def print_findings(findings: list[Finding], console: Console) -> None:
    """One line per finding; a problem's line ends with its fix."""
    for f in findings:
        if f.ok:
            console.print(f"[green]OK[/green]   {f.name}: {f.detail}", highlight=False, soft_wrap=True)
        else:
            console.print(f"[red]FIX[/red]  {f.name}: {f.detail} → {f.fix}", highlight=False, soft_wrap=True)


def run_doctor(console: Console | None = None, target: Path | None = None, machine: bool = True) -> int:
    """The machine's checks (unless `machine` is False) and, with a target file, the target's; 1 on any problem."""
    console = console or Console()
    findings: list[Finding] = []
    if machine:
        findings += [check() for check in CHECKS]
        print_findings(findings, console)
    if target is not None:
        from kiemthu.doctor_target import check_target

        console.print(f"Tệp cấu hình / target {target}:", highlight=False, soft_wrap=True)
        checked = check_target(Path(target))
        print_findings(checked, console)
        findings += checked
    bad = [f for f in findings if not f.ok]
    console.print("All good (môi trường sẵn sàng)." if not bad else f"{len(bad)} problem(s) to fix (cần khắc phục).")
    return 0 if not bad else 1
