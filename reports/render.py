"""The report as one HTML document, printed to PDF by WeasyPrint or saved as the standalone report.html.

Every value goes through `esc`, which masks secrets and escapes markup. The standalone page carries a
Content-Security-Policy that forbids every network fetch, so it opens from disk and calls nobody.
"""

from __future__ import annotations

import base64
import html
import json
import os
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Literal
from urllib.parse import quote

from kiemthu import __version__
from kiemthu.runtime import VN_TZ
from reports import labels
from reports.facts import (CHECK_COLUMNS, COMPLETE_COLUMN, check_totals_text, cover_facts, is_overdue, summary_row,
                           totals_text)
from reports.guard import clean
from reports.model import Check, Rule, Run, Service, evidence_target
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
MAX_EXCHANGES = 4  # journal exchanges shown per finding
MAX_EXCHANGE_CHARS = 1800
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
    """The letter to VPCP (page 1–2: header, addressee, summary table, signatures), then the annex of rule details."""
    parts = [
        letterhead(run, language),
        f"<p class='addressee'>{esc(labels.text('addressee', language))}</p>",
        f"<h1>{esc(labels.text('title', language))}</h1>",
        f"<p class='intro'>{esc(labels.text('intro', language, agency=agency_name(run), system=run.target['name']))}</p>",
        summary_table(run, language),
        totals_block(run, language),
        deadline_line(run, language, today),
        f"<p class='intro'>{esc(labels.text('closing', language, agency=agency_name(run)))}</p>",
        signature_block(run, language),
        annex(run, language, media, links, today),
    ]
    if run.submission:
        parts.append(submission_block(run, language))
    if media == "html" and links is not None:
        parts.append(artefacts_block(run, language, links))
    parts.append(seal_block(run, language))  # signing key and manifest hash (reports/sealblock.py)
    return page(run, language, media, "\n".join(parts))


def agency_name(run: Run) -> str:
    return run.target.get("agency_name") or run.target["agency_code"]


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
    """Header of an administrative document: governing body and agency, number and excerpt; motto, place and date."""
    t = lambda key: esc(labels.text(key, language))  # noqa: E731
    governing = run.target.get("governing_body") or run.target.get("parent_agency") or "……………………"
    return (
        "<table class='letterhead'><tr>"
        f"<td class='agency'><span class='governing'>{esc(governing.upper())}</span><br>"
        f"<b>{esc(agency_name(run).upper())}</b><hr class='short'>"
        f"<span class='number'>{t('number')}</span><br><span class='excerpt'>{t('excerpt')}</span></td>"
        f"<td class='nation'><b>{t('nation')}</b><br><b class='motto'>{t('motto')}</b><hr class='short'>"
        f"<i class='place-date'>{t('place_date')}</i></td>"
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
                        f" <small>({esc(labels.text('deadline_rule', language))})</small></td></tr>")
    return (f"<table class='cover'><caption>{esc(labels.text('run_facts', language))}</caption>"
            f"{''.join(rows)}</table>")


def deadline_line(run: Run, language: str, today: date | None) -> str:
    """Page 1 names the publication day and the deadline; the other run facts open the annex."""
    facts = [f for f in cover_facts(run, language, today) if f.key in ("tester", "publication_date", "deadline")]
    late = " overdue" if is_overdue(run, today) else ""
    return (f"<p class='deadline{late}'>" + " · ".join(f"{esc(f.label)}: <b>{esc(f.value)}</b>" for f in facts)
            + "</p>")


