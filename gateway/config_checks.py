"""Config checks about secrets and the files and URLs they travel through (kept apart so config.py stays small).

Keys are trimmed (a Secret file's trailing newline) and must fit in an HTTP header; gateway keys
are unique by name and by value; a CA bundle must load; a URL's host and port must parse. No
message ever shows a key.
"""

from __future__ import annotations

import re
import ssl
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import attrs

if TYPE_CHECKING:  # config.py imports this module: the types are for the checker only
    from gateway.config import ApiKey, Config


def trimmed(config: Config) -> Config:
    """Keys without surrounding whitespace: a key read from a Secret file often ends in a newline."""
    providers = {
        name: attrs.evolve(p, api_key=p.api_key.strip()) if p.api_key is not None else p
        for name, p in config.providers.items()
    }
    auth = config.auth
    if auth is not None:
        auth = attrs.evolve(
            auth,
            api_keys=tuple(attrs.evolve(k, key=k.key.strip()) for k in auth.api_keys),
            admin_key=auth.admin_key.strip() if auth.admin_key is not None else None,
        )
    return attrs.evolve(config, providers=providers, auth=auth)


#: Characters no HTTP header value may carry (line breaks above all), so no key may either.
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def header_values(config: Config) -> list[str]:
    """Keys and extra headers must fit in a header, and an admin key must not be empty; never showing a value."""
    values = [(f"$.providers.{n}.api_key", p.api_key or "") for n, p in config.providers.items()]
    values += [(f"$.providers.{n}.headers.{h}", v) for n, p in config.providers.items() for h, v in p.headers.items()]
    if config.auth is not None:
        values += [(f"$.auth.api_keys[{i}].key", k.key) for i, k in enumerate(config.auth.api_keys)]
        values.append(("$.auth.admin_key", config.auth.admin_key or ""))
    problems = [
        f"{at}: contains a control character (a line break?), which no HTTP header may carry"
        for at, v in values
        if _CONTROL.search(v)
    ]
    if config.auth is not None and config.auth.admin_key == "":
        # An empty admin key would let `Authorization: Bearer ` (nothing after it) in.
        problems.append("$.auth.admin_key: must not be empty; leave it out to turn the admin endpoints off")
    return problems


def unique_keys(keys: tuple[ApiKey, ...]) -> list[str]:
    """Allow-lists, quotas and logs go by a key's name, so names must differ, and so must the keys."""
    problems: list[str] = []
    names: dict[str, int] = {}
    owners: dict[str, str] = {}
    for key in keys:
        names[key.name] = names.get(key.name, 0) + 1
        if key.key in owners:  # never the key itself in a message: name the entries that share it
            problems.append(f"$.auth.api_keys: keys {owners[key.key]!r} and {key.name!r} are the same key")
        owners.setdefault(key.key, key.name)
    problems += [
        f"$.auth.api_keys: {n} keys are named {name!r}; names must be unique" for name, n in names.items() if n > 1
    ]
    return problems


def ca_bundle(at: str, path: str) -> list[str]:
    """The file exists and loads as PEM certificates, so a bad bundle fails the check, not the start."""
    if not Path(path).is_file():
        return [f"{at}: no such file {path!r}"]
    try:
        # The same call the provider makes at start; a bare context, so no system roots are read.
        ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT).load_verify_locations(cafile=path)
    except ssl.SSLError as exc:
        return [f"{at}: {path!r} holds no usable PEM certificate ({exc.reason or exc.strerror})"]
    except OSError as exc:
        return [f"{at}: cannot read {path!r} ({exc.strerror})"]
    return []


def is_http_url(value: str) -> bool:
    """An http(s) URL with a host, whose host and port parse (a bad IPv6 host or port would fail every call)."""
    if not re.match(r"^https?://[^/\s]+", value):
        return False
    try:
        urlsplit(value).port  # noqa: B018 - parsing the port is the check
    except ValueError:
        return False
    return True
