"""The Stripe stand-in's answers checked against the `stripe` library's own types: every field it sends is one the
library declares for that object, with a value of the declared type (a nested object's fields in turn). The
library's annotations are the contract its users code against, as the Notion SDK's types are for the emulator."""

from __future__ import annotations

import types
import typing
from typing import Any, ForwardRef, Literal, Union, get_args, get_origin

import stripe
from stripe._list_object import ListObject
from stripe._stripe_object import StripeObject


def _hints(cls: type) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for klass in reversed(cls.__mro__):
        found.update(getattr(klass, "__annotations__", {}))
    return found


def _resolve(hint: Any) -> Any:
    if isinstance(hint, ForwardRef):
        return getattr(stripe, hint.__forward_arg__, Any)
    if isinstance(hint, str):
        return getattr(stripe, hint, Any)
    return hint


def problems(value: Any, hint: Any, path: str) -> list[str]:
    """Why `value` is not of the declared `hint` ([] when it is)."""
    hint = _resolve(hint)
    origin = get_origin(hint)
    if hint is Any or hint is typing.Any:
        return []
    if origin in (Union, types.UnionType):
        tries = [problems(value, arg, path) for arg in get_args(hint)]
        return [] if any(not t for t in tries) else min(tries, key=len)
    if origin is Literal:
        return [] if value in get_args(hint) else [f"{path}: {value!r} is not one of {get_args(hint)}"]
    if hint is type(None):
        return [] if value is None else [f"{path}: {value!r} is not null"]
    if hint in (int, float):
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        return [] if ok and (hint is float or isinstance(value, int)) else [f"{path}: {value!r} is not {hint.__name__}"]
    if hint in (str, bool):
        return [] if isinstance(value, hint) else [f"{path}: {value!r} is not {hint.__name__}"]
    if origin in (list, typing.List):  # noqa: UP006 - the library's own spelling
        if not isinstance(value, list):
            return [f"{path}: {value!r} is not a list"]
        return [p for i, v in enumerate(value) for p in problems(v, get_args(hint)[0], f"{path}[{i}]")]
    if origin is dict or origin is typing.Dict:  # noqa: UP006
        return [] if isinstance(value, dict) else [f"{path}: not an object"]
    base = origin or hint
    if isinstance(base, type) and issubclass(base, ListObject):
        if not isinstance(value, dict) or value.get("object") != "list" or not isinstance(value.get("data"), list):
            return [f"{path}: not a Stripe list"]
        item = get_args(hint)[0] if get_args(hint) else Any
        return [p for i, v in enumerate(value["data"]) for p in problems(v, item, f"{path}.data[{i}]")]
    if isinstance(base, type) and issubclass(base, StripeObject):
        if not isinstance(value, dict):
            return [f"{path}: {value!r} is not an object"]
        if base.__name__ == "UntypedStripeObject":
            return []
        return object_problems(value, base, path)
    return []


def object_problems(obj: dict[str, Any], cls: type, path: str = "") -> list[str]:
    """Every field of `obj` that `cls` does not declare, or declares with another type."""
    hints = _hints(cls)
    found = []
    for key, value in obj.items():
        if key not in hints:
            found.append(f"{path}.{key}: {cls.__name__} has no such field")
            continue
        found.extend(problems(value, hints[key], f"{path}.{key}"))
    return found
