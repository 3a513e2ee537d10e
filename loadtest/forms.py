"""Just enough HTML reading for HTTP-level journeys: forms (fields, radios with their labels, buttons) and links.

Standard library only: load generators must stay light, and pages are small server-rendered HTML.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urljoin


@dataclass
class Field:
    tag: str                 # input | select | textarea | button
    name: str
    type: str = "text"
    value: str = ""
    checked: bool = False
    id: str = ""
    label: str = ""
    options: list[tuple[str, str, bool]] = field(default_factory=list)  # (value, text, selected)
    accept: str = ""
    required: bool = False


@dataclass
class Form:
    action: str
    method: str
    enctype: str
    id: str = ""
    fields: list[Field] = field(default_factory=list)
    text: str = ""

    def named(self, name: str) -> list[Field]:
        return [f for f in self.fields if f.name == name]

    def hidden(self) -> dict[str, str]:
        return {f.name: f.value for f in self.fields if f.tag == "input" and f.type == "hidden" and f.name}

    def file_fields(self) -> list[Field]:
        return [f for f in self.fields if f.tag == "input" and f.type == "file" and f.name]

    def buttons(self) -> list[Field]:
        return [f for f in self.fields if f.tag == "button" or (f.tag == "input" and f.type in ("submit", "image"))]

    def defaults(self) -> dict[str, str]:
        """What a browser would send without user input: hidden, text values, checked boxes, selected options."""
        out: dict[str, str] = {}
        for f in self.fields:
            if not f.name or f.tag == "button" or f.type in ("submit", "image", "file", "reset"):
                continue
            if f.type in ("radio", "checkbox"):
                if f.checked:
                    out[f.name] = f.value or "on"
            elif f.tag == "select":
                chosen = [v for v, _, sel in f.options if sel] or [v for v, _, _ in f.options[:1]]
                if chosen:
                    out[f.name] = chosen[0]
            else:
                out[f.name] = f.value
        return out

    def radio_by_label(self, name: str | None, label: str) -> Field | None:
        want = _norm(label)
        for f in self.fields:
            if f.type == "radio" and (name is None or f.name == name) and _norm(f.label) == want:
                return f
        for f in self.fields:
            if f.type == "radio" and (name is None or f.name == name) and want in _norm(f.label):
                return f
        return None

    def url(self, base: str) -> str:
        return urljoin(base, self.action or "")


@dataclass
class Link:
    href: str
    text: str


@dataclass
class Page:
    forms: list[Form]
    links: list[Link]
    text: str
    title: str = ""

    def form_with(self, *names: str) -> Form | None:
        """The first form having every named field."""
        for f in self.forms:
            if all(f.named(n) for n in names):
                return f
        return None

    def link_matching(self, pattern: str) -> Link | None:
        rx = re.compile(pattern)
        return next((l for l in self.links if rx.search(l.href) or rx.search(l.text)), None)


def _norm(s: str) -> str:
    return " ".join(s.split()).casefold()


class _Parser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[Form] = []
        self.links: list[Link] = []
        self.labels_for: dict[str, str] = {}
        self.text: list[str] = []
        self.title = ""
        self._form: Form | None = None
        self._select: Field | None = None
        self._option: list | None = None
        self._textarea: Field | None = None
        self._button: Field | None = None
        self._label_stack: list[dict] = []
        self._link: Link | None = None
        self._in_title = False
        self._skip = 0
        self._orphans: list[Field] = []

    def _add(self, f: Field) -> None:
        if self._label_stack:
            self._label_stack[-1]["fields"].append(f)
        (self._form.fields if self._form else self._orphans).append(f)

    def handle_starttag(self, tag, attrs):
        a = {k: (v if v is not None else "") for k, v in attrs}
        if tag in ("script", "style"):
            self._skip += 1
        elif tag == "title":
            self._in_title = True
        elif tag == "form":
            self._form = Form(action=a.get("action", ""), method=a.get("method", "get").upper(),
                              enctype=a.get("enctype", "application/x-www-form-urlencoded"), id=a.get("id", ""))
            self.forms.append(self._form)
        elif tag == "input":
            self._add(Field("input", a.get("name", ""), a.get("type", "text").lower(), a.get("value", ""),
                            "checked" in a, a.get("id", ""), accept=a.get("accept", ""), required="required" in a))
        elif tag == "select":
            self._select = Field("select", a.get("name", ""), "select", id=a.get("id", ""), required="required" in a)
            self._add(self._select)
        elif tag == "option" and self._select is not None:
            self._option = [a.get("value"), "", "selected" in a]
        elif tag == "textarea":
            self._textarea = Field("textarea", a.get("name", ""), "textarea", id=a.get("id", ""),
                                   required="required" in a)
            self._add(self._textarea)
        elif tag == "button":
            self._button = Field("button", a.get("name", ""), a.get("type", "submit").lower(), a.get("value", ""),
                                 id=a.get("id", ""))
            self._add(self._button)
        elif tag == "label":
            self._label_stack.append({"for": a.get("for", ""), "text": [], "fields": []})
        elif tag == "a" and "href" in a:
            self._link = Link(a["href"], "")
            self.links.append(self._link)

    def handle_endtag(self, tag):
        if tag in ("script", "style"):
            self._skip = max(0, self._skip - 1)
        elif tag == "title":
            self._in_title = False
        elif tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None
        elif tag == "option" and self._option is not None and self._select is not None:
            value, text, sel = self._option
            self._select.options.append((text.strip() if value is None else value, " ".join(text.split()), sel))
            self._option = None
        elif tag == "textarea":
            self._textarea = None
        elif tag == "button":
            if self._button is not None:
                self._button.label = " ".join(self._button.label.split())
            self._button = None
        elif tag == "label" and self._label_stack:
            lab = self._label_stack.pop()
            text = " ".join("".join(lab["text"]).split())
            if lab["for"]:
                self.labels_for[lab["for"]] = text
            for f in lab["fields"]:
                f.label = f.label or text
            if self._label_stack:
                self._label_stack[-1]["text"].append(text)
        elif tag == "a":
            if self._link is not None:
                self._link.text = " ".join(self._link.text.split())
            self._link = None

    def handle_data(self, data):
        if self._skip:
            return
        if self._in_title:
            self.title += data
        self.text.append(data)
        if self._form is not None:
            self._form.text += data
        if self._option is not None:
            self._option[1] += data
        if self._textarea is not None:
            self._textarea.value += data
        if self._button is not None:
            self._button.label += data
        if self._label_stack:
            self._label_stack[-1]["text"].append(data)
        if self._link is not None:
            self._link.text += data


def parse_page(html: str) -> Page:
    p = _Parser()
    p.feed(html or "")
    p.close()
    for form in p.forms:
        for f in form.fields:
            if not f.label and f.id in p.labels_for:
                f.label = p.labels_for[f.id]
    return Page(forms=p.forms, links=p.links, text=" ".join(" ".join(p.text).split()), title=p.title.strip())
