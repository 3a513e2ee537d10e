"""The report as one HTML document, printed to PDF by WeasyPrint or saved as the standalone report.html.

Every value goes through `esc`, which masks secrets and escapes markup. The standalone page carries a
Content-Security-Policy that forbids every network fetch, so it opens from disk and calls nobody.
"""

from __future__ import annotations

import html
import os
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Literal
from urllib.parse import quote

from kiemthu import __version__
from kiemthu.runtime import VN_TZ
from reports import labels
from reports.facts import CHECK_COLUMNS, cover_facts, is_overdue, junit_text, summary_row, totals_text
from reports.guard import clean
from reports.model import Check, Run, Service, evidence_target
from reports.sealblock import seal_block

Media = Literal["pdf", "html"]
FONT_DIR = Path(os.environ.get("KIEMTHU_FONT_DIR", "/usr/share/fonts/truetype/dejavu"))
FONT_FILES = {  # (weight, style) -> DejaVu file
    ("normal", "normal"): "DejaVuSans.ttf",
    ("bold", "normal"): "DejaVuSans-Bold.ttf",
    ("normal", "italic"): "DejaVuSans-Oblique.ttf",
    ("bold", "italic"): "DejaVuSans-BoldOblique.ttf",
}
CONDENSED_FILES = {
    ("normal", "normal"): "DejaVuSansCondensed.ttf",
    ("bold", "normal"): "DejaVuSansCondensed-Bold.ttf",
}
MONO_FILES = {("normal", "normal"): "DejaVuSansMono.ttf", ("bold", "normal"): "DejaVuSansMono-Bold.ttf"}
NO_NETWORK_CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; font-src data:; "
    "base-uri 'none'; form-action 'none'"
)


@dataclass
class Links:
    """Files of the run that the standalone page links to (paths relative to the page)."""

    out_dir: Path
    artefacts: list[tuple[str, str]] = field(default_factory=list)  # (label, relative href)
    notes: list[str] = field(default_factory=list)


def esc(value: object) -> str:
    return html.escape(clean(value), quote=True)


def document(run: Run, language: str, media: Media, links: Links | None = None, today: date | None = None) -> str:
    parts = [
        letterhead(run, language),
        f"<h1>{esc(labels.text('title', language))}</h1>",
        f"<p class='subtitle'>{esc(labels.text('subtitle', language))}</p>",
        cover_table(run, language, today),
        totals_block(run, language),
        f"<h2>{esc(labels.text('summary_table', language))}</h2>",
        summary_table(run, language),
    ]
    if run.submission:
        parts.append(submission_block(run, language))
    if media == "html" and links is not None:
        parts.append(artefacts_block(run, language, links))
    parts.append(f"<h2 class='details'>{esc(labels.text('details', language))}</h2>")
    parts += [service_section(i, s, run, language, media, links) for i, s in enumerate(run.services, start=1)]
    parts.append(signature_block(run, language))
    parts.append(seal_block(run, language))  # signing key and manifest hash (reports/sealblock.py)
    return page(run, language, media, "\n".join(parts))


def page(run: Run, language: str, media: Media, body: str) -> str:
    csp = f"<meta http-equiv='Content-Security-Policy' content=\"{NO_NETWORK_CSP}\">" if media == "html" else ""
    title = f"{labels.text('title', language)} — {run.run_id}"
    return (
        f"<!DOCTYPE html>\n<html lang='{language}'>\n<head>\n<meta charset='utf-8'>\n{csp}\n"
        f"<meta name='generator' content='kiemthu {esc(__version__)}'>\n"
        f"<title>{esc(title)}</title>\n<style>\n{stylesheet(run, language, media)}\n</style>\n</head>\n"
        f"<body class='{media}'>\n{body}\n</body>\n</html>\n"
    )


def letterhead(run: Run, language: str) -> str:
    agency = run.target.get("agency_name") or run.target["agency_code"]
    return (
        "<table class='letterhead'><tr>"
        f"<td class='agency'><b>{esc(agency.upper())}</b><br><span>{esc(run.target['name'])}</span></td>"
        f"<td class='nation'><b>{esc(labels.text('nation', language))}</b><br>"
        f"<span class='motto'>{esc(labels.text('motto', language))}</span></td>"
        "</tr></table>"
    )


