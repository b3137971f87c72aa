"""The strict base converter and the one place that turns cattrs errors into field paths.

cattrs coerces by default (`5` becomes `"5"`, `"no"` becomes `True`); the hooks here refuse
that, once, and every other converter is a `.copy()` of these.
"""

from __future__ import annotations

import math
import re
import types
import typing
from typing import Any

import cattrs
import cattrs.cols
from cattrs.cols import is_mapping, is_sequence
from cattrs.errors import ClassValidationError, ForbiddenExtraKeysError, IterableValidationError
from cattrs.v import transform_error

#: cattrs writes mapping keys as `['name']`; config paths read better as `.name`.
_MAP_KEY = re.compile(r"\['([^'\]]+)'\]")
_isfinite = math.isfinite


def _strict_str(value: Any, _: type) -> str:
    if not isinstance(value, str):
        raise TypeError(f"expected a string, got {_kind(value)}")
    return value


def _strict_int(value: Any, _: type) -> int:
    if type(value) is int:  # the common case first: one check instead of two (bool is an int subclass)
        return value
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"expected an integer, got {_kind(value)}")
    return value


def _strict_float(value: Any, _: type) -> float:
    if type(value) is float and _isfinite(value):  # the common case first: 110 ns instead of 270 ns
        return value
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"expected a number, got {_kind(value)}")
    result = float(value)
    if not math.isfinite(result):
        raise ValueError("expected a finite number")
    return result


def _strict_bool(value: Any, _: type) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"expected true or false, got {_kind(value)}")
    return value


def _kind(value: Any) -> str:
    names = {bool: "a boolean", int: "an integer", float: "a number", str: "a string"}
    names |= {list: "an array", dict: "an object", type(None): "null"}
    return names.get(type(value), type(value).__name__)


def make_strict(*, forbid_extra_keys: bool) -> cattrs.Converter:
    """A converter that never coerces scalars; extra keys are refused when asked."""
    conv = cattrs.Converter(forbid_extra_keys=forbid_extra_keys)
    conv.register_structure_hook(str, _strict_str)
    conv.register_structure_hook(int, _strict_int)
    conv.register_structure_hook(float, _strict_float)
    conv.register_structure_hook(bool, _strict_bool)
    conv.register_structure_hook_factory(is_sequence, lambda t, c: _only(list, t, c))
    conv.register_structure_hook_factory(is_mapping, lambda t, c: _only(dict, t, c))
    return conv


def _only(container: type, type_: Any, conv: cattrs.Converter) -> Any:
    """Wrap cattrs' own sequence / mapping hook so a string is never taken for an array."""
    if container is list and typing.get_origin(type_) is tuple:
        base = cattrs.cols.homogenous_tuple_structure_factory(type_, conv)
        label = "an array"
    elif container is list:
        base = cattrs.cols.list_structure_factory(type_, conv)
        label = "an array"
    else:
        base = cattrs.cols.mapping_structure_factory(type_, conv)
        label = "an object"

    def hook(value: Any, t: Any) -> Any:
        if not isinstance(value, container):
            raise TypeError(f"expected {label}, got {_kind(value)}")
        return base(value, t)

    return hook


#: For client requests and config: unknown keys are an error.
STRICT = make_strict(forbid_extra_keys=True)
#: For provider answers: unknown keys are ignored, types are still checked.
TOLERANT = make_strict(forbid_extra_keys=False)


def error_paths(exc: BaseException, *, root: str = "$") -> list[tuple[str, str]]:
    """Flatten a cattrs error into (json path, message) pairs, first the most specific."""
    if not isinstance(exc, ClassValidationError | IterableValidationError | ForbiddenExtraKeysError):
        return [(root, str(exc))]
    pairs: list[tuple[str, str]] = []
    for line in transform_error(exc, path=root, format_exception=_format):
        message, _, path = line.rpartition(" @ ")
        pairs.append((_MAP_KEY.sub(r".\1", path) or root, message))
    return pairs


def _literal_choices(type_: Any) -> list[Any]:
    """The allowed values of a Literal, or of the Literals in an optional / union type."""
    if typing.get_origin(type_) is typing.Literal:
        return list(typing.get_args(type_))
    if isinstance(type_, types.UnionType) or typing.get_origin(type_) is typing.Union:
        return [c for arg in typing.get_args(type_) for c in _literal_choices(arg)]
    return []


def _format(exc: BaseException, type_: Any) -> str:
    choices = _literal_choices(type_)
    if choices:
        return f"expected one of {', '.join(repr(c) for c in choices)}"
    if isinstance(exc, ForbiddenExtraKeysError):
        return f"unknown field(s): {', '.join(sorted(exc.extra_fields))}"
    if isinstance(exc, KeyError):
        return "required field is missing"
    if isinstance(exc, TypeError | ValueError) and str(exc).startswith("expected"):
        return str(exc)
    if isinstance(exc, TypeError | ValueError):
        return f"invalid value ({exc})"
    return str(exc)
