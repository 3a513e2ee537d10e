"""Evidence that falls out of the fixtures: one folder per service and check, secrets masked at the source."""

from __future__ import annotations

import base64
import json
import re
import unicodedata
from pathlib import Path
from typing import Any

from kiemthu.scrub import scrub_archive, scrub_text

CHECK_OF_FLOW = {"citizen_login": "sso", "logout": "sso", "open_service": "submission", "submit": "submission",
                 "pay": "payment", "officer_login": "processing", "officer_process": "processing"}


def slug(text: str, limit: int = 48) -> str:
    """ASCII file-name part: Vietnamese letters lose their marks (đ → d), everything else becomes '-'."""
    plain = unicodedata.normalize("NFKD", text.replace("đ", "d").replace("Đ", "D"))
    plain = "".join(ch for ch in plain if not unicodedata.combining(ch))
    s = re.sub(r"[^a-z0-9]+", "-", plain.lower().encode("ascii", "ignore").decode()).strip("-")
    return s[:limit].strip("-") or "step"


class Evidence:
    """Files of one run: evidence/<service>/<check>/…; paths handed out relative to the run directory."""

    def __init__(self, run_dir: Path):
        self.run_dir = Path(run_dir)
        self._counter: dict[tuple[str, str], int] = {}
        self.files: dict[tuple[str, str], list[str]] = {}

    def folder(self, service: str, check: str) -> Path:
        p = self.run_dir / "evidence" / service / check
        p.mkdir(parents=True, exist_ok=True)
        return p

    def rel(self, path: Path) -> str:
        return str(Path(path).relative_to(self.run_dir))

    def _add(self, service: str, check: str, path: Path) -> str:
        rel = self.rel(path)
        lst = self.files.setdefault((service, check), [])
        if rel not in lst:
            lst.append(rel)
        return rel

    def next_name(self, service: str, check: str, stem: str, ext: str) -> Path:
        n = self._counter.get((service, check), 0) + 1
        self._counter[(service, check)] = n
        return self.folder(service, check) / f"{n:02d}-{slug(stem)}.{ext}"

    def screenshot(self, page, service: str, check: str, stem: str) -> str | None:
        path = self.next_name(service, check, stem, "png")
        try:
            path.write_bytes(_fast_png(page))
        except Exception:
            try:
                page.screenshot(path=str(path), timeout=5000)
            except Exception:  # a closed page or crashed tab must not hide the real finding
                return None
        return self._add(service, check, path)

    def write_json(self, service: str, check: str, name: str, data: Any) -> str:
        path = self.folder(service, check) / name
        path.write_text(scrub_text(json.dumps(data, ensure_ascii=False, indent=2, default=str)), encoding="utf-8")
        return self._add(service, check, path)

    def write_text(self, service: str, check: str, name: str, text: str) -> str:
        path = self.folder(service, check) / name
        path.write_text(scrub_text(text), encoding="utf-8")
        return self._add(service, check, path)

    def add_file(self, service: str, check: str, path: Path) -> str:
        return self._add(service, check, path)

    def trace_path(self, service: str, check: str) -> Path:
        folder = self.folder(service, check)
        path = folder / "trace.zip"
        n = 2
        while path.exists():
            path = folder / f"trace-{n}.zip"
            n += 1
        return path

    def list(self, service: str, check: str) -> list[str]:
        return list(self.files.get((service, check), []))


def scrub_zip(path: Path, secrets: list[str]) -> int:
    """Rewrite a trace archive with every credential it holds (cookies, codes, tokens, session keys: see
    `kiemthu.scrub`) and every known secret masked; returns the number of members changed."""
    return scrub_archive(Path(path), secrets)


def _fast_png(page) -> bytes:
    """The viewport as PNG through Chromium's DevTools protocol with its fast encoder: half the time of
    `page.screenshot`, which matters with a screenshot after every step."""
    sessions = page.context.__dict__.setdefault("_kt_cdp", {})
    cdp = sessions.get(page)
    if cdp is None:
        cdp = sessions[page] = page.context.new_cdp_session(page)
    shot = cdp.send("Page.captureScreenshot", {"format": "png", "optimizeForSpeed": True})
    return base64.b64decode(shot["data"])