def totals_block(run: Run, language: str) -> str:
    lines = [totals_text(run, language), check_totals_text(run, language)]
    if len(run.run_ids) > 1:  # a submission from history: each service names the run it comes from
        lines.append(labels.text("service_runs", language, runs="; ".join(
            f"{s.TenDVC} — {s.run_id}" for s in run.services)))
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
        verdicts = [c.shown_verdict for c in service.ordered_checks()]
        cells = []
        for col, value in enumerate(values):
            cls = f"c{col}"
            if col in CHECK_COLUMNS:
                cls += f" v {verdicts[col - CHECK_COLUMNS.start] or 'none'}"
            elif col == COMPLETE_COLUMN:
                cls += f" v {'passed' if service.completed else 'failed'}"
            text = esc(value).replace("\n", "<br>")
            if col == 6:  # a dossier code may wrap only after one of its hyphens
                text = text.replace("-", "-<wbr>")
            cells.append(f"<td class='{cls}'>{text}</td>")
        state = "done" if service.completed else "notdone"
        rows.append(f"<tr class='{state}'>{''.join(cells)}</tr>")
    return f"<table class='summary'><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def annex(run: Run, language: str, media: Media, links: Links | None, today: date | None) -> str:
    head = (f"<div class='annex-head'><b>{esc(labels.text('annex', language))}</b><br>"
            f"<b>{esc(labels.text('annex_title', language))}</b><br>"
            f"<i>{esc(labels.text('annex_ref', language, agency=agency_name(run)))}</i></div>")
    sections = [service_section(i, s, run, language, media, links) for i, s in enumerate(run.services, start=1)]
    return f"<section class='annex'>{head}{cover_table(run, language, today)}{''.join(sections)}</section>"


def service_section(index: int, service: Service, run: Run, language: str, media: Media, links: Links | None) -> str:
    def t(key: str) -> str:
        return esc(labels.text(key, language))

    conclusion = "completed" if service.completed else "not_completed"
    codes = esc("; ".join(service.completed_codes) or labels.text("none", language))
    rows = [
        (t("service"), f"{esc(service.TenDVC)} ({esc(service.MaDVC)}) — {esc(labels.level_name(service.level, language))}"),
        (esc(labels.headers(language)[1]), f"{esc(service.TenTTHC)} ({esc(service.MaTTHC)})"),
        (t("run_of_service"), esc(service.run_id)),
        (t("conclusion"), f"<span class='badge {'passed' if service.completed else 'failed'}'>{t(conclusion)}</span>"),
        (t("dossier_codes"), f"<span class='codes'>{codes}</span>"),
    ]
    if service.target and service.target.get("base_url") != run.target.get("base_url"):
        rows.append((t("service_system"), esc(f"{service.target.get('name', '')} — {service.target.get('base_url', '')}")))
    if service.defects and service.defects != run.defects:
        rows.append((t("defects"), esc(", ".join(service.defects))))
    trial = [c for c in service.dossier_codes if c not in service.completed_codes]
    if trial:
        rows.append((t("trial_codes"), esc("; ".join(trial))))
    details = service.details(language)
    if details:
        rows.append((esc(labels.headers(language)[-1]), "<br>".join(esc(d) for d in details)))
    kv = "".join(f"<tr><th>{k}</th><td>{v}</td></tr>" for k, v in rows)
    checks = "".join(check_block(n, c, service, run, language, media, links)
                     for n, c in enumerate(service.ordered_checks(), start=1))
    return (f"<section class='service'><h3>{index}. {esc(service.TenDVC)}</h3>"
            f"<table class='kv'>{kv}</table>{checks}</section>")


def check_block(number: int, check: Check, service: Service, run: Run, language: str, media: Media,
                links: Links | None) -> str:
    verdict = check.verdict_text(language)
    head = (f"<h4>{number}. {esc(labels.check_name(check.name, language))} "
            f"<span class='badge {check.shown_verdict or 'none'}'>{esc(verdict)}</span></h4>")
    if check.verdict is None:
        return f"<div class='check'>{head}</div>"
    reason = check.reason_text(language)
    reason_html = f"<p class='reason'>{esc(reason)}</p>" if reason else ""
    rows = check.rows()
    findings = [r for r in rows if r.verdict != "passed"]
    passed = [r for r in rows if r.verdict == "passed"]
    body = "".join(finding_block(r, service, run, language, media) for r in findings)
    if passed:
        body += passed_table(passed, language)
    if not rows and check.verdict not in ("not_applicable", "skipped", "not_evaluated"):
        body += f"<p class='muted'>{esc(labels.text('no_rules', language))}</p>"
    return (f"<div class='check'>{head}{reason_html}{body}"
            f"{evidence_list(check, service, run, language, media, links)}</div>")


