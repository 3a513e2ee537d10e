"""Check 2 — online submission (Hà Giang testing procedure §3.1 (2); Circular 01/2018/TT-VPCP art. 17, 19; the
adapter contract seen in real integrations). Sources: docs/domain/README.md."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from typing import Any

from conformance.journal import accepted, data_items, ref
from conformance.rules.core import RuleNotEvaluated, RuleViolation, rule


def _norm(text: str) -> str:
    return " ".join((text or "").replace("*", " ").split()).strip(" :").casefold()


def _diff(published: list[str], found: list[str]) -> tuple[list[str], list[str]]:
    have = {_norm(f) for f in found}
    want = {_norm(p) for p in published}
    missing = [p for p in published if _norm(p) not in have]
    extra = [f for f in found if _norm(f) not in want]
    return missing, extra


@rule("Hà Giang testing procedure §3.1 test content (2)", "The form asks for the published fields, no more, no fewer")
def ensure_form_fields_match_procedure(found: list[dict], published: list[dict], where: str | None = None) -> None:
    """`found`: inputs seen on the form ({label, required}); `published`: the scenario's fields."""
    missing, _ = _diff([f["label"] for f in published if f.get("required")], [f["label"] for f in found])
    _, extra = _diff([f["label"] for f in published], [f["label"] for f in found if f.get("required")])
    if missing or extra:
        raise RuleViolation(expected=[f["label"] for f in published if f.get("required")],
                            actual={"missing": missing, "extra_required": extra}, where=where,
                            note="missing: " + (", ".join(missing) or "none") + "; extra: " + (", ".join(extra) or "none"))


@rule("Hà Giang testing procedure §3.1 test content (2)", "The form asks for the published documents, no more, no fewer")
def ensure_form_documents_match_procedure(found: list[dict], published: list[dict], where: str | None = None) -> None:
    """`found`: file inputs seen on the form ({label, required}); `published`: the scenario's documents."""
    names = [d["TenThanhPhanHoSo"] for d in published]
    missing, extra = _diff([d["TenThanhPhanHoSo"] for d in published if d.get("required")], [f["label"] for f in found])
    _, extra = _diff(names, [f["label"] for f in found])
    if missing or extra:
        raise RuleViolation(expected=[d["TenThanhPhanHoSo"] for d in published if d.get("required")],
                            actual={"missing": missing, "extra": extra}, where=where,
                            note="missing: " + (", ".join(missing) or "none") + "; extra: " + (", ".join(extra) or "none"))


@rule("Portal rules (draft of QĐ 31/2021/QĐ-TTg) Art. 12(1)", "Fields known from the portal identity are pre-filled")
def ensure_fields_prefilled_from_identity(prefilled: dict[str, str], fields: list[dict], identity: dict,
                                          where: str | None = None) -> None:
    wrong = {}
    for f in fields:
        claim = f.get("from_identity")
        if claim and f["label"] in prefilled and str(prefilled[f["label"]]).strip() != str(identity.get(claim, "")).strip():
            wrong[f["label"]] = prefilled[f["label"]]
    if wrong:
        raise RuleViolation(expected={f["label"]: identity.get(f["from_identity"]) for f in fields
                                      if f.get("from_identity") and f["label"] in wrong},
                            actual=wrong, where=where)


@rule("TT 01/2018/TT-VPCP Art. 19(1)", "Dossier code is <agency>-<YYMMDD>-<4-digit daily sequence>")
def ensure_dossier_code_format(code: str | None, agency: str, received_on: date, spec: dict[str, Any],
                               where: str | None = None) -> None:
    """`spec`: the profile's `dossier_code` (pattern with groups agency/date/seq, date_format)."""
    if not code:
        raise RuleViolation(expected="a dossier code on the receipt", actual=None, where=where)
    m = re.fullmatch(spec["pattern"], code)
    if not m:
        raise RuleViolation(expected="V1V2V3.Z1Z2.Y1Y2.MX1X2-YYMMDD-XXXX", actual=code, where=where)
    if m.group("agency") != agency:
        raise RuleViolation(expected=f"agency {agency}", actual=m.group("agency"), where=where)
    allowed = {received_on.strftime(spec["date_format"]), (received_on - timedelta(days=1)).strftime(spec["date_format"])}
    if m.group("date") not in allowed:
        raise RuleViolation(expected=f"reception date {received_on.strftime(spec['date_format'])}",
                            actual=m.group("date"), where=where)


@rule("TT 01/2018/TT-VPCP Art. 17(1)(d)", "The dossier reaches the portal (DongBoHoSoMC accepted) within the sync deadline")
def ensure_dossier_synced(entries: list[dict], code: str | None, service: str, deadline_s: float) -> dict:
    if not code:
        raise RuleNotEvaluated("no dossier code")
    calls = [e for e in entries if e.get("service") == service and code in (e.get("dossier_codes") or [])]
    ok = [e for e in calls if accepted(e)]
    if not ok:
        last = calls[-1] if calls else None
        reply = (last or {}).get("response") if isinstance((last or {}).get("response"), dict) else {}
        actual = "no sync call" if not last else \
            f"HTTP {last.get('status_code')} error_code {reply.get('error_code', '?')}: {str(reply.get('message', ''))[:200]}"
        raise RuleViolation(expected=f"{service} accepted within {deadline_s:.0f}s", actual=actual, where=ref(last))
    return ok[0]


def synced_record(entry: dict, code: str) -> dict:
    for item in data_items(entry):
        if item.get("MaHoSo") == code:
            return item
    raise RuleNotEvaluated(f"{code} not in the sync call's data")


