"""summary.json against journal.jsonl: the harness's account of a run against the mock portal's own record.

`kiemthu report` prints what summary.json says; before it does, every claim the report would make about
the portal is looked up in the journal: each dossier code reached the portal, a passed submission was
accepted in a starting status, a passed processing reached the portal with its result, a passed payment
was opened (INIT) and confirmed (a genuine callback, acknowledged). One named check per claim; a
disagreement names the service, the summary field and the value, and nothing is rebuilt.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from schemas import load_profile

JOURNAL = "journal.jsonl"
# journal labels of the mock portal: adapter calls carrying TrangThaiHoSo, and payment messages
DOSSIER_SYNCS = ("DongBoHoSoMC", "DongBoTrangThaiHoSo")
PAYMENT_INIT, PAYMENT_CALLBACK = "INIT", "IPN"
# verdicts by which a report tells its reader that a step worked
CLAIMING = frozenset({"passed", "passed_with_exceptions", "warning"})


@dataclass(frozen=True)
class Disagreement:
    service: str
    field: str  # where in summary.json, e.g. services[0].dossier_codes[0]
    value: Any
    reason_vi: str
    reason_en: str

    def __str__(self) -> str:
        value = json.dumps(self.value, ensure_ascii=False)
        return f"{self.service}: {self.field} = {value} — {self.reason_vi} / {self.reason_en}"


class EvidenceMismatch(Exception):
    """summary.json claims what journal.jsonl does not show; the report is not rebuilt."""

    def __init__(self, disagreements: list[Disagreement]):
        self.disagreements = disagreements
        super().__init__("; ".join(str(d) for d in disagreements))


@dataclass
class PortalRecord:
    """What the portal saw, per dossier code, read once from the journal."""

    sent: dict[str, list[dict]] = field(default_factory=lambda: defaultdict(list))  # dossier syncs, any outcome
    accepted: dict[str, list[dict]] = field(default_factory=lambda: defaultdict(list))  # synced records accepted
    inits: dict[str, list[dict]] = field(default_factory=lambda: defaultdict(list))  # INIT the platform accepted
    confirmed: dict[str, list[dict]] = field(default_factory=lambda: defaultdict(list))  # genuine paid callbacks acked


def read_journal(run_dir: Path) -> list[dict] | None:
    """journal.jsonl as a list of entries; None when there is no journal."""
    path = Path(run_dir) / JOURNAL
    if not path.is_file():
        return None
    entries = []
    with path.open(encoding="utf-8", errors="replace") as fh:
        for number, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                entry = json.loads(line)
            except ValueError:
                raise EvidenceMismatch([Disagreement("*", f"{JOURNAL} line {number}", line[:80].strip(),
                                                     "dòng không phải JSON", "line is not JSON")]) from None
            if isinstance(entry, dict):
                entries.append(entry)
    return entries


def portal_record(entries: list[dict], success_code: str) -> PortalRecord:
    record = PortalRecord()
    for e in entries:
        if e.get("role") == "adapter" and e.get("service") in DOSSIER_SYNCS:
            for item in data_items(e):
                code = str(item.get("MaHoSo") or "")
                record.sent[code].append(item)
                if adapter_accepted(e):
                    record.accepted[code].append(item)
        elif e.get("role") == "payment" and e.get("service") == PAYMENT_INIT and message_ok(e, "response", success_code):
            for code in e.get("dossier_codes") or []:
                record.inits[code].append(e)
        elif e.get("role") == "ipn" and genuine_payment_acknowledged(e, success_code):
            for code in e.get("dossier_codes") or []:
                record.confirmed[code].append(e)
    return record


def data_items(entry: dict) -> list[dict]:
    data = (entry.get("request") or {}).get("data") if isinstance(entry.get("request"), dict) else None
    if isinstance(data, str):
        try:
            data = json.loads(data)
        except ValueError:
            data = None
    data = [data] if isinstance(data, dict) else data
    return [d for d in data or [] if isinstance(d, dict)]


def adapter_accepted(entry: dict) -> bool:
    """HTTP 2xx, no injected fault, and error_code 0 in the reply envelope."""
    response = entry.get("response") if isinstance(entry.get("response"), dict) else {}
    return (0 < int(entry.get("status_code") or 0) < 300 and not entry.get("error")
            and response.get("error_code") in (0, "0"))


def message_ok(entry: dict, side: str, success_code: str) -> bool:
    body = entry.get(side) if isinstance(entry.get(side), dict) else {}
    return 0 < int(entry.get("status_code") or 0) < 300 and str(body.get("MaLoi")) == success_code


def genuine_payment_acknowledged(entry: dict, success_code: str) -> bool:
    """A callback saying 'paid' that the portal sent as itself (not a forged test message), acknowledged."""
    request = entry.get("request") if isinstance(entry.get("request"), dict) else {}
    return (not request.get("adversarial") and message_ok(entry, "request", success_code)
            and message_ok(entry, "response", success_code))


# -- one check per claim -------------------------------------------------------------------------------------

def ensure_codes_reached_portal(service: dict, where: str, record: PortalRecord, profile: dict) -> list[Disagreement]:
    """A dossier code the report presents as tested was sent to the portal (unless the summary says it was not)."""
    if not (claims(service, "submission") or service.get("completed")):
        return []
    return [Disagreement(service["id"], f"{where}.dossier_codes[{i}]", code,
                         "mã hồ sơ chưa từng được gửi lên Cổng (không có trong journal.jsonl)",
                         f"the dossier code never reached the portal (no {DOSSIER_SYNCS[0]} in {JOURNAL})")
            for i, code in enumerate(service.get("dossier_codes") or []) if code not in record.sent]


def ensure_codes_name_the_procedure(service: dict, where: str, record: PortalRecord, profile: dict) -> list[Disagreement]:
    """The portal received each dossier under this service's procedure (MaTTHC), not another one's."""
    out = []
    for i, code in enumerate(service.get("dossier_codes") or []):
        seen = {str(item.get("MaTTHC")) for item in record.sent.get(code, []) if item.get("MaTTHC")}
        if seen and service.get("MaTTHC") not in seen:
            out.append(Disagreement(service["id"], f"{where}.dossier_codes[{i}]", code,
                                    f"Cổng nhận hồ sơ này theo thủ tục {', '.join(sorted(seen))}, không phải {service.get('MaTTHC')}",
                                    f"the portal received this dossier for procedure {', '.join(sorted(seen))}, "
                                    f"not {service.get('MaTTHC')}"))
    return out


def ensure_submission_synced(service: dict, where: str, record: PortalRecord, profile: dict) -> list[Disagreement]:
    """A passed submission: the portal accepted the dossier in a starting status (profile status_transitions[''])."""
    if not claims(service, "submission"):
        return []
    starting = set(profile["adapter"]["status_transitions"][""])
    out = []
    for code in service.get("dossier_codes") or []:
        statuses = statuses_of(record, code)
        if not starting & set(statuses):
            out.append(Disagreement(service["id"], f"{where}.checks.submission.verdict", service_verdict(service, "submission"),
                                    f"journal.jsonl không cho thấy Cổng đã nhận hồ sơ {code} ở trạng thái ban đầu "
                                    f"({'/'.join(sorted(starting, key=int))}); trạng thái được nhận: {statuses or 'không có'}",
                                    f"{JOURNAL} shows no accepted sync of {code} in a starting status; "
                                    f"accepted statuses: {statuses or 'none'}"))
    return out


def ensure_processing_synced(service: dict, where: str, record: PortalRecord, profile: dict) -> list[Disagreement]:
    """A passed processing: the portal accepted the dossier past its starting status, with the result document."""
    if not claims(service, "processing"):
        return []
    starting = set(profile["adapter"]["status_transitions"][""])
    out = []
    for code in service.get("dossier_codes") or []:
        statuses = statuses_of(record, code)
        with_result = any(item.get("DanhSachGiayToKetQua") for item in record.accepted.get(code, []))
        if not (set(statuses) - starting) or not with_result:
            out.append(Disagreement(service["id"], f"{where}.checks.processing.verdict", service_verdict(service, "processing"),
                                    f"journal.jsonl không cho thấy hồ sơ {code} đã được xử lý và trả kết quả lên Cổng "
                                    f"(trạng thái được nhận: {statuses or 'không có'}; kết quả: {'có' if with_result else 'không'})",
                                    f"{JOURNAL} does not show {code} processed with its result at the portal "
                                    f"(accepted statuses: {statuses or 'none'}; result: {'yes' if with_result else 'no'})"))
    return out


def ensure_payment_opened(service: dict, where: str, record: PortalRecord, profile: dict) -> list[Disagreement]:
    """A passed payment: the payment platform accepted an INIT for one of the service's dossiers."""
    if not claims(service, "payment") or any(record.inits.get(c) for c in service.get("dossier_codes") or []):
        return []
    return [Disagreement(service["id"], f"{where}.checks.payment.verdict", service_verdict(service, "payment"),
                         "journal.jsonl không có bản tin INIT được chấp nhận cho hồ sơ của dịch vụ này",
                         f"{JOURNAL} holds no accepted {PAYMENT_INIT} for this service's dossiers")]


