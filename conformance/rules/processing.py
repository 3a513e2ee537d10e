"""Check 4 — processing and status/result sync (Hà Giang testing procedure §3.1 (4); Circular 01/2018/TT-VPCP
art. 17; Official Letter 5632/VPCP-KSTT §4.a; the adapter contract). Sources: docs/domain/README.md."""

from __future__ import annotations

from typing import Any

from conformance.journal import accepted, data_items, ref
from conformance.rules.core import RuleNotApplicable, RuleNotEvaluated, RuleViolation, rule


def status_history(entries: list[dict], code: str, services: list[str]) -> list[tuple[str, dict, bool]]:
    """(TrangThaiHoSo, journal entry, accepted) for every dossier record about `code`, in journal order."""
    out = []
    for e in sorted(entries, key=lambda x: x.get("id") or 0):
        if e.get("service") not in services:
            continue
        for item in data_items(e):
            if item.get("MaHoSo") == code and item.get("TrangThaiHoSo") not in (None, ""):
                out.append((str(item["TrangThaiHoSo"]), e, accepted(e)))
    return out


@rule("Observed integrations: TrangThaiHoSo 1–10", "Every status sent to the portal is a known code")
def ensure_status_codes_known(history: list[tuple[str, dict, bool]], known: dict[str, str]) -> None:
    bad = [(s, e) for s, e, _ in history if s not in known]
    if bad:
        raise RuleViolation(expected=sorted(known, key=int), actual=[s for s, _ in bad], where=ref(bad[0][1]))


@rule("Observed integrations: TrangThaiHoSo order", "Statuses follow the allowed order")
def ensure_status_transitions_allowed(history: list[tuple[str, dict, bool]], transitions: dict[str, list[str]]) -> None:
    previous = ""
    for status, entry, ok in history:
        if status == previous:
            continue
        if status not in transitions.get(previous, []):
            raise RuleViolation(expected=f"after '{previous or 'nothing'}': one of {transitions.get(previous, [])}",
                                actual=status, where=ref(entry))
        if ok:
            previous = status


@rule("Hà Giang testing procedure §3.1 test content (4)", "Each processing step reaches the portal as a status, in order")
def ensure_each_step_synced(history: list[tuple[str, dict, bool]], expected: list[str], where: str | None = None) -> None:
    got = [s for s, _, ok in history if ok]
    missing = [s for s in expected if s not in got]
    if missing:
        raise RuleViolation(expected=expected, actual=got, where=where,
                            note=f"not synced: {', '.join(missing)} (the portal accepted: {', '.join(dict.fromkeys(got)) or 'none'})")
    position, late = 0, []
    for status in expected:  # each step after the one before it
        if status in got[position:]:
            position = got.index(status, position) + 1
        else:
            late.append(status)
    if late:
        raise RuleViolation(expected=expected, actual=got, where=where,
                            note=f"synced out of order: {', '.join(late)} reached the portal before an earlier step")


@rule("Observed integrations: CapNhatTienDoHoSoMC", "Progress is sent only once the portal holds the dossier")
def ensure_progress_after_dossier(entries: list[dict], code: str, dossier_service: str, progress_service: str) -> None:
    ordered = sorted(entries, key=lambda x: x.get("id") or 0)
    first_ok = next((e["id"] for e in ordered if e.get("service") == dossier_service and accepted(e)
                     and code in (e.get("dossier_codes") or [])), None)
    for e in ordered:
        if e.get("service") != progress_service or code not in (e.get("dossier_codes") or []):
            continue
        if first_ok is None or (e.get("id") or 0) < first_ok:
            raise RuleViolation(expected=f"{progress_service} after {dossier_service} was accepted",
                                actual=f"progress at entry #{e.get('id')} before the dossier existed", where=ref(e))


@rule("Observed integrations: CapNhatTienDoHoSoMC (≤ 10)", "Progress batches stay within the limit")
def ensure_progress_batch_size(entries: list[dict], progress_service: str, limit: int) -> None:
    for e in entries:
        if e.get("service") == progress_service and len(data_items(e)) > limit:
            raise RuleViolation(expected=f"at most {limit} items", actual=len(data_items(e)), where=ref(e))