@rule("Observed integrations: DongBoHoSoMC.MaTTHC", "The synced dossier names the published procedure")
def ensure_synced_procedure_code(record: dict, procedure_code: str, where: str | None = None) -> None:
    if record.get("MaTTHC") != procedure_code:
        raise RuleViolation(expected=procedure_code, actual=record.get("MaTTHC"), where=where)


@rule("Observed integrations: DongBoHoSoMC.KenhThucHien", "An online dossier is synced with the online channel")
def ensure_synced_channel_online(record: dict, online_code: str, where: str | None = None) -> None:
    if str(record.get("KenhThucHien")) != online_code:
        raise RuleViolation(expected=online_code, actual=record.get("KenhThucHien"), where=where)


@rule("Observed integrations: DongBoHoSoMC.MaDoiTuong", "An online dossier's subject is the citizen's portal TechID")
def ensure_synced_subject_is_techid(record: dict, techid: str, where: str | None = None) -> None:
    if record.get("MaDoiTuong") != techid:
        raise RuleViolation(expected=techid, actual=record.get("MaDoiTuong"), where=where)


@rule("Observed integrations: DongBoHoSoMC.TaiLieuNop", "The synced dossier lists every required document by MaThanhPhanHoSo")
def ensure_synced_documents(record: dict, documents: list[dict], where: str | None = None) -> None:
    sent = {d.get("MaThanhPhanHoSo") for d in record.get("TaiLieuNop") or [] if isinstance(d, dict)
            and str(d.get("IsDeleted", "")).lower() not in ("true", "1")}
    missing = [d["MaThanhPhanHoSo"] for d in documents if d.get("required") and d["MaThanhPhanHoSo"] not in sent]
    if missing:
        raise RuleViolation(expected=[d["MaThanhPhanHoSo"] for d in documents if d.get("required")],
                            actual=sorted(x for x in sent if x), where=where, note=f"missing {', '.join(missing)}")


@rule("Observed integrations: TrangThaiHoSo (1, 2)", "A new online dossier starts as registered or received")
def ensure_initial_status(record: dict, initial: list[str], where: str | None = None) -> None:
    if str(record.get("TrangThaiHoSo")) not in initial:
        raise RuleViolation(expected=initial, actual=record.get("TrangThaiHoSo"), where=where)


@rule("Observed integrations: date format yyyyMMddHHmmss (Vietnam time)", "Date fields use yyyyMMddHHmmss in Vietnam time, close to when they happened")
def ensure_dates_plausible(record: dict, fields: list[str], date_format: str, window: tuple[datetime, datetime],
                           skew_s: float, future_fields: list[str] = (), where: str | None = None) -> None:
    """Each named field present must parse with `date_format` and lie within `window` ± skew (VN time)."""
    start, end = window
    for name in fields:
        value = record.get(name)
        if value in (None, ""):
            continue
        try:
            moment = datetime.strptime(str(value), date_format).replace(tzinfo=start.tzinfo)
        except ValueError:
            raise RuleViolation(expected=f"{name} as {date_format}", actual=value, where=where) from None
        if name in future_fields:
            if moment < start - timedelta(seconds=skew_s):
                raise RuleViolation(expected=f"{name} not before {start:%Y%m%d%H%M%S}", actual=value, where=where)
            continue
        if not (start - timedelta(seconds=skew_s) <= moment <= end + timedelta(seconds=skew_s)):
            raise RuleViolation(expected=f"{name} between {start:%Y%m%d%H%M%S} and {end:%Y%m%d%H%M%S} (±{skew_s:.0f}s, VN time)",
                                actual=value, where=where)


@rule("Observed integrations: message schemas (schemas/<profile>/)", "Messages sent to the portal validate against the contract schema")
def ensure_message_valid(messages: list[str], where: str | None = None) -> None:
    if messages:
        raise RuleViolation(expected="no schema violations", actual=messages[:5], where=where,
                            note=f"{len(messages)} violation(s)")


@rule("CV 5632/VPCP-KSTT §5.a step 2", "A document reused from Kho DL is synced as reused, with its result code")
def ensure_khodl_reuse_marked(record: dict, reused: list[dict], where: str | None = None) -> None:
    sent = {d.get("MaThanhPhanHoSo"): d for d in record.get("TaiLieuNop") or [] if isinstance(d, dict)}
    for doc in reused:
        item = sent.get(doc["MaThanhPhanHoSo"]) or {}
        flag = str(item.get("DuocLayTuKhoDMQG", "")).lower() in ("1", "true")
        if not flag or item.get("MaKetQuaThayThe") != doc.get("khodl_result_code"):
            raise RuleViolation(expected={"DuocLayTuKhoDMQG": True, "MaKetQuaThayThe": doc.get("khodl_result_code")},
                                actual={"DuocLayTuKhoDMQG": item.get("DuocLayTuKhoDMQG"),
                                        "MaKetQuaThayThe": item.get("MaKetQuaThayThe")}, where=where,
                                note=f"document {doc['MaThanhPhanHoSo']} was taken from Kho DL")


@rule("OWASP ASVS 4.0.3 V12.2.1",
      "A dossier whose attachments are of a disallowed type is refused")
def ensure_disallowed_upload_refused(probe: dict[str, Any] | None) -> None:
    """`probe`: the submit flow played again with every uploaded document replaced by a disallowed file
    ({outcome: refused|accepted, file, codes, where}, or {skipped: why})."""
    if not probe or not probe.get("outcome"):
        raise RuleNotEvaluated((probe or {}).get("skipped") or "the disallowed-upload probe did not run")
    if probe["outcome"] != "refused":
        codes = probe.get("codes") or []
        raise RuleViolation(expected=f"{probe.get('file')} refused, no dossier created",
                            actual=f"dossier {', '.join(codes) or '(code not shown)'} created", where=probe.get("where"),
                            note="Hệ thống nhận tệp không được phép / the system accepted a disallowed file type")