def cover_table(run: Run, language: str, today: date | None) -> str:
    """The run facts in two label/value columns; the deadline spans the full width and stands out."""
    facts = cover_facts(run, language, today)
    others = [f for f in facts if f.key != "deadline"]
    rows = []
    for i in range(0, len(others), 2):
        pair = others[i:i + 2]
        cells = "".join(f"<th>{esc(f.label)}</th><td>{esc(f.value)}</td>" for f in pair)
        rows.append(f"<tr>{cells}{'<th></th><td></td>' if len(pair) == 1 else ''}</tr>")
    late = " overdue" if is_overdue(run, today) else ""
    for f in facts:
        if f.key == "deadline":
            rows.append(f"<tr class='deadline{late}'><th>{esc(f.label)}</th><td colspan='3'><b>{esc(f.value)}</b>"
                        f"<br><small>{esc(labels.text('deadline_rule', language))}</small></td></tr>")
    return f"<table class='cover'>{''.join(rows)}</table>"


def totals_block(run: Run, language: str) -> str:
    lines = [totals_text(run, language)]
    if junit_text(run, language):
        lines.append(junit_text(run, language))
    return "<p class='totals'>" + "<br>".join(esc(x) for x in lines) + "</p>"


# -- the admin system's answer to the submission (`kiemthu submit`) -------------------------------------------
SUBMISSION_TEXT = {
    "vi": {"title": "Xác nhận kết quả kiểm thử của hệ thống quản trị Cổng DVCQG", "sent": "Gửi lúc",
           "service": "Dịch vụ", "outcome": "Kết quả", "reasons": "Lý do",
           "confirmed": "Xác nhận hoàn thành kiểm thử", "returned": "Trả lại", "refused": "Không tiếp nhận"},
    "en": {"title": "The portal admin system's answer to the test summary", "sent": "Sent at",
           "service": "Service", "outcome": "Outcome", "reasons": "Reasons",
           "confirmed": "Testing confirmed", "returned": "Returned", "refused": "Refused"},
}


def submission_block(run: Run, language: str) -> str:
    t = SUBMISSION_TEXT.get(language, SUBMISSION_TEXT["vi"])
    rows = []
    for s in run.submission["services"]:
        reasons = "<br>".join(esc(r.get("vi" if language == "vi" else "en", "") +
                                  (f" ({r['detail']})" if r.get("detail") else "")) for r in s.get("LyDo", []))
        rows.append(f"<tr class='submission-{esc(s['KetQua'])}'><td>{esc(s.get('TenDVC', ''))}<br>"
                    f"<small>{esc(s['MaDVC'])}</small></td><td><b>{esc(t.get(s['KetQua'], s['KetQua']))}</b></td>"
                    f"<td>{reasons or '—'}</td></tr>")
    return (f"<section class='submission'><h2>{esc(t['title'])}</h2>"
            f"<p>{esc(t['sent'])}: {esc(run.submission['submitted_at'])} — {esc(run.submission['portal_url'])}</p>"
            f"<table class='summary'><tr><th>{esc(t['service'])}</th><th>{esc(t['outcome'])}</th>"
            f"<th>{esc(t['reasons'])}</th></tr>{''.join(rows)}</table></section>")


