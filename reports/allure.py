"""allure-report.html: the Allure report of the run, generated offline as one file that calls no server.

The generator (npm allure-commandline, needs Java) is found via $KIEMTHU_ALLURE, then the copy the setup
script installs under .tools/, then PATH. Its single-file output embeds its scripts as base64 data URIs;
the only remote address in them is the Playwright trace viewer, which would receive the trace of a test
(a third party seeing the run), so it is replaced, and a Content-Security-Policy forbids any other fetch.

The single file base64-embeds every attachment again (traces, journal slices, pages), so the results are scrubbed
of credentials before the generator reads them, and the generated page is checked: one still holding a
credential is not written.
"""

from __future__ import annotations

import base64
import io
import os
import re
import shutil
import subprocess
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from kiemthu.runtime import REPO_ROOT
from kiemthu.scrub import scrub_tree, unmasked_credentials

TIMEOUT_S = 180
TOOLS_PATH = REPO_ROOT / ".tools" / "allure" / "node_modules" / ".bin" / "allure"
REMOTE_VIEWERS = ("https://trace.playwright.dev/", "https://trace.playwright.dev")
INERT_URL = "about:blank"
EMBEDDED_FILE = re.compile(r"""d\('([^']+)',\s*'([A-Za-z0-9+/=]+)'\)""")  # the single file's data/… files
DATA_URI = re.compile(r"data:(text/javascript|application/javascript|text/html|text/css)([^,\"']*);base64,([A-Za-z0-9+/=]+)")
# scripts and styles are inline or data: URIs; everything else (fetch, frames, images, fonts) stays local
CSP = ("default-src 'none'; script-src 'unsafe-inline' 'unsafe-eval' data: blob:; "
       "style-src 'unsafe-inline' data: blob:; img-src data: blob:; font-src data: blob:; "
       "connect-src data: blob:; media-src data: blob:; frame-src data: blob:; worker-src data: blob:; "
       "base-uri 'none'; form-action 'none'")


# Allure's trend and each test's history travel inside the single file as history/*.json
EMBEDDED_HISTORY = re.compile(r"""d\('history/([A-Za-z0-9_.-]+\.json)',\s*'([A-Za-z0-9+/=]*)'\)""")
HISTORY_DIR = "history"


@dataclass
class AllureOutcome:
    path: Path | None
    note: str | None = None  # why there is no report, when there is none


def find_generator() -> Path | None:
    configured = os.environ.get("KIEMTHU_ALLURE")
    if configured:
        return Path(configured) if Path(configured).is_file() else None
    if TOOLS_PATH.is_file():
        return TOOLS_PATH
    found = shutil.which("allure")
    return Path(found) if found else None


def build_allure(run_dir: Path, output: Path | None = None) -> AllureOutcome:
    """Generate allure-report.html from run_dir/allure-results, or explain why not (never raises)."""
    results = run_dir / "allure-results"
    if not results.is_dir() or not any(results.iterdir()):
        return AllureOutcome(None, "no allure-results in the run directory")
    generator = find_generator()
    if generator is None:
        return AllureOutcome(None, "Allure generator not found: set KIEMTHU_ALLURE or run the setup script")
    output = output or run_dir / "allure-report.html"
    scrub_tree(results)
    with tempfile.TemporaryDirectory(prefix="kiemthu-allure-") as tmp:
        note = run_generator(generator, results, Path(tmp))
        produced = Path(tmp) / "index.html"
        if note or not produced.is_file():
            return AllureOutcome(None, note or "Allure generator produced no index.html")
        page = make_offline(produced.read_text(encoding="utf-8"))
    leaking = embedded_credentials(page)
    if leaking:
        return AllureOutcome(None, f"Allure report not written: {leaking[0]} would embed a credential")
    output.write_text(page, encoding="utf-8")
    return AllureOutcome(output)


def history_files(page: str) -> dict[str, bytes]:
    """The history/*.json files a single-file report carries: where the next run's trend starts from."""
    out = {}
    for m in EMBEDDED_HISTORY.finditer(page):
        try:
            out[m.group(1)] = base64.b64decode(m.group(2))
        except ValueError:
            continue
    return out


