"""Adversarial logins over plain HTTP: the deep link, the portal's login form, the redirect back to the system.

Eight refused logins through the browser would cost more than the whole happy path; the login form of the
portal is part of the portal contract (TEAM_CONTRACTS: fields techid, acr and a hidden session key), so these
probes post it directly and then look at the page the system answers with.
"""

from __future__ import annotations

import html
import re
from typing import Any
from urllib.parse import urljoin

import httpx

FORM = re.compile(r"<form[^>]*action=\"([^\"]*)\"[^>]*>(.*?)</form>", re.S | re.I)
HIDDEN = re.compile(r"<input[^>]*type=\"hidden\"[^>]*name=\"([^\"]+)\"[^>]*value=\"([^\"]*)\"", re.I)
TAGS = re.compile(r"<(script|style)[^>]*>.*?</\1>|<[^>]+>", re.S | re.I)


def visible_text(page: str) -> str:
    return " ".join(html.unescape(TAGS.sub(" ", page)).split())


class ProbeUnsupported(Exception):
    """The login page is not one this probe can post (fall back to the browser)."""


def attempt_login(deep_link: str, techid: str, acr: str | None, timeout: float = 10.0) -> dict[str, Any]:
    """Follow the deep link to the portal login, log in as `techid`, and return where the system left us."""
    http = httpx.Client(follow_redirects=True, timeout=timeout)
    try:
        first = http.get(deep_link)
        forms = [(a, body) for a, body in FORM.findall(first.text) if 'name="techid"' in body]
        if not forms:
            raise ProbeUnsupported(f"no portal login form at {first.url}")
        action, body = forms[0]
        data = dict(HIDDEN.findall(body))
        data.update({"techid": techid, **({"acr": acr} if acr else {})})
        final = http.post(urljoin(str(first.url), html.unescape(action)), data=data)
    except BaseException:
        http.close()
        raise
    return {"status": final.status_code, "url": str(final.url), "text": visible_text(final.text),
            "html": final.text, "client": http}


