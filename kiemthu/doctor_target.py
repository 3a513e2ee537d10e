"""`kiemthu doctor --target FILE`: is this system ready to be tested? Secrets, reachability, deep link and the
portal registration checked against the system, each problem on its own line with the fix to apply.

Only what can be asked without a run: plain HTTP to the system (never the mock, which is not started here)."""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import yaml

from kiemthu.control import LOOPBACK
from kiemthu.doctor import Finding
from kiemthu.runtime import taken_port_message
from kiemthu.target import SAFE_LOADER, Target, TargetError, load_target, missing_variables, secret_fields

HTTP_TIMEOUT = 5.0
REMOTE_GUIDE = "docs/guides/remote-system.md"


def check_target(path: Path) -> list[Finding]:
    """Every finding about a target file; checks that need a readable target stop at the first that is not."""
    try:
        target = load_target(path, check_env=False)
    except TargetError as exc:
        return unusable_target(exc)
    findings = check_secrets(target)
    system = check_system(target)
    findings += system
    reachable = all(f.ok for f in system if f.name == "Hệ thống / system base_url")
    if reachable:
        findings += check_deep_link(target)
    findings += check_portal_settings(target)
    return findings


def unusable_target(exc: TargetError) -> list[Finding]:
    """A target that does not load: each unset variable with what it is for, each other problem with the rule."""
    findings = [Finding(f"Biến môi trường / variable {m.name}", False, f"not set: {m.purpose}",
                        f"export {m.name}=…" + ("  (the value registered at the portal; never in the file)"
                                                if m.secret else ""))
                for m in exc.missing]
    unset = [f"${{{m.name}}}" for m in exc.missing]
    for problem in exc.problems:
        if "rule 'environment variable set'" in problem or any(u in problem for u in unset):
            continue
        findings.append(Finding("Tệp cấu hình / target file", False, problem,
                                f"edit {exc.source} (fields: schemas/target.schema.json)"))
    return findings or [Finding("Tệp cấu hình / target file", False, str(exc), f"edit {exc.source}")]


def check_secrets(target: Target) -> list[Finding]:
    """Each secret field's variable is set (its value is never shown)."""
    missing = {m.name: m for m in missing_variables(target.data) if m.secret}
    findings = []
    for dotted in secret_fields(target.data):
        node: Any = target.data
        for part in dotted.split("."):
            node = node[part]
        name = str(node["env"])
        if name in missing:
            findings.append(Finding(f"Bí mật / secret {dotted}", False, f"{name} is not set: {missing[name].purpose}",
                                    f"export {name}=… with the value registered at the portal (never in the file)"))
        else:
            findings.append(Finding(f"Bí mật / secret {dotted}", True, f"{name} is set (value hidden)"))
    return findings


def _get(url: str) -> httpx.Response:
    with httpx.Client(timeout=HTTP_TIMEOUT, follow_redirects=False, trust_env=False) as http:
        return http.get(url)


def _unreachable(url: str, exc: Exception) -> str:
    return f"{url} does not answer ({type(exc).__name__}: {str(exc) or 'no reply'})"


def check_system(target: Target) -> list[Finding]:
    """The system's base URL answers, and its health path answers 2xx."""
    base = target["system"]["base_url"].rstrip("/")
    start_it = ("start the system under test first (kiemthu run does not start it), or correct system.base_url "
                "in the target file")
    try:
        first = _get(base + "/")
    except httpx.HTTPError as exc:
        return [Finding("Hệ thống / system base_url", False, _unreachable(base, exc), start_it)]
    findings = [Finding("Hệ thống / system base_url", True, f"{base} answers (HTTP {first.status_code})")]
    health_path = target["system"].get("health_path")
    if not health_path:
        findings.append(Finding("Hệ thống / system health", True,
                                "no system.health_path: the base URL is used as the readiness check"))
        return findings
    url = base + health_path
    try:
        status = _get(url).status_code
    except httpx.HTTPError as exc:
        return findings + [Finding("Hệ thống / system health", False, _unreachable(url, exc), start_it)]
    ok = 200 <= status < 300
    findings.append(Finding("Hệ thống / system health", ok, f"{url} answers HTTP {status}",
                            "" if ok else "system.health_path must be a path the system answers with 2xx when up"))
    return findings


def first_scenario(target: Target) -> dict[str, Any]:
    for path in target.scenario_paths():
        try:
            data = yaml.load(path.read_text(encoding="utf-8"), Loader=SAFE_LOADER)
        except (OSError, yaml.YAMLError):
            continue
        if isinstance(data, dict):
            return data
    return {}


def check_deep_link(target: Target) -> list[Finding]:
    """The adapter's deep link, for the first service, answers (a redirect to the portal's login is an answer)."""
    template = ((target.get("adapter") or {}).get("pages") or {}).get("deep_link")
    if not template:
        return [Finding("Đường dẫn sâu / deep link", False, "the target has no adapter.pages.deep_link",
                        "add adapter.pages.deep_link: the page the portal links each service to "
                        "(conformance/README.md)")]
    from conformance.adapter.dsl import AdapterError, Variables

    scenario = first_scenario(target)
    variables = Variables(system=target["system"], portal={"base_url": target["portal"]["base_url"]},
                          service=scenario, identity={}, officer={"username": ""}, payment={})
    try:
        url = variables.expand(template, "adapter.pages.deep_link")
    except AdapterError as exc:
        return [Finding("Đường dẫn sâu / deep link", False, str(exc),
                        "use only {system.*}, {portal.*} and {service.*} placeholders in the deep link")]
    try:
        status = _get(url).status_code
    except httpx.HTTPError as exc:
        return [Finding("Đường dẫn sâu / deep link", False, _unreachable(url, exc),
                        "correct adapter.pages.deep_link (the system's submission page)")]
    ok = status < 400
    return [Finding("Đường dẫn sâu / deep link", ok, f"{url} answers HTTP {status}"
                    + (f" (service {scenario.get('id', '?')})" if scenario else ""),
                    "" if ok else "correct adapter.pages.deep_link: the system must serve its submission page there")]