def ensure_payment_confirmed(service: dict, where: str, record: PortalRecord, profile: dict) -> list[Disagreement]:
    """A passed payment: the portal sent a genuine 'paid' callback for one of the dossiers and it was acknowledged."""
    if not claims(service, "payment") or any(record.confirmed.get(c) for c in service.get("dossier_codes") or []):
        return []
    return [Disagreement(service["id"], f"{where}.checks.payment.verdict", service_verdict(service, "payment"),
                         "journal.jsonl không có thông báo thanh toán thành công (IPN) nào được hệ thống xác nhận",
                         f"{JOURNAL} holds no genuine successful {PAYMENT_CALLBACK} acknowledged by the system")]


CHECKS: tuple[Callable[..., list[Disagreement]], ...] = (
    ensure_codes_reached_portal, ensure_codes_name_the_procedure, ensure_submission_synced,
    ensure_processing_synced, ensure_payment_opened, ensure_payment_confirmed,
)


def claims(service: dict, check: str) -> bool:
    return service_verdict(service, check) in CLAIMING


def service_verdict(service: dict, check: str) -> str | None:
    item = (service.get("checks") or {}).get(check)
    return item.get("verdict") if isinstance(item, dict) else None


def statuses_of(record: PortalRecord, code: str) -> list[str]:
    """Accepted TrangThaiHoSo of a dossier, in journal order, repeats dropped."""
    out: list[str] = []
    for item in record.accepted.get(code, []):
        status = str(item.get("TrangThaiHoSo") or "")
        if status and status not in out:
            out.append(status)
    return out