def finding_block(rule: Rule, service: Service, run: Run, language: str, media: Media) -> str:
    """A rule that did not pass: its sentence, its source, and its proof (screenshot, journal exchange) beside it."""
    proof = proof_html(rule, service, run, language, media)
    return (f"<div class='finding {rule.verdict}'><p class='sentence'><b>{esc(rule.sentence(language))}</b></p>"
            f"<p class='source'>{esc(labels.text('clause', language))}: {esc(rule.source(language))}</p>"
            f"{proof}</div>")


def passed_table(rules: list[Rule], language: str) -> str:
    head = (f"<th class='r-n'>{esc(labels.headers(language)[0])}</th><th class='r-content'>{esc(labels.text('content', language))}</th>"
            f"<th class='r-clause'>{esc(labels.text('clause', language))}</th><th class='r-result'>{esc(labels.text('result', language))}</th>")
    rows = "".join(
        f"<tr><td class='r-n'>{i}</td><td>{esc(r.name(language))}</td><td>{esc(r.source(language))}</td>"
        f"<td class='v passed'>{esc(labels.verdict_word('passed', language))}</td></tr>"
        for i, r in enumerate(rules, start=1))
    return f"<table class='rules'><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>"


def proof_html(rule: Rule, service: Service, run: Run, language: str, media: Media) -> str:
    """Screenshots inline and journal exchanges (request and reply, masked) the rule result points at."""
    parts = []
    files = list(rule.evidence) + ([rule.where] if rule.where and "/" in rule.where and "#" not in rule.where else [])
    for rel in dict.fromkeys(files):
        found = evidence_target(run, service, rel)
        if found is None:
            continue
        if found.suffix.lower() in (".png", ".jpg", ".jpeg"):
            parts.append(f"<figure><img src='{image_src(found, media)}' alt='{esc(rel)}'>"
                         f"<figcaption>{esc(labels.text('screenshot', language))}: {esc(found.name)}</figcaption></figure>")
        elif found.suffix.lower() == ".json":
            parts += [exchange_html(e, language) for e in exchanges_in_file(found)]
    entries = journal_entries(service.run_dir or run.run_dir, rule.journal_ids())
    parts += [exchange_html(e, language) for e in entries]
    return f"<div class='proof'>{''.join(parts)}</div>" if parts else ""


def image_src(path: Path, media: Media) -> str:
    """A file URL for the PDF printer; a data URL for the page, whose policy forbids every fetch."""
    if media == "pdf":
        return esc(path.as_uri())
    kind = "jpeg" if path.suffix.lower() in (".jpg", ".jpeg") else "png"
    return f"data:image/{kind};base64,{base64.b64encode(path.read_bytes()).decode()}"


def exchanges_in_file(path: Path) -> list[dict]:
    """Journal exchanges an evidence file holds: one exchange, a list of them, {'entries': [...]} (a journal slice)
    or {'exchanges': [...]} (a negative case's forged exchange)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    for key in ("entries", "exchanges"):
        if isinstance(data, dict) and isinstance(data.get(key), list):
            data = data[key]
    items = data if isinstance(data, list) else [data]
    return [e for e in items[:MAX_EXCHANGES] if isinstance(e, dict) and ("request" in e or "response" in e or "reply" in e)]


def journal_entries(run_dir: Path, ids: list[int]) -> list[dict]:
    """The journal entries with these ids, read from the run's journal.jsonl."""
    path = Path(run_dir) / "journal.jsonl"
    if not ids or not path.is_file():
        return []
    wanted, found = set(ids[:MAX_EXCHANGES]), {}
    with path.open(encoding="utf-8", errors="replace") as fh:
        for line in fh:
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            if isinstance(entry, dict) and entry.get("id") in wanted:
                found[entry["id"]] = entry
    return [found[i] for i in ids if i in found]