def origin(url: str) -> str:
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return f"{parts.scheme}://{(parts.hostname or '').lower()}:{port}"


def is_loopback_host(host: str) -> bool:
    host = host.strip("[]").lower()
    if host in LOOPBACK:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def on_system_host(target: Target, field: str, url: str) -> Finding:
    """A URL the portal calls or sends the citizen to must be on the system's own host and port."""
    system = target["system"]["base_url"].rstrip("/")
    ok = origin(url) == origin(system)
    return Finding(f"Cổng / portal {field}", ok,
                   f"{url} is on the system's host" if ok else
                   f"{url} is not on the system's host {origin(system)}: the portal would send this elsewhere",
                   "" if ok else f"register the system's own URL, e.g. {system}{urlsplit(url).path or '/'}, in the "
                                 f"target and in your system's settings")


def check_portal_settings(target: Target) -> list[Finding]:
    """Redirect URIs, post-logout URIs, payment return and IPN URLs on the system's host; the mock's address
    reachable from where the system runs; the mock's port free for the harness to start it."""
    portal = target["portal"]
    findings: list[Finding] = []
    sso = portal.get("sso_client") or {}
    for i, uri in enumerate(sso.get("redirect_uris", [])):
        findings.append(on_system_host(target, f"sso_client.redirect_uris[{i}]", uri))
    for i, uri in enumerate(sso.get("post_logout_redirect_uris", [])):
        findings.append(on_system_host(target, f"sso_client.post_logout_redirect_uris[{i}]", uri))
    partner = portal.get("payment_partner") or {}
    for key in ("return_url", "callback_url"):
        if key in partner:
            finding = on_system_host(target, f"payment_partner.{key}", partner[key])
            if key == "callback_url":
                finding.name += " (IPN)"
            findings.append(finding)
    if portal["mode"] == "mock":
        findings += check_mock_address(target)
    else:
        findings.append(check_external_portal(target))
    return findings


def check_external_portal(target: Target) -> Finding:
    """`portal.mode: external`: the portal someone else started answers its SSO discovery document."""
    url = f"{target['portal']['base_url'].rstrip('/')}/.well-known/openid-configuration"
    try:
        status = _get(url).status_code
    except httpx.HTTPError as exc:
        return Finding("Cổng / portal (external)", False, _unreachable(url, exc),
                       "start that portal (e.g. kiemthu mock --target FILE), or use portal.mode: mock so that "
                       "kiemthu run starts one")
    ok = status == 200
    return Finding("Cổng / portal (external)", ok, f"{url} answers HTTP {status}",
                   "" if ok else "portal.base_url must be the portal's base URL (its SSO discovery answers 200)")


def check_mock_address(target: Target) -> list[Finding]:
    """A system on another machine needs a mock bound beyond loopback and a portal URL naming this machine; the
    mock's port must be free (a server there is refused, never used)."""
    portal = target["portal"]
    bind = target.portal_bind_host()
    portal_host = urlsplit(portal["base_url"]).hostname or ""
    system_host = urlsplit(target["system"]["base_url"]).hostname or ""
    findings = []
    if not is_loopback_host(system_host) and is_loopback_host(portal_host):
        findings.append(Finding("Cổng / portal base_url", False,
                                f"the system is on {system_host}, another machine, but portal.base_url names "
                                f"loopback ({portal_host}): that system cannot reach the mock",
                                f"set portal.base_url to this machine's address as {system_host} sees it, and "
                                f"portal.bind_host (or --portal-host) to that address or 0.0.0.0 ({REMOTE_GUIDE})"))
    elif not is_loopback_host(system_host) and is_loopback_host(bind):
        findings.append(Finding("Cổng / portal bind_host", False,
                                f"the system is on {system_host}, another machine, but the mock would listen on "
                                f"{bind} only",
                                f"set portal.bind_host (or --portal-host) to {portal_host} or 0.0.0.0 "
                                f"({REMOTE_GUIDE})"))
    elif not is_loopback_host(bind) and is_loopback_host(portal_host):
        findings.append(Finding("Cổng / portal base_url", False,
                                f"portal.bind_host is {bind} but portal.base_url names loopback ({portal_host}): a "
                                "system on another machine would be told an address it cannot reach",
                                f"set portal.base_url to this machine's address as the system sees it ({REMOTE_GUIDE})"))
    else:
        findings.append(Finding("Cổng / portal address", True,
                                f"the mock will listen on {bind}, reachable as {portal['base_url']}"))
    port = urlsplit(portal["base_url"]).port or 80
    taken = taken_port_message(port, bind if not is_loopback_host(bind) else "127.0.0.1", "mock portal")
    findings.append(Finding("Cổng / portal port", taken is None,
                            f"port {port} is free for the mock" if taken is None else taken,
                            "" if taken is None else f"stop that process, or change the port of portal.base_url"))
    return findings