def summary_table(run: Run, language: str) -> str:
    heads = labels.headers(language)
    head = "".join(f"<th class='c{i}'>{esc(h)}</th>" for i, h in enumerate(heads))
    rows = []
    for i, service in enumerate(run.services, start=1):
        values = summary_row(i, service, language)
        verdicts = [c.verdict for c in service.ordered_checks()]
        cells = []
        for col, value in enumerate(values):
            cls = f"c{col}"
            if col in CHECK_COLUMNS:
                cls += f" v {verdicts[col - CHECK_COLUMNS.start] or 'none'}"
            text = esc(value).replace("\n", "<br>")
            cells.append(f"<td class='{cls}'>{text}</td>")
        state = "done" if service.completed else "notdone"
        rows.append(f"<tr class='{state}'>{''.join(cells)}</tr>")
    return f"<table class='summary'><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def service_section(index: int, service: Service, run: Run, language: str, media: Media, links: Links | None) -> str:
    def t(key: str) -> str:
        return esc(labels.text(key, language))

    conclusion = "completed" if service.completed else "not_completed"
    codes = esc("; ".join(service.completed_codes) or labels.text("none", language))
    rows = [
        (t("service"), f"{esc(service.TenDVC)} ({esc(service.MaDVC)}) — {esc(labels.level_name(service.level, language))}"),
        (esc(labels.headers(language)[1]), f"{esc(service.TenTTHC)} ({esc(service.MaTTHC)})"),
        (t("run_id"), esc(service.run_id)),
        (t("conclusion"), f"<span class='badge {'passed' if service.completed else 'failed'}'>{t(conclusion)}</span>"),
        (t("dossier_codes"), f"<span class='codes'>{codes}</span>"),
    ]
    trial = [c for c in service.dossier_codes if c not in service.completed_codes]
    if trial:
        rows.append((t("trial_codes"), esc("; ".join(trial))))
    if service.note(language):
        rows.append((esc(labels.headers(language)[-1]), esc(service.note(language))))
    kv = "".join(f"<tr><th>{k}</th><td>{v}</td></tr>" for k, v in rows)
    checks = "".join(check_block(c, service, run, language, media, links) for c in service.ordered_checks())
    return (f"<section class='service'><h3>{index}. {esc(service.TenDVC)}</h3>"
            f"<table class='kv'>{kv}</table>{checks}</section>")


def check_block(check: Check, service: Service, run: Run, language: str, media: Media, links: Links | None) -> str:
    verdict = labels.verdict_word(check.verdict, language)
    head = (f"<h4>{esc(labels.check_name(check.name, language))} "
            f"<span class='badge {check.verdict or 'none'}'>{esc(verdict)}</span></h4>")
    reason = f"<p class='reason'>{esc(check.reason)}</p>" if check.reason else ""
    if check.verdict is None:
        return f"<div class='check'>{head}</div>"
    return f"<div class='check'>{head}{reason}{rules_table(check, language)}{evidence_list(check, service, run, language, media, links)}</div>"


def rules_table(check: Check, language: str) -> str:
    if not check.rules:
        quiet = check.verdict in ("not_applicable", "skipped")  # the reason already says why
        return "" if quiet else f"<p class='muted'>{esc(labels.text('no_rules', language))}</p>"
    keys = ("rule", "clause", "content", "result", "expected", "actual", "where")
    head = "".join(f"<th class='r-{k}'>{esc(labels.text(k, language))}</th>" for k in keys)
    rows = []
    for rule in check.rules:
        rows.append(
            f"<tr><td class='mono'>{esc(rule.rule_id)}</td><td>{esc(rule.clause)}</td><td>{esc(rule.title)}</td>"
            f"<td class='v {rule.verdict}'>{esc(labels.verdict_word(rule.verdict, language))}</td>"
            f"<td class='val'>{esc(rule.expected)}</td><td class='val'>{esc(rule.observed)}</td>"
            f"<td class='mono'>{esc(rule.where)}</td></tr>"
        )
    return f"<table class='rules'><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def evidence_list(check: Check, service: Service, run: Run, language: str, media: Media, links: Links | None) -> str:
    if not check.evidence:
        return ""
    items = []
    for rel in check.evidence:
        found = evidence_target(run, service, rel)
        if found is None:
            items.append(f"<li class='mono'>{esc(rel)} <em>({esc(labels.text('missing_file', language))})</em></li>")
        elif media == "html" and links is not None:
            items.append(f"<li class='mono'><a href='{href(found, links.out_dir)}'>{esc(rel)}</a></li>")
        else:
            items.append(f"<li class='mono'>{esc(rel)}</li>")
    return f"<div class='evidence'>{esc(labels.text('evidence', language))}:<ul>{''.join(items)}</ul></div>"


