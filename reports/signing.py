"""The Ed25519 key that signs run bundles: one per installation, kept outside every run folder.

The private key lives in `$KIEMTHU_SIGNING_KEY` when set, else `$XDG_CONFIG_HOME/kiemthu/signing-key.pem`
(`~/.config/kiemthu/signing-key.pem`). It is created on first use with mode 0600 and refused when others
can read it, as ssh does: a key anyone on the machine can read signs nothing.
"""

from __future__ import annotations

import base64
import hashlib
import os
import secrets
import stat
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

ENV_KEY = "KIEMTHU_SIGNING_KEY"
KEY_FILE = "signing-key.pem"
ALGORITHM = "ed25519"


class SigningKeyError(Exception):
    """A key file that cannot be used; the message names the file and what to do."""


def key_path() -> Path:
    """Where this installation's private key is: $KIEMTHU_SIGNING_KEY, else the user's config folder."""
    if os.environ.get(ENV_KEY):
        return Path(os.environ[ENV_KEY]).expanduser()
    config = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
    return config / "kiemthu" / KEY_FILE


def installation_key(path: Path | None = None) -> Ed25519PrivateKey:
    """The private key at `path` (default `key_path()`), created there on first use."""
    path = Path(path) if path else key_path()
    if not path.exists():
        _create_key(path)
    ensure_key_private(path)
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (ValueError, TypeError, OSError) as exc:
        raise SigningKeyError(f"{path}: not a readable PEM private key (không đọc được khoá ký): {exc}") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise SigningKeyError(f"{path}: expected an Ed25519 key, found {type(key).__name__} (khoá không phải Ed25519)")
    return key


def ensure_key_private(path: Path) -> None:
    """A signing key readable by group or others is refused (chmod 600 fixes it)."""
    mode = path.stat().st_mode
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise SigningKeyError(f"{path}: mode {stat.S_IMODE(mode):04o}, others can read the signing key "
                              f"(khoá ký để người khác đọc được); run: chmod 600 {path}")


def _create_key(path: Path) -> None:
    """Write a new key beside `path`, then link it into place: a run starting at the same moment either
    finds no file or the whole key, never a half-written one, and the first key made is the one kept."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    pem = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    partial = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(pem)
        os.link(partial, path)
    except FileExistsError:
        pass
    finally:
        partial.unlink(missing_ok=True)


def ensure_key_outside(key_file: Path, run_dir: Path) -> None:
    """The private key may not sit in the folder it signs: it would be handed out with the evidence."""
    if Path(key_file).resolve().is_relative_to(Path(run_dir).resolve()):
        raise SigningKeyError(f"{key_file}: the signing key is inside the run folder {run_dir} and would be shared "
                              f"with it (khoá ký nằm trong thư mục lần chạy); set {ENV_KEY} to a path outside it")


def public_pem(key: Ed25519PublicKey) -> str:
    return key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def load_public_key(pem: str | bytes, source: str) -> Ed25519PublicKey:
    """A public key from PEM text; a private key file is accepted too (its public half is used)."""
    data = pem.encode() if isinstance(pem, str) else pem
    try:
        key = serialization.load_pem_public_key(data)
    except ValueError:
        try:
            key = serialization.load_pem_private_key(data, password=None).public_key()
        except (ValueError, TypeError):
            raise SigningKeyError(f"{source}: not a PEM public key (không phải khoá công khai PEM)") from None
    if not isinstance(key, Ed25519PublicKey):
        raise SigningKeyError(f"{source}: expected an Ed25519 public key, found {type(key).__name__}")
    return key


def fingerprint(key: Ed25519PublicKey) -> str:
    """SHA-256 of the raw public key, as 16 groups of 4 hex digits so a person can compare it by eye."""
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    digest = hashlib.sha256(raw).hexdigest()
    return "SHA256:" + " ".join(digest[i:i + 4] for i in range(0, len(digest), 4))


def sign(key: Ed25519PrivateKey, payload: bytes) -> str:
    return base64.b64encode(key.sign(payload)).decode()


def signature_valid(key: Ed25519PublicKey, signature: str, payload: bytes) -> bool:
    try:
        key.verify(base64.b64decode(signature, validate=True), payload)
    except (InvalidSignature, ValueError):
        return False
    return True
