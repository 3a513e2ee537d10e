"""The block at the end of the PDF and HTML report naming the key that signed the bundle and its manifest.

A reader holding only the printed report can then check a bundle: `kiemthu report --verify` prints the
same fingerprint and manifest SHA-256 when, and only when, the folder is the one that was signed.
"""

from __future__ import annotations

import html

from reports.guard import clean

TEXT = {
    "vi": {"title": "Khoá công khai ký bộ kết quả kiểm thử", "fingerprint": "Dấu vân tay khoá (SHA-256)",
           "manifest": "SHA-256 của manifest.json", "key": "Khoá công khai (Ed25519, PEM)",
           "check": "Kiểm tra bộ kết quả kiểm thử"},
    "en": {"title": "Public key signing the test bundle", "fingerprint": "Key fingerprint (SHA-256)",
           "manifest": "SHA-256 of manifest.json", "key": "Public key (Ed25519, PEM)",
           "check": "Check the bundle"},
}
VERIFY_COMMAND = "kiemthu report --verify <thư mục / run folder> --public-key <khoá công khai / public key>.pem"


def seal_block(run, language: str) -> str:
    """`run.seal` (fingerprint, manifest hash, public key) as a small table; empty string when absent."""
    text = TEXT.get(language, TEXT["en"])
    seal = getattr(run, "seal", None)
    if seal is None:
        return ""
    rows = [(text["fingerprint"], seal.fingerprint), (text["manifest"], seal.manifest_sha256),
            (text["key"], seal.public_key.strip()), (text["check"], VERIFY_COMMAND)]
    cells = "".join(f"<tr><th>{_esc(label)}</th><td><code style='white-space: pre-wrap; word-break: break-all'>"
                    f"{_esc(value)}</code></td></tr>" for label, value in rows)
    return (f"<section class='seal' id='seal'><h2>{_esc(text['title'])}</h2>"
            f"<table class='cover seal'>{cells}</table></section>")


def _esc(value: object) -> str:
    return html.escape(clean(value), quote=True)