def carry_trend(results: Path, earlier: list[Path]) -> Path | None:
    """Continue Allure's trend (and each test's history) from the latest of the `earlier` run folders whose
    allure-report.html holds one: its history files are written to results/history before the generator runs.
    A folder that already has them keeps them, so a rebuilt report shows the trend it showed. Returns the run
    folder the trend came from."""
    target = results / HISTORY_DIR
    if not results.is_dir() or (target.is_dir() and any(target.iterdir())):
        return None
    for folder in earlier:
        report = folder / "allure-report.html"
        if not report.is_file() or report.is_symlink():
            continue
        files = history_files(report.read_text(encoding="utf-8", errors="replace"))
        if not files:
            continue
        target.mkdir(parents=True, exist_ok=True)
        for name, data in files.items():
            (target / name).write_bytes(data)
        return folder
    return None


def embedded_credentials(page: str) -> list[str]:
    """The embedded files (attachments, test data) of a single-file report that still hold a credential."""
    out = []
    for m in EMBEDDED_FILE.finditer(page):
        name = m.group(1)
        if name.endswith((".png", ".jpg", ".jpeg", ".webm", ".svg")):
            continue
        try:
            data = base64.b64decode(m.group(2))
        except ValueError:
            continue
        if _holds_credential(data):
            out.append(name)
    return out


def _holds_credential(data: bytes) -> bool:
    if data[:4] == b"PK\x03\x04":  # a trace: every member
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as z:
                return any(_holds_credential(z.read(n)) for n in z.namelist())
        except zipfile.BadZipFile:
            return False
    return bool(unmasked_credentials(data))


def run_generator(generator: Path, results: Path, out_dir: Path) -> str | None:
    """Run `allure generate --single-file`; a one-line note on failure, None on success."""
    cmd = [str(generator), "generate", "--single-file", str(results), "-o", str(out_dir), "--clean"]
    env = {**os.environ, "ALLURE_NO_ANALYTICS": "true"}
    try:
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=TIMEOUT_S)
    except subprocess.TimeoutExpired:
        return f"Allure generator did not finish within {TIMEOUT_S}s"
    except OSError as exc:
        return f"Allure generator could not start: {exc}"
    if proc.returncode != 0:
        last = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["no output"]
        return f"Allure generator exited with code {proc.returncode}: {last[0][:200]}"
    return None


def make_offline(page: str) -> str:
    """The generated page with remote viewers replaced and a no-network Content-Security-Policy."""
    page = DATA_URI.sub(_neutralize_data_uri, page)
    page = _replace_remote(page)
    meta = f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
    return re.sub(r"<head([^>]*)>", lambda m: f"<head{m.group(1)}>\n    {meta}", page, count=1)


def _neutralize_data_uri(match: re.Match) -> str:
    mime, params, payload = match.groups()
    try:
        code = base64.b64decode(payload).decode("utf-8")
    except (ValueError, UnicodeDecodeError):
        return match.group(0)
    cleaned = _replace_remote(code)
    if cleaned == code:
        return match.group(0)
    return f"data:{mime}{params};base64,{base64.b64encode(cleaned.encode('utf-8')).decode('ascii')}"


def _replace_remote(text: str) -> str:
    for url in REMOTE_VIEWERS:
        text = text.replace(url, INERT_URL)
    return text


def remote_urls(page: str) -> set[str]:
    """Remote http(s) addresses in the page, including inside base64 data URIs (for checks and tests).

    XML namespace identifiers and the placeholder base Allure parses relative links against are not fetched,
    so they are left out.
    """
    texts = [page]
    for m in re.finditer(r"data:[a-z/+.-]+[^,\"']*;base64,([A-Za-z0-9+/=]+)", page):
        try:
            texts.append(base64.b64decode(m.group(1)).decode("utf-8", "replace"))
        except ValueError:
            continue
    found = set()
    for text in texts:
        found |= set(re.findall(r"https?://[A-Za-z0-9.-]+", text))
    return {u for u in found if not _is_identifier(u)}


def _is_identifier(url: str) -> bool:
    host = url.split("://", 1)[1]
    return host in {"www.w3.org", "purl.org", "creativecommons.org", "sodipodi.sourceforge.net",
                    "www.inkscape.org", "allure.local", "github.com"}
