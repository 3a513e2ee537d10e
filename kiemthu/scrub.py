"""Credentials out of evidence: Playwright traces, report attachments and any text a run writes.

A trace holds what the browser exchanged: cookies, authorization codes in redirects, the ID token in the logout
URL, the portal's login session key in a hidden field and a form body. Masking the secrets the harness knows is
not enough, because the values the servers issued during the run are known only to the trace itself. So a file
is read twice: first every value sitting where a credential sits is collected (Cookie, Set-Cookie and
Authorization headers, cookie lists, credential-named query, form and JSON parameters, hidden and password inputs
of DOM snapshots, anything shaped like a JWT), then every occurrence of each collected value is replaced by `***`,
wherever it appears again (a redirect URL, a DOM snapshot, a console line). An archive keeps its members, their
names and one JSON document per line, so the Playwright trace viewer still opens it.
"""

from __future__ import annotations

import json
import re
import zipfile
from pathlib import Path
from typing import Any, Iterable
from urllib.parse import quote, unquote

from kiemthu import logs
from kiemthu.logs import CREDENTIAL_NAMES, MASK, redact

CREDENTIAL_HEADERS = frozenset({"cookie", "set-cookie", "authorization", "proxy-authorization"})
# an OAuth code travels in URLs and form bodies only; a JSON field "code" is a dossier's or a partner's
JSON_CREDENTIALS = CREDENTIAL_NAMES - {"code"}
MIN_LENGTH = 6  # shorter values at a credential's place ("vi", "1") are not credentials, and masking them breaks text
JSON_LINES = (".trace", ".network", ".stacks", ".jsonl")
TEXT_SUFFIXES = (".json", ".jsonl", ".txt", ".html", ".htm", ".log", ".xml", ".csv", ".dat", ".js", ".css", ".md")

_names = b"|".join(re.escape(n.encode()) for n in sorted(CREDENTIAL_NAMES, key=len, reverse=True))
_json_names = b"|".join(re.escape(n.encode()) for n in sorted(JSON_CREDENTIALS, key=len, reverse=True))
PARAM = re.compile(rb"(?i)(?:^|[?&#;\s\"'])(?:" + _names + rb")=([^&#\s\"'<>;\\]+)")
JSON_FIELD = re.compile(rb'(?i)\\?"(?:' + _json_names + rb')\\?"\s*:\s*\\?"([^"\\]+)')
HEADER_LINE = re.compile(rb"(?im)^\s*(set-cookie|cookie|authorization|proxy-authorization)\s*:\s*([^\r\n]+)")
INPUT = re.compile(rb"(?i)<input\b[^>]*>")
ATTR = re.compile(rb"""(?i)\b(name|value|type)\s*=\s*\\?(?:"([^"\\]*)\\?"|'([^']*)')""")  # HTML in JSON too
JWT = re.compile(rb"eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*")


def header_credentials(name: str, value: str) -> list[str]:
    """The credential parts of a header: every cookie value, the token after the Authorization scheme."""
    name = name.lower()
    if name == "cookie":
        return [pair.split("=", 1)[1].strip() for pair in value.split(";") if "=" in pair]
    if name == "set-cookie":
        first = value.split(";", 1)[0]
        return [first.split("=", 1)[1].strip()] if "=" in first else []
    if name in ("authorization", "proxy-authorization"):
        return [value.split(None, 1)[-1].strip()]
    return []


def credentials_in(data: bytes) -> set[str]:
    """Every value sitting where a credential sits in a file's bytes (JSON lines are read structurally too)."""
    found: set[str] = set()
    for m in PARAM.finditer(data):
        found.add(m.group(1).decode("utf-8", "replace"))
    for m in JSON_FIELD.finditer(data):
        found.add(m.group(1).decode("utf-8", "replace"))
    for m in JWT.finditer(data):
        found.add(m.group(0).decode("ascii"))
    for m in HEADER_LINE.finditer(data):
        found.update(header_credentials(m.group(1).decode(), m.group(2).decode("utf-8", "replace")))
    for m in INPUT.finditer(data):
        attrs = {a.group(1).decode().lower(): (a.group(2) or a.group(3) or b"").decode("utf-8", "replace")
                 for a in ATTR.finditer(m.group(0))}
        if attrs.get("name", "").lower() in CREDENTIAL_NAMES or attrs.get("type", "").lower() == "password":
            found.add(attrs.get("value", ""))
    if data[:1] == b"{":
        for line in data.splitlines():
            try:
                _collect(json.loads(line), found)
            except ValueError:
                continue
    return {v for v in found if _worth_masking(v)}


def _collect(node: Any, found: set[str]) -> None:
    """Credentials in a parsed trace event: HAR headers, cookies, query and form parameters, DOM input attributes."""
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, dict):
            name, value = current.get("name"), current.get("value")
            if isinstance(name, str) and isinstance(value, str):
                if name.lower() in CREDENTIAL_HEADERS:
                    found.update(header_credentials(name, value))
                elif name.lower() in CREDENTIAL_NAMES:
                    found.add(value)
                    found.add(str(current.get("__playwright_value_", "")))
            if str(current.get("type", "")).lower() == "password":
                found.update(str(current.get(k, "")) for k in ("value", "__playwright_value_"))
            cookies = current.get("cookies")
            if isinstance(cookies, list):
                found.update(str(c.get("value", "")) for c in cookies if isinstance(c, dict))
            for k, v in current.items():
                if isinstance(v, (dict, list)):
                    stack.append(v)
                elif isinstance(v, str) and k.lower() in JSON_CREDENTIALS:
                    found.add(v)
        elif isinstance(current, list):
            stack.extend(v for v in current if isinstance(v, (dict, list)))