def href(target: Path, out_dir: Path) -> str:
    """A relative link from the page's folder to a file, so the folder can be moved or zipped as a whole."""
    rel = os.path.relpath(target, out_dir.resolve())
    return esc(quote(Path(rel).as_posix()))


def artefacts_block(run: Run, language: str, links: Links) -> str:
    items = [f"<li><a href='{esc(h)}'>{esc(label)}</a></li>" for label, h in links.artefacts]
    items += [f"<li>{esc(note)}</li>" for note in links.notes]
    parts = [f"<h2>{esc(labels.text('artefacts', language))}</h2><ul class='artefacts'>{''.join(items)}</ul>"]
    if run.journal_counts:
        counts = ", ".join(f"{k}: {v}" for k, v in run.journal_counts.items())
        parts.append(f"<p class='muted'>{esc(labels.text('journal_counts', language))} — {esc(counts)}</p>")
    if run.load_summary:
        rows = "".join(f"<tr><th>{esc(k)}</th><td>{esc(v)}</td></tr>" for k, v in run.load_summary.items())
        parts.append(f"<h3>{esc(labels.text('load_summary', language))}</h3><table class='kv load'>{rows}</table>")
    return "".join(parts)


def signature_block(run: Run, language: str) -> str:
    now = datetime.now(VN_TZ).strftime("%d/%m/%Y %H:%M")
    return (
        "<table class='signature'><tr>"
        f"<td class='meta'>{esc(labels.text('generated', language))}: {esc(now)} · kiemthu {esc(__version__)}"
        f"<br>{esc(labels.text('verify_hint', language))}</td>"
        f"<td class='sign'><b>{esc(labels.text('signature', language))}</b><br>"
        f"<i>{esc(labels.text('signature_hint', language))}</i><br><br><br><br>"
        f"<b>{esc(run.tester or '')}</b></td>"
        "</tr></table>"
    )


def font_faces() -> str:
    """@font-face rules pointing at the DejaVu files, so WeasyPrint embeds a font with every Vietnamese glyph."""
    rules = []
    for family, files in (("KT Sans", FONT_FILES), ("KT Sans Condensed", CONDENSED_FILES), ("KT Mono", MONO_FILES)):
        for (weight, style), name in files.items():
            path = FONT_DIR / name
            if path.is_file():
                rules.append(f"@font-face {{ font-family: '{family}'; src: url('{path.as_uri()}'); "
                             f"font-weight: {weight}; font-style: {style}; }}")
    return "\n".join(rules)


def stylesheet(run: Run, language: str, media: Media) -> str:
    if media == "pdf":
        footer = f"kiemthu {__version__} · {labels.text('run_id', language)} {run.run_id}"
        return font_faces() + PDF_CSS.replace("__FOOTER__", css_string(footer)).replace(
            "__PAGE__", css_string(labels.text("page", language))) + COMMON_CSS
    return SCREEN_CSS + COMMON_CSS


def css_string(text: str) -> str:
    return '"' + clean(text).replace("\\", "\\\\").replace('"', '\\"') + '"'


PDF_CSS = """
@page {
  size: A4 landscape;
  margin: 12mm 11mm 14mm 11mm;
  @bottom-left { content: __FOOTER__; font: 7pt 'KT Sans'; color: #666; }
  @bottom-right { content: __PAGE__ " " counter(page) " / " counter(pages); font: 7pt 'KT Sans'; color: #666; }
}
body { font-family: 'KT Sans', 'DejaVu Sans', sans-serif; font-size: 8.5pt; line-height: 1.3; }
h2.details { page-break-before: always; }
table.summary, table.rules { font-family: 'KT Sans Condensed', 'KT Sans', sans-serif; }
table.summary { font-size: 8pt; }
table.rules { font-size: 7.5pt; }
thead { display: table-header-group; }
tr { page-break-inside: avoid; }
h3, h4 { page-break-after: avoid; }
"""