@rule("TT 01/2018/TT-VPCP Art. 17(1)(b)", "Processing steps reach the portal as progress entries")
def ensure_progress_recorded(entries: list[dict], code: str, progress_service: str, minimum: int) -> None:
    items = [i for e in entries if e.get("service") == progress_service and accepted(e)
             for i in data_items(e) if i.get("MaHoSo") == code]
    if len(items) < minimum:
        raise RuleViolation(expected=f"at least {minimum} progress entries", actual=len(items),
                            where=ref(next((e for e in entries if e.get("service") == progress_service), None)))


@rule("Observed integrations: NgayTra / NgayTuChoi", "A status carries the date field it requires")
def ensure_status_dates_present(history: list[tuple[str, dict, bool]], code: str, requires: dict[str, str]) -> None:
    for status, entry, _ in history:
        field = requires.get(status)
        if not field:
            continue
        record = next((i for i in data_items(entry) if i.get("MaHoSo") == code), {})
        if not record.get(field):
            raise RuleViolation(expected=f"{field} with status {status}", actual=None, where=ref(entry))


@rule("CV 5632/VPCP-KSTT §4.a step 3", "The e-result is synced with its result-type code and a file link")
def ensure_result_synced(records: list[tuple[dict, dict]], result_code: str) -> dict:
    """`records`: (dossier record, journal entry) of accepted syncs; the latest result list wins."""
    for record, entry in reversed(records):
        results = record.get("DanhSachGiayToKetQua") or []
        if results:
            match = [r for r in results if isinstance(r, dict) and r.get("MaGiayToKetQua") == result_code]
            if not match:
                raise RuleViolation(expected=f"MaGiayToKetQua {result_code}",
                                    actual=[r.get("MaGiayToKetQua") for r in results if isinstance(r, dict)], where=ref(entry))
            if not match[0].get("DuongDanTepTinKetQua"):
                raise RuleViolation(expected="DuongDanTepTinKetQua (file link)", actual=None, where=ref(entry))
            return match[0]
    raise RuleViolation(expected=f"DanhSachGiayToKetQua with {result_code}", actual="no result synced",
                        where=ref(records[-1][1]) if records else None)


@rule("Observed integrations: DanhSachGiayToKetQua.DuongDanTepTinKetQua", "The synced result file can be retrieved")
def ensure_result_retrievable(fetch: dict[str, Any] | None) -> None:
    if fetch is None:
        raise RuleNotEvaluated("no result link was synced")
    if not fetch.get("ok"):
        raise RuleViolation(expected="HTTP 200 with a file", actual=fetch.get("actual"), where=fetch.get("url"))


@rule("Portal rules (draft of QĐ 31/2021/QĐ-TTg) Art. 29(4)", "Updates made while the portal was down reach it once it is back")
def ensure_updates_survive_outage(expected: list[str], accepted_after_fault: list[str], fault: dict[str, Any]) -> None:
    if not fault.get("injected") and fault.get("why"):
        raise RuleNotApplicable(fault["why"])
    if not fault.get("injected"):
        raise RuleNotEvaluated("no outage was injected: the officer's flow changed the dossier's status fewer than twice")
    missing = [s for s in expected if s not in accepted_after_fault]
    if missing:
        raise RuleViolation(expected=expected, actual=accepted_after_fault, where=fault.get("where"),
                            note=f"status(es) {', '.join(missing)} lost after the outage (the portal answered 503 to "
                                 f"{fault.get('requests') or 'every'} request(s), for at most {fault.get('duration_s')}s)")


@rule("OWASP ASVS 4.0.3 V4.1.1", "The officers' pages ask for a login")
def ensure_officer_pages_need_login(probe: dict[str, Any] | None) -> None:
    """`probe`: the officers' dossier list fetched without any session ({status, location, url})."""
    if not probe:
        raise RuleNotEvaluated("the adapter names no officer page to ask for without a session")
    status = int(probe.get("status") or 0)
    if status in (401, 403) or (300 <= status < 400 and probe.get("location")):
        return
    raise RuleViolation(expected="a redirect to the login page, or 401/403", actual=f"HTTP {status}",
                        where=probe.get("url"))