def exchange_html(entry: dict, language: str) -> str:
    title = labels.text("exchange", language, id=entry.get("id", "?"))
    line = " ".join(str(x) for x in (entry.get("method"), entry.get("path"), entry.get("status_code")) if x)
    extra = f" · {entry['adversarial']}" if entry.get("adversarial") else ""
    reply = entry.get("response", entry.get("reply"))
    return (f"<div class='exchange'><div class='ex-title'>{esc(title)} — {esc(line)}{esc(extra)}</div>"
            f"<table class='ex'><tr><th>{esc(labels.text('request', language))}</th>"
            f"<th>{esc(labels.text('reply', language))}</th></tr>"
            f"<tr><td><pre>{esc(pretty(entry.get('request')))}</pre></td><td><pre>{esc(pretty(reply))}</pre></td></tr>"
            "</table></div>")


def pretty(value) -> str:
    text = json.dumps(value, ensure_ascii=False, indent=1, default=str) if not isinstance(value, str) else value
    return text if len(text) <= MAX_EXCHANGE_CHARS else text[:MAX_EXCHANGE_CHARS] + "\n…"


def evidence_list(check: Check, service: Service, run: Run, language: str, media: Media, links: Links | None) -> str:
    if not check.evidence:
        return ""
    if media == "pdf":  # the printed annex says where the files are; the page links each one
        folder = os.path.commonpath(check.evidence) if len(check.evidence) > 1 else os.path.dirname(check.evidence[0])
        return (f"<p class='muted evidence'>{esc(labels.text('evidence', language))}: "
                f"{esc(labels.text('evidence_count', language, n=len(check.evidence), folder=folder))}</p>")
    items = []
    for rel in check.evidence:
        found = evidence_target(run, service, rel)
        if found is None:
            items.append(f"<li class='mono'>{esc(rel)} <em>({esc(labels.text('missing_file', language))})</em></li>")
        elif links is not None:
            items.append(f"<li class='mono'><a href='{href(found, links.out_dir)}'>{esc(rel)}</a></li>")
        else:
            items.append(f"<li class='mono'>{esc(rel)}</li>")
    return (f"<details class='evidence'><summary>{esc(labels.text('evidence', language))} ({len(items)})</summary>"
            f"<ul>{''.join(items)}</ul></details>")


def href(target: Path, out_dir: Path) -> str:
    """A relative link from the page's folder to a file, so the folder can be moved or zipped as a whole."""
    rel = os.path.relpath(target, out_dir.resolve())
    return esc(quote(Path(rel).as_posix()))


def artefacts_block(run: Run, language: str, links: Links) -> str:
    items = [f"<li><a href='{esc(h)}'>{esc(label)}</a></li>" for label, h in links.artefacts]
    items += [f"<li>{esc(note)}</li>" for note in links.notes]
    parts = [f"<h2>{esc(labels.text('artefacts', language))}</h2><ul class='artefacts'>{''.join(items)}</ul>"]
    if run.load_summary:
        rows = "".join(f"<tr><th>{esc(k)}</th><td>{esc(v)}</td></tr>" for k, v in run.load_summary.items())
        parts.append(f"<h3>{esc(labels.text('load_summary', language))}</h3><table class='kv load'>{rows}</table>")
    return "".join(parts)


