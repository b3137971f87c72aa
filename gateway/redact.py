"""Hiding what may be a secret before a value is shown (the `check` summary, config errors).

URLs carry credentials in two places: the user-info (`https://user:password@host`) and the query
string (`?api_key=...`). Only the scheme, host and path are shown.
"""

from __future__ import annotations

import re

HIDDEN = "***"


def url(value: str) -> str:
    """`value` with its user-info, query string and fragment replaced by `***`; works on malformed URLs too."""
    base = re.split(r"[?#]", value, maxsplit=1)[0]
    tail = f"{value[len(base)]}{HIDDEN}" if len(base) < len(value) else ""
    scheme, sep, rest = base.partition("://")
    if not sep:
        scheme, rest = "", base
    if "@" in rest:
        # Up to the last "@", even past a "/": a password with an unescaped "/" stays hidden too.
        rest = f"{HIDDEN}@{rest.rpartition('@')[2]}"
    return f"{scheme}{sep}{rest}{tail}"
