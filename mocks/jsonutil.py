"""Fast JSON (orjson when installed, the standard library otherwise)."""

from __future__ import annotations

import json
from typing import Any

try:
    import orjson

    _OPTS = orjson.OPT_NON_STR_KEYS

    def dumps(value: Any) -> str:
        return orjson.dumps(value, default=str, option=_OPTS).decode("utf-8")

    def dumpb(value: Any) -> bytes:
        return orjson.dumps(value, default=str, option=_OPTS)

    loads = orjson.loads
    JSONDecodeError = orjson.JSONDecodeError
except ImportError:  # pragma: no cover - orjson is optional
    def dumps(value: Any) -> str:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)

    def dumpb(value: Any) -> bytes:
        return dumps(value).encode("utf-8")

    loads = json.loads
    JSONDecodeError = json.JSONDecodeError