def signature_block(run: Run, language: str) -> str:
    """Recipients on the left; the tester and the head of the agency sign on the right (Nghị định 30/2020 layout)."""
    def t(key: str) -> str:
        return esc(labels.text(key, language))

    recipients = "<br>".join(esc(x) for x in labels.text("recipients_list", language).split("\n"))
    return (
        "<table class='signature'><tr>"
        f"<td class='recipients'><b><i>{t('recipients')}</i></b><br>{recipients}</td>"
        f"<td class='sign'><b>{t('signature')}</b><br><i>{t('signature_hint')}</i><br><br><br><br><br>"
        f"<b>{esc(run.tester or '')}</b></td>"
        f"<td class='sign'><b>{t('head')}</b><br><i>{t('head_hint')}</i><br><br><br><br><br></td>"
        "</tr></table>"
        f"<p class='meta'>{t('generated')}: {esc(datetime.now(VN_TZ).strftime('%d/%m/%Y %H:%M'))} · "
        f"kiemthu {esc(__version__)} · {t('verify_hint')}</p>"
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
  margin: 12mm 12mm 13mm 14mm;
  @bottom-left { content: __FOOTER__; font: 7pt 'KT Sans'; color: #666; }
  @bottom-right { content: __PAGE__ " " counter(page) " / " counter(pages); font: 7pt 'KT Sans'; color: #666; }
}
body { font-family: 'KT Sans', 'DejaVu Sans', sans-serif; font-size: 8.5pt; line-height: 1.28; }
section.annex { page-break-before: always; }
table.summary, table.rules, table.cover { font-family: 'KT Sans Condensed', 'KT Sans', sans-serif; }
table.summary { font-size: 7.6pt; }
table.rules { font-size: 7.5pt; }
thead { display: table-header-group; }
tr, div.finding, figure, div.exchange { page-break-inside: avoid; }
h3, h4 { page-break-after: avoid; }
section.service { page-break-before: always; }
section.service:first-of-type { page-break-before: avoid; }
figure img { max-height: 75mm; max-width: 60%; }
table.summary td.c6 { white-space: nowrap; }
"""

SCREEN_CSS = """
body { font-family: 'DejaVu Sans', 'Segoe UI', Arial, sans-serif; font-size: 14px; line-height: 1.4;
       max-width: 1400px; margin: 24px auto; padding: 0 16px; color: #111; }
table.summary { font-size: 13px; table-layout: auto; }  /* on screen the columns take what their codes need */
table.rules { font-size: 12px; }
a { color: #0645ad; }
section.annex { margin-top: 32px; border-top: 3px double #1f4e79; padding-top: 12px; }
figure img { max-height: 420px; }
"""

COMMON_CSS = """
h1 { text-align: center; font-size: 13pt; margin: 6px 0 4px 0; }
h2 { font-size: 11pt; margin: 12px 0 6px 0; border-bottom: 1.5px solid #1f4e79; color: #1f4e79; }
h3 { font-size: 10.5pt; margin: 10px 0 4px 0; color: #1f4e79; }
h4 { font-size: 9pt; margin: 8px 0 3px 0; }
table { border-collapse: collapse; width: 100%; table-layout: fixed; }
th, td { border: 0.6px solid #999; padding: 2px 4px; vertical-align: top; text-align: left;
         overflow-wrap: break-word; box-sizing: border-box; }
th { background: #dde5f0; }
table.letterhead td { border: none; text-align: center; width: 50%; padding: 0; }
table.letterhead .governing { font-size: 0.95em; }
table.letterhead hr.short { width: 28%; border: none; border-top: 0.8px solid #000; margin: 2px auto 4px auto; }
table.letterhead .motto { font-size: 1em; }
table.letterhead .number, table.letterhead .excerpt { font-size: 0.92em; }
table.letterhead .place-date { font-size: 0.95em; }
p.addressee { text-align: center; margin: 8px 0 2px 0; font-size: 1.05em; }
p.intro { text-indent: 1.2em; margin: 3px 0 5px 0; text-align: justify; }
table.cover { margin-top: 4px; }
table.cover caption { text-align: left; font-weight: bold; padding: 2px 0; }
table.cover th { width: 15%; background: #f1f4f8; font-weight: bold; }
table.cover td { width: 35%; }
table.cover tr.deadline th, table.cover tr.deadline td { background: #fff4ce; }
table.cover tr.deadline.overdue th, table.cover tr.deadline.overdue td { background: #ffd6d6; }
table.cover small { color: #444; }
p.totals { margin: 4px 0; font-style: italic; }
p.deadline { margin: 3px 0; padding: 2px 4px; background: #fff4ce; }
p.deadline.overdue { background: #ffd6d6; }
table.summary th { text-align: center; vertical-align: middle; }
table.summary td.c0 { text-align: center; }
table.summary .c0 { width: 3%; } table.summary .c1 { width: 12%; } table.summary .c2 { width: 5.5%; }
table.summary .c3 { width: 10.5%; } table.summary .c4 { width: 7%; } table.summary .c5 { width: 5.5%; }
table.summary .c6 { width: 14%; } table.summary .c7, table.summary .c8, table.summary .c9,
table.summary .c10 { width: 6.5%; } table.summary .c11 { width: 5%; } table.summary .c12 { width: 11.5%; }
/* codes break only after a hyphen, never inside a number */
table.summary td.c6 { font-weight: bold; overflow-wrap: normal; }
table.summary td.c2, table.summary td.c4 { white-space: nowrap; }
td.v { text-align: center; }
.passed { background: #c6efce; } .failed, .inconclusive { background: #ffc7ce; } .error { background: #ff9c9c; }
.warning, .passed_with_exceptions { background: #ffeb9c; }
.skipped, .not_evaluated, .not_applicable, .none { background: #ededed; }
.badge { padding: 0 5px; border-radius: 3px; font-weight: bold; font-size: 0.9em; }
table.kv th { width: 22%; background: #f1f4f8; }
table.kv .codes { font-weight: bold; }
div.annex-head { text-align: center; margin-bottom: 8px; font-size: 1.05em; }
section.service { margin-bottom: 10px; }
div.check { margin-left: 6px; }
p.reason { margin: 1px 0 3px 0; font-style: italic; }
div.finding { border-left: 3px solid #c00000; padding: 2px 6px; margin: 3px 0 6px 0; background: #fff7f7; }
div.finding.warning, div.finding.skipped, div.finding.not_evaluated { border-left-color: #bf8f00; background: #fffbea; }
div.finding p { margin: 1px 0; }
p.source { color: #444; font-size: 0.92em; }
div.proof figure { margin: 4px 0; }
div.proof img { max-width: 100%; border: 0.6px solid #999; }
figcaption { font-size: 0.85em; color: #555; }
div.exchange { margin: 4px 0; }
div.ex-title { font-weight: bold; font-size: 0.9em; }
table.ex pre { white-space: pre-wrap; overflow-wrap: anywhere; margin: 0; font-family: 'KT Mono', 'DejaVu Sans Mono', monospace;
               font-size: 6.8pt; }
table.rules .r-n { width: 4%; text-align: center; } table.rules .r-content { width: 56%; }
table.rules .r-clause { width: 30%; } table.rules .r-result { width: 10%; }
.mono { font-family: 'KT Mono', 'DejaVu Sans Mono', monospace; font-size: 0.92em; }
.muted { color: #555; }
p.evidence { font-size: 0.88em; margin: 2px 0 4px 0; }
details.evidence ul { margin: 2px 0 4px 0; padding-left: 18px; }
table.signature { margin-top: 10px; page-break-inside: avoid; }
table.signature td { border: none; }
table.signature td.recipients { width: 30%; font-size: 0.9em; vertical-align: top; }
table.signature td.sign { text-align: center; width: 35%; }
p.meta { font-size: 0.8em; color: #666; margin-top: 4px; }
"""
