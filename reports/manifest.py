"""manifest.json and manifest.sig: what a run folder holds, signed with this installation's Ed25519 key.

Written in two steps so the printed report can name the manifest it belongs to:
1. `write_manifest` lists the SHA-256 of every evidence file (summary, journal, traces, Allure...) and the
   signing public key in manifest.json, and signs it (manifest.sig);
2. `add_documents` adds the documents built from that evidence (xlsx, PDF, HTML, which print the
   manifest's SHA-256 and the key's fingerprint) to manifest.sig and signs again.

`verify` refuses a folder with a symlink or a special file, a listed path outside the folder, a file
modified, missing or added, a broken signature, and a signature by a key other than the trusted one.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path, PurePosixPath
from typing import Any, Iterable

from rich.console import Console
from rich.markup import escape

from kiemthu import __version__
from kiemthu.runtime import VN_TZ
from reports.signing import (ALGORITHM, SigningKeyError, fingerprint, installation_key, key_path, load_public_key,
                             public_pem, sign, signature_valid)

MANIFEST = "manifest.json"
SIGNATURE = "manifest.sig"
SEAL_FILES = (MANIFEST, SIGNATURE)
CHUNK = 1 << 20


@dataclass(frozen=True)
class Seal:
    """What the printed report says about its bundle, so a reader can match it to `--verify`."""

    fingerprint: str
    manifest_sha256: str
    public_key: str


class UnsafeFolder(Exception):
    """A run folder holding a symlink or a special file: it is neither sealed nor rebuilt."""


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def scan(run_dir: Path) -> tuple[dict[str, Path], list[str]]:
    """Regular files under run_dir by relative path (seal files left out), and the entries refused.

    Symlinks are never followed: one pointing at /etc/passwd would put a file from outside into the bundle.
    """
    files: dict[str, Path] = {}
    refused: list[str] = []
    for root, dirs, names in os.walk(run_dir, followlinks=False):
        for name in sorted(dirs + names):
            path = Path(root) / name
            rel = path.relative_to(run_dir).as_posix()
            mode = path.lstat().st_mode
            if stat.S_ISLNK(mode):
                refused.append(f"symlink: {rel} -> {os.readlink(path)} (liên kết tượng trưng bị từ chối / "
                               f"symlinks are refused)")
            elif stat.S_ISREG(mode):
                if rel not in SEAL_FILES:
                    files[rel] = path
            elif not stat.S_ISDIR(mode):
                refused.append(f"special file: {rel} (không phải tệp thường / not a regular file)")
    return dict(sorted(files.items())), refused


def entries_of(paths: Iterable[Path], run_dir: Path) -> dict[str, dict[str, Any]]:
    return {p.relative_to(run_dir).as_posix(): {"sha256": sha256_file(p), "size": p.stat().st_size}
            for p in sorted(paths)}


def write_manifest(run_dir: Path, key=None) -> Path:
    """manifest.json over every file now in run_dir, signed (manifest.sig). Returns the manifest's path."""
    run_dir = Path(run_dir)
    key = key or installation_key()
    files, refused = scan(run_dir)
    if refused:
        raise UnsafeFolder("; ".join(refused))
    public = key.public_key()
    manifest = {
        "manifest_version": 2,
        "algorithm": "sha256",
        "run_id": _run_id(run_dir),
        "created_at": datetime.now(VN_TZ).isoformat(timespec="seconds"),
        "created_by": f"kiemthu {__version__}",
        "signing": {"algorithm": ALGORITHM, "public_key": public_pem(public), "fingerprint": fingerprint(public)},
        "files": entries_of(files.values(), run_dir),
    }
    path = run_dir / MANIFEST
    path.write_text(json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    write_signature(run_dir, key, {})
    return path


def add_documents(run_dir: Path, documents: Iterable[Path], key=None) -> Path:
    """Sign again with the documents built after manifest.json (they print its hash, so it cannot list them)."""
    run_dir = Path(run_dir)
    return write_signature(run_dir, key or installation_key(), entries_of(documents, run_dir))


def write_signature(run_dir: Path, key, documents: dict[str, dict[str, Any]]) -> Path:
    public = key.public_key()
    body = {"algorithm": ALGORITHM, "public_key": public_pem(public), "fingerprint": fingerprint(public),
            "manifest_sha256": sha256_file(run_dir / MANIFEST), "documents": documents}
    signed = {**body, "signed_at": datetime.now(VN_TZ).isoformat(timespec="seconds"),
              "signature": sign(key, signed_payload(body))}
    path = run_dir / SIGNATURE
    path.write_text(json.dumps(signed, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return path


def signed_payload(sig: dict[str, Any]) -> bytes:
    """The bytes the signature covers: the manifest's hash, the documents and the signer, in canonical JSON."""
    body = {k: sig.get(k) for k in ("algorithm", "public_key", "fingerprint", "manifest_sha256", "documents")}
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def seal_of(run_dir: Path) -> Seal | None:
    """Fingerprint and manifest hash of a sealed run folder, for the printed report."""
    path = Path(run_dir) / MANIFEST
    try:
        signing = json.loads(path.read_text(encoding="utf-8"))["signing"]
        return Seal(signing["fingerprint"], sha256_file(path), signing["public_key"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


# -- verification ---------------------------------------------------------------------------------------------

class Unverifiable(Exception):
    """The bundle cannot be checked at all (no manifest, unreadable signature file, no trusted key)."""


def trusted_key(public_key_file: Path | None):
    """The key a bundle must be signed with: the one given, else this installation's."""
    if public_key_file:
        try:
            return load_public_key(Path(public_key_file).read_bytes(), str(public_key_file))
        except OSError as exc:
            raise Unverifiable(f"{public_key_file}: {exc.strerror} (không đọc được khoá công khai)") from None
    path = key_path()
    if not path.is_file():
        raise Unverifiable(f"this installation has no signing key ({path}); pass --public-key FILE "
                           f"(máy này chưa có khoá ký; chỉ định --public-key)")
    return installation_key(path).public_key()


def read_json(run_dir: Path, name: str) -> dict[str, Any]:
    path = run_dir / name
    if path.is_symlink() or not path.is_file():
        raise Unverifiable(f"missing: {name} (bộ kết quả kiểm thử chưa được ký / build the report first: kiemthu report {run_dir})")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise Unverifiable(f"unreadable: {name} ({type(exc).__name__})") from None
    if not isinstance(data, dict):
        raise Unverifiable(f"unreadable: {name} (not a JSON object)")
    return data


def check_signature(sig: dict[str, Any], key) -> list[str]:
    """The signature must be by the trusted key and cover what manifest.sig says."""
    expected = fingerprint(key)
    if sig.get("fingerprint") != expected:
        return [f"wrong key: {SIGNATURE} is signed by {sig.get('fingerprint')}, not the trusted key {expected} "
                f"(ký bằng khoá khác; if you trust that key, pass it with --public-key)"]
    try:
        signer = load_public_key(str(sig.get("public_key") or ""), SIGNATURE)
    except SigningKeyError as exc:
        return [f"unreadable: {exc}"]
    if fingerprint(signer) != expected or not signature_valid(key, str(sig.get("signature") or ""),
                                                               signed_payload(sig)):
        return [f"bad signature: {SIGNATURE} (chữ ký không hợp lệ / the signature does not match its content)"]
    return []


def check_manifest_hash(run_dir: Path, manifest: dict[str, Any], sig: dict[str, Any]) -> list[str]:
    problems = []
    if sha256_file(run_dir / MANIFEST) != sig.get("manifest_sha256"):
        problems.append(f"modified: {MANIFEST} (SHA-256 differs from the signed one / khác bản đã ký)")
    if (manifest.get("signing") or {}).get("fingerprint") != sig.get("fingerprint"):
        problems.append(f"wrong key: {MANIFEST} names a different signing key than {SIGNATURE}")
    return problems


def listed_files(manifest: dict[str, Any], sig: dict[str, Any]) -> tuple[dict[str, dict], list[str]]:
    """Every path the bundle claims (manifest files and signed documents), and those pointing outside it."""
    listed: dict[str, dict] = {}
    outside = []
    for section in (manifest.get("files"), sig.get("documents")):
        for rel, entry in (section or {}).items() if isinstance(section, dict) else ():
            if not is_inside(rel):
                outside.append(f"outside: {rel} (đường dẫn ra ngoài thư mục / a listed path leaves the run folder)")
            else:
                listed[rel] = entry if isinstance(entry, dict) else {}
    return listed, outside


def is_inside(rel: str) -> bool:
    """A relative POSIX path that stays in the folder: no root, no drive, no '..', no empty part."""
    path = PurePosixPath(rel)
    return (bool(rel) and not path.is_absolute() and "\\" not in rel and ":" not in path.parts[0]
            and all(p not in ("..", ".", "") for p in rel.split("/")))


def compare_files(listed: dict[str, dict], present: dict[str, Path]) -> list[str]:
    problems = []
    for rel, entry in sorted(listed.items()):
        if rel not in present:
            problems.append(f"missing: {rel}")
        elif sha256_file(present[rel]) != entry.get("sha256"):
            problems.append(f"modified: {rel}")
    problems += [f"added: {rel}" for rel in sorted(set(present) - set(listed))]
    return problems


def verify(run_dir: Path, public_key_file: Path | None = None) -> list[str]:
    """Problems found, one line each naming the file and the reason; empty when intact and signed."""
    run_dir = Path(run_dir).resolve()
    present, refused = scan(run_dir)
    try:
        manifest, sig = read_json(run_dir, MANIFEST), read_json(run_dir, SIGNATURE)
        key = trusted_key(public_key_file)
    except (Unverifiable, SigningKeyError) as exc:
        return refused + [str(exc)]
    listed, outside = listed_files(manifest, sig)
    return (refused + outside + check_signature(sig, key) + check_manifest_hash(run_dir, manifest, sig)
            + compare_files(listed, present) + check_summary_against_journal(run_dir))


def check_summary_against_journal(run_dir: Path) -> list[str]:
    """A bundle signed again after summary.json was forged still contradicts the portal's journal."""
    from reports.crosscheck import EvidenceMismatch, run_disagreements

    try:
        summary = json.loads((run_dir / "summary.json").read_text(encoding="utf-8"))
        found = run_disagreements(run_dir, summary)
    except (OSError, ValueError, AttributeError, TypeError, KeyError):
        return []  # a missing or broken summary.json is already reported as missing or modified
    except EvidenceMismatch as exc:
        found = exc.disagreements
    return [f"disagrees with journal.jsonl: summary.json {d}" for d in found]


def verify_cli(run_dir: Path, public_key: Path | None = None) -> int:
    """`kiemthu report --verify RUN_DIR`: 0 when signed by the trusted key and every file matches, else 1."""
    console = Console()
    problems = verify(Path(run_dir), public_key)
    if not problems:
        seal = seal_of(Path(run_dir))
        count = len(scan(Path(run_dir).resolve())[0])
        console.print(f"[green]OK[/green] — {count} files match the signed {MANIFEST} (toàn vẹn, chữ ký hợp lệ / "
                      f"intact, signature valid): {escape(str(run_dir))}", soft_wrap=True)
        console.print(f"  key / khoá: {seal.fingerprint}\n  {MANIFEST} SHA-256: {seal.manifest_sha256}",
                      markup=False, highlight=False, soft_wrap=True)
        return 0
    console.print(f"[red]{len(problems)} problem(s)[/red] — {escape(str(run_dir))} is not the bundle that was signed "
                  f"(bộ kết quả kiểm thử không còn nguyên vẹn):", soft_wrap=True)
    for line in problems:
        console.print(f"  {line}", markup=False, highlight=False, soft_wrap=True)
    return 1


def _run_id(run_dir: Path) -> str | None:
    try:
        return json.loads((run_dir / "summary.json").read_text(encoding="utf-8")).get("run_id")
    except (OSError, json.JSONDecodeError, AttributeError):
        return None
