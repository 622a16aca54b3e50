"""Message dataclasses to JSON-ready payloads and back.

`to_payload` gives the camelCase dict of a message: None fields are left out, datetimes become
UTC strings with milliseconds and "Z", enums their string value, and Decimal stays Decimal
(`csms.ocppj.serialize` writes it as a JSON number). `from_payload` is the inverse for a payload
that has passed schema validation; it is lenient where chargers are (see `timestamps`), and
turns JSON numbers of Decimal fields into `Decimal(str(number))` so 6.1 stays 6.1.

The conversion of each class is worked out once from its type hints (`prepare`; `codec` does it
for every message class at import); the per-message work is a loop over precomputed
(attribute, key, converter) triples.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Callable, Mapping
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any, Final, TypeVar

from csms.ocpp16.timestamps import format_timestamp, parse_timestamp

T = TypeVar("T")

_Convert = Callable[[Any], Any]


@dataclasses.dataclass(frozen=True, slots=True)
class _Plan:
    encode: Callable[[object], dict[str, Any]]
    decode: Callable[[Mapping[str, Any]], object]


_PLANS: Final[dict[type, _Plan]] = {}


def to_payload(message: object) -> dict[str, Any]:
    """The JSON-ready payload of a request or response message (or nested type)."""
    plan = _PLANS.get(type(message)) or _plan(type(message))
    return plan.encode(message)


def from_payload(cls: type[T], payload: Mapping[str, Any]) -> T:
    """The `cls` message a schema-valid payload stands for.

    Unknown keys are ignored; a payload that did not pass validation may raise (KeyError,
    TypeError, ValueError) instead of giving a message.
    """
    plan = _PLANS.get(cls) or _plan(cls)
    return typing.cast(T, plan.decode(payload))


def prepare(cls: type) -> None:
    """Work out now how to convert `cls`; TypeError if it is not a message dataclass."""
    _plan(cls)


def _plan(cls: type) -> _Plan:
    plan = _PLANS.get(cls)
    if plan is None:
        plan = _PLANS[cls] = _build_plan(cls)
    return plan


def json_name(field_name: str) -> str:
    """The JSON property name of a field: snake_case to camelCase (`id_tag` -> `idTag`)."""
    first, *rest = field_name.split("_")
    return first + "".join(part.capitalize() for part in rest)


def _build_plan(cls: type) -> _Plan:
    if not (isinstance(cls, type) and dataclasses.is_dataclass(cls)):
        raise TypeError(f"{cls!r} is not an OCPP message class")
    hints = typing.get_type_hints(cls)
    encoders: list[tuple[str, str, _Convert | None]] = []
    decoders: list[tuple[str, str, _Convert | None]] = []
    for field in dataclasses.fields(cls):
        encode, decode = _converters(_strip_optional(hints[field.name]))
        key = json_name(field.name)
        encoders.append((field.name, key, encode))
        decoders.append((key, field.name, decode))
    return _Plan(encode=_make_encoder(tuple(encoders)), decode=_make_decoder(cls, tuple(decoders)))


def _make_encoder(
    fields: tuple[tuple[str, str, _Convert | None], ...],
) -> Callable[[object], dict[str, Any]]:
    def encode(message: object) -> dict[str, Any]:
        payload: dict[str, Any] = {}
        for name, key, convert in fields:
            value = getattr(message, name)
            if value is not None:
                payload[key] = value if convert is None else convert(value)
        return payload

    return encode


def _make_decoder(
    cls: type, fields: tuple[tuple[str, str, _Convert | None], ...]
) -> Callable[[Mapping[str, Any]], object]:
    def decode(payload: Mapping[str, Any]) -> object:
        kwargs: dict[str, Any] = {}
        for key, name, convert in fields:
            value = payload.get(key)
            if value is not None:
                kwargs[name] = value if convert is None else convert(value)
        return cls(**kwargs)

    return decode


def _strip_optional(hint: Any) -> Any:
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        args = [arg for arg in typing.get_args(hint) if arg is not type(None)]
        if len(args) != 1:
            raise TypeError(f"unsupported union {hint!r}")
        return args[0]
    return hint


def _converters(hint: Any) -> tuple[_Convert | None, _Convert | None]:
    """(encode, decode) for one field type; None means the JSON value is used as it is."""
    if hint in (str, int, bool):
        # The schema has checked the JSON type (draft-04: 1.0 is not an integer).
        return None, None
    if hint is Decimal:
        return None, _decode_decimal
    if hint is datetime:
        return format_timestamp, _decode_timestamp
    if isinstance(hint, type) and issubclass(hint, StrEnum):
        members = {member.value: member for member in hint}
        return str, members.__getitem__
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        plan = _plan(hint)
        return plan.encode, plan.decode
    if typing.get_origin(hint) is list:
        (item,) = typing.get_args(hint)
        encode_item, decode_item = _converters(item)
        return _list_of(encode_item), _list_of(decode_item)
    raise TypeError(f"unsupported field type {hint!r}")


def _list_of(convert: _Convert | None) -> _Convert:
    if convert is None:
        return list
    return lambda values: [convert(value) for value in values]


def _decode_decimal(value: int | float | Decimal) -> Decimal:
    if isinstance(value, Decimal):
        return value
    # str() of a float is its shortest round-trip form: 6.1 -> Decimal("6.1"), not the binary
    # value 6.0999999999999996447...
    return Decimal(str(value))


def _decode_timestamp(value: str) -> datetime:
    parsed = parse_timestamp(value)
    if parsed is None:
        raise ValueError(f"not a timestamp: {value!r}")
    return parsed