def _worth_masking(value: str) -> bool:
    return len(value) >= MIN_LENGTH and MASK not in value


def _variants(values: Iterable[str], shortest: int) -> set[str]:
    """Each value as it may appear elsewhere: as is, percent-decoded, percent-encoded, JSON-escaped."""
    out = set()
    for v in values:
        out.update({v, unquote(v), quote(v, safe=""), json.dumps(v)[1:-1]})
    # a bare quote would cut a JSON string
    return {v for v in out if len(v) >= shortest and MASK not in v and '"' not in v}


def masker(found: Iterable[str], secrets: Iterable[str] = ()) -> re.Pattern[str] | None:
    """One pattern matching any collected value or known secret (longest first, so no value leaves a tail of a
    longer one). A known secret is masked from 4 characters on, as `kiemthu.logs.register_secret` does."""
    ordered = sorted(_variants(found, MIN_LENGTH) | _variants(secrets, 4), key=len, reverse=True)
    return re.compile("|".join(re.escape(v) for v in ordered)) if ordered else None


def known_secrets(extra: Iterable[str] = ()) -> set[str]:
    """Secrets registered for redaction (read from the environment by the target) and any given here."""
    return {s for s in (*getattr(logs, "_secrets", ()), *extra) if s and len(s) >= 4}


def scrub_bytes(data: bytes, pattern: re.Pattern[str] | None, json_lines: bool = False) -> bytes:
    """The bytes with every match masked; JSON lines are rewritten document by document, so they stay JSON."""
    if pattern is None:
        return data
    text = data.decode("utf-8", "surrogateescape")
    if not pattern.search(text):
        return data
    if not json_lines:
        return pattern.sub(MASK, text).encode("utf-8", "surrogateescape")
    lines = []
    for line in text.split("\n"):
        if line and pattern.search(line):
            try:
                doc = json.loads(line)
            except ValueError:
                line = pattern.sub(MASK, line)
            else:
                line = json.dumps(_masked(doc, pattern), ensure_ascii=False, separators=(",", ":"))
        lines.append(line)
    return "\n".join(lines).encode("utf-8", "surrogateescape")


def _masked(node: Any, pattern: re.Pattern[str]) -> Any:
    if isinstance(node, str):
        return pattern.sub(MASK, node)
    if isinstance(node, dict):
        return {pattern.sub(MASK, k): _masked(v, pattern) for k, v in node.items()}
    if isinstance(node, list):
        return [_masked(v, pattern) for v in node]
    return node


def scrub_archive(path: Path, secrets: Iterable[str] = ()) -> int:
    """Rewrite a zip (a Playwright trace) with every credential it holds and every known secret masked in every
    member; returns the number of members changed. Member names, order and compression are kept."""
    path = Path(path)
    if not path.is_file() or not zipfile.is_zipfile(path):
        return 0
    with zipfile.ZipFile(path) as z:
        members = [(info, z.read(info.filename)) for info in z.infolist()]
    found: set[str] = set()
    for info, data in members:
        found |= credentials_in(data)
    pattern = masker(found, known_secrets(secrets))
    out, changed = [], 0
    for info, data in members:
        new = scrub_bytes(data, pattern, info.filename.endswith(JSON_LINES))
        if new[:4] == b"PK\x03\x04":  # an archive inside the archive
            new = _scrub_nested(new, secrets)
        changed += new != data
        out.append((info, new))
    if changed:
        tmp = path.with_name(path.name + ".scrubbing")
        with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as z:
            for info, data in out:
                z.writestr(info, data)
        tmp.replace(path)
    return changed


def _scrub_nested(data: bytes, secrets: Iterable[str]) -> bytes:
    import tempfile

    with tempfile.TemporaryDirectory(prefix="kiemthu-scrub-") as tmp:
        inner = Path(tmp) / "inner.zip"
        inner.write_bytes(data)
        return inner.read_bytes() if scrub_archive(inner, secrets) else data


def scrub_text(text: str, secrets: Iterable[str] = ()) -> str:
    """Text (a journal slice, a log, an HTML page) with the credentials it holds and known secrets masked."""
    raw = text.encode("utf-8", "surrogateescape")
    pattern = masker(credentials_in(raw), known_secrets(secrets))
    return redact(scrub_bytes(raw, pattern, json_lines=text[:1] == "{").decode("utf-8", "surrogateescape"))


def scrub_file(path: Path, secrets: Iterable[str] = ()) -> bool:
    """Scrub one file in place (an archive, or a text file by its suffix; images are left alone); True if changed."""
    path = Path(path)
    if zipfile.is_zipfile(path):
        return scrub_archive(path, secrets) > 0
    if path.suffix.lower() not in TEXT_SUFFIXES:
        return False
    text = path.read_bytes().decode("utf-8", "surrogateescape")
    clean = scrub_text(text, secrets)
    if clean == text:
        return False
    path.write_bytes(clean.encode("utf-8", "surrogateescape"))
    return True


def scrub_tree(folder: Path, secrets: Iterable[str] = ()) -> list[Path]:
    """Scrub every file under a folder (Allure's results before they are embedded in a report); the changed ones."""
    return [p for p in sorted(Path(folder).rglob("*")) if p.is_file() and not p.is_symlink() and scrub_file(p, secrets)]


def unmasked_credentials(data: bytes, secrets: Iterable[str] = ()) -> set[str]:
    """Credentials still readable in some bytes (for a final check of a generated file): empty when clean."""
    left = credentials_in(data)
    left |= {s for s in known_secrets(secrets) if s.encode("utf-8", "replace") in data}
    return left