SCREEN_CSS = """
body { font-family: 'DejaVu Sans', 'Segoe UI', Arial, sans-serif; font-size: 14px; line-height: 1.4;
       max-width: 1400px; margin: 24px auto; padding: 0 16px; color: #111; }
table.summary { font-size: 13px; }
table.rules { font-size: 12px; }
a { color: #0645ad; }
"""

COMMON_CSS = """
h1 { text-align: center; font-size: 15pt; margin: 10px 0 2px 0; }
p.subtitle { text-align: center; margin: 0 0 10px 0; color: #333; }
h2 { font-size: 11pt; margin: 12px 0 6px 0; border-bottom: 1.5px solid #1f4e79; color: #1f4e79; }
h3 { font-size: 10pt; margin: 12px 0 4px 0; color: #1f4e79; }
h4 { font-size: 9pt; margin: 8px 0 3px 0; }
table { border-collapse: collapse; width: 100%; table-layout: fixed; }
th, td { border: 0.6px solid #999; padding: 2px 4px; vertical-align: top; text-align: left;
         overflow-wrap: anywhere; box-sizing: border-box; }
th { background: #dde5f0; }
table.letterhead td { border: none; text-align: center; width: 50%; }
table.letterhead .agency span, table.letterhead .motto { font-size: 0.95em; }
table.letterhead .motto { text-decoration: underline; font-weight: bold; }
table.cover th { width: 17%; background: #f1f4f8; font-weight: bold; }
table.cover td { width: 33%; }
table.cover tr.deadline th, table.cover tr.deadline td { background: #fff4ce; }
table.cover tr.deadline.overdue th, table.cover tr.deadline.overdue td { background: #ffd6d6; }
table.cover small { color: #444; }
p.totals { margin: 6px 0; font-style: italic; }
table.summary th { text-align: center; vertical-align: middle; overflow-wrap: normal; hyphens: auto; }
table.summary td.c0 { text-align: center; }
table.summary .c0 { width: 3%; } table.summary .c1 { width: 11%; } table.summary .c2 { width: 6.5%; }
table.summary .c3 { width: 10%; } table.summary .c4 { width: 7%; } table.summary .c5 { width: 6%; }
table.summary .c6 { width: 16%; } table.summary .c7, table.summary .c8, table.summary .c9 { width: 6.5%; }
table.summary .c10 { width: 7%; } table.summary .c11 { width: 14%; }
/* codes break only after a hyphen, never inside a number */
table.summary td.c6 { font-weight: bold; overflow-wrap: normal; }
table.summary td.c2, table.summary td.c4 { white-space: nowrap; }
td.v { text-align: center; }
.passed { background: #c6efce; } .failed { background: #ffc7ce; } .error { background: #ff9c9c; }
.warning { background: #ffeb9c; } .skipped, .not_applicable, .none { background: #ededed; }
.badge { padding: 0 5px; border-radius: 3px; font-weight: bold; font-size: 0.9em; }
table.kv th { width: 22%; background: #f1f4f8; }
table.kv .codes { font-weight: bold; }
section.service { margin-bottom: 10px; }
div.check { margin-left: 6px; }
p.reason { margin: 2px 0 3px 0; }
table.rules .r-rule { width: 18%; } table.rules .r-clause { width: 12%; } table.rules .r-content { width: 22%; }
table.rules .r-result { width: 7%; } table.rules .r-expected, table.rules .r-actual { width: 14%; }
table.rules .r-where { width: 13%; }
td.val { font-family: 'KT Sans Condensed', 'DejaVu Sans Condensed', sans-serif; }
.mono { font-family: 'KT Mono', 'DejaVu Sans Mono', monospace; font-size: 0.92em; }
table.rules td.mono { font-size: 0.86em; }
.muted { color: #555; }
div.evidence ul { margin: 2px 0 4px 0; padding-left: 18px; }
table.signature { margin-top: 18px; page-break-inside: avoid; }
table.signature td { border: none; width: 50%; }
table.signature td.meta { font-size: 0.85em; color: #555; vertical-align: bottom; }
table.signature td.sign { text-align: center; }
"""