def disagreements(summary: dict, entries: list[dict] | None) -> list[Disagreement]:
    """Every claim of summary.json that the journal does not bear out."""
    try:
        profile = load_profile(summary.get("profile"))
    except FileNotFoundError as exc:
        return [Disagreement("*", "profile", summary.get("profile"), "không rõ hồ sơ hợp đồng", str(exc))]
    if entries is None:
        entries = []
        if any(s.get("dossier_codes") for s in summary.get("services", [])):
            return [Disagreement("*", JOURNAL, None, "không có journal.jsonl để đối chiếu mã hồ sơ",
                                 "no journal to confirm the dossier codes against")]
    success = str(profile["payment"]["outcomes"]["success"]["MaLoi"])
    record = portal_record(entries, success)
    found: list[Disagreement] = []
    for i, service in enumerate(summary.get("services", [])):
        for check in CHECKS:
            found += check(service, f"services[{i}]", record, profile)
    return found


def journal_folders(run_dir: Path, summary: dict) -> dict[Path, list[int]]:
    """Which journal each service is checked against, by the indexes of the services.

    A merged run (`kiemthu report --merge`) keeps each source run under runs/<run-id>/ with its own portal
    journal, and names it in the service's `_run_dir`; a folder outside the run directory is not read
    (the service is then checked against the run's own journal, which has none of its codes)."""
    base = Path(run_dir).resolve()
    groups: dict[Path, list[int]] = defaultdict(list)
    for i, service in enumerate(summary.get("services", [])):
        folder = base
        rel = service.get("_run_dir") if isinstance(service, dict) else None
        if isinstance(rel, str) and rel and not Path(rel).is_absolute():
            candidate = (base / rel).resolve()
            if candidate.is_relative_to(base):
                folder = candidate
        groups[folder].append(i)
    return dict(groups)


def run_disagreements(run_dir: Path, summary: dict) -> list[Disagreement]:
    """Every claim of summary.json that its services' journals do not bear out."""
    groups = journal_folders(run_dir, summary)
    base = Path(run_dir).resolve()
    if not groups or list(groups) == [base]:
        return disagreements(summary, read_journal(run_dir))
    found: list[Disagreement] = []
    for folder, indexes in groups.items():
        part = {**summary, "services": [summary["services"][i] for i in indexes]}
        for d in disagreements(part, read_journal(folder)):
            found.append(_renumbered(d, indexes))
    return found


def _renumbered(d: Disagreement, indexes: list[int]) -> Disagreement:
    """services[j] of a part of the summary as services[i] of the whole."""
    m = re.match(r"^services\[(\d+)\]", d.field)
    if not m:
        return d
    return Disagreement(d.service, f"services[{indexes[int(m.group(1))]}]{d.field[m.end():]}", d.value,
                        d.reason_vi, d.reason_en)


def ensure_summary_matches_journal(run_dir: Path, summary: dict) -> None:
    """Raise EvidenceMismatch listing every disagreement between summary.json and journal.jsonl."""
    found = run_disagreements(run_dir, summary)
    if found:
        raise EvidenceMismatch(found)
