"""Validation of payloads against the official OCPP 1.6 JSON schemas (OCPP-J 4.2, errata 3.8).

The schemas are the OCA set shipped in the PyPI package `ocpp` (`ocpp/v16/schemas/*.json`); we
read the files and nothing else from that package. Each is compiled once, on first use, with
`fastjsonschema`, and a violation is reported with the OCPP-J 1.6 error code it calls for
(J 4.2.3; catalogue 5.3 and 5.13):

| schema rule                      | error code                   |
| -------------------------------- | ---------------------------- |
| type, maxLength                  | TypeConstraintViolation      |
| required, minItems, maxItems     | OccurenceConstraintViolation |
| enum, minimum/maximum, format,   | PropertyConstraintViolation  |
| multipleOf                       |                              |
| additionalProperties, the payload| FormationViolation           |
| not being an object, anything else|                             |

Two deliberate departures from a plain compile of the schema files:

- "date-time" is checked by `timestamps.parse_timestamp`, so what passes is exactly what
  `from_payload` can read: timestamps without an offset are accepted (read as UTC, spec 3.15
  leniency) and impossible dates are not.
- `multipleOf` (only 0.1, on `limit` and `minChargingRate`) is taken out of the compiled schema
  and checked here on the decimal digits of the number: the payload's float is read back through
  its shortest repr (6.1 -> Decimal("6.1")), so 0.3 and 6.1 pass and 6.15 does not, with none of
  the binary floating point trap of `0.3 % 0.1`, and `Decimal` values from `to_payload` are
  checked the same way (fastjsonschema's own check cannot take a Decimal, and older versions use
  float modulo).

And one addition, after the schema has passed: every value must be one the store can hold
(docs/field-behaviour.md, "Input limits and ids"). The schemas say only "integer" and "string";
OCPP 1.6 integers are 32-bit (the spec's data types) and our columns are, so an integer outside
-2^31 .. 2^31-1, a number that is not finite (NaN, Infinity), and a string holding NUL or a lone
UTF-16 surrogate (a JSON escape like \ud800 that no UTF-8 column can store) are each refused with
PropertyConstraintViolation naming the field.
"""

from __future__ import annotations

import copy
import importlib.resources
import json
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Final, Literal

import fastjsonschema

from csms.ocpp16.actions import ACTIONS
from csms.ocpp16.timestamps import is_timestamp
from csms.ocppj import ErrorCode


@dataclass(frozen=True, slots=True, kw_only=True)
class SchemaViolation:
    """Why a payload does not fit its schema: the CALLERROR code and a description naming the
    field, for example "connectorId: must be integer"."""

    error_code: ErrorCode
    description: str


def validate_request(action: str, payload: Mapping[str, Any]) -> SchemaViolation | None:
    """Check the payload of an `action` CALL; KeyError if the action is not an OCPP 1.6 one."""
    return _validator(action, "request")(payload)


def validate_response(action: str, payload: Mapping[str, Any]) -> SchemaViolation | None:
    """Check the payload of the CALLRESULT to an `action` CALL; KeyError for an unknown action."""
    return _validator(action, "response")(payload)


Kind = Literal["request", "response"]
_Validator = Callable[[Mapping[str, Any]], SchemaViolation | None]
# (value, path) -> violation; path is the dotted JSON path of value ("" for the payload).
_Check = Callable[[Any, str], SchemaViolation | None]

_VALIDATORS: Final[dict[tuple[str, Kind], _Validator]] = {}

_SCHEMAS: Final = importlib.resources.files("ocpp") / "v16" / "schemas"


def _validator(action: str, kind: Kind) -> _Validator:
    validator = _VALIDATORS.get((action, kind))
    if validator is None:
        if action not in ACTIONS:
            raise KeyError(action)
        validator = _VALIDATORS[(action, kind)] = _compile(action, kind)
    return validator


def load_schema(action: str, kind: Kind) -> dict[str, Any]:
    """The official schema of an action's request or response, as shipped (a fresh copy)."""
    name = f"{action}.json" if kind == "request" else f"{action}Response.json"
    schema: dict[str, Any] = json.loads((_SCHEMAS / name).read_text(encoding="utf-8-sig"))
    return schema


def _compile(action: str, kind: Kind) -> _Validator:
    schema = copy.deepcopy(load_schema(action, kind))
    check_tenths = _take_multiple_of(schema)
    compiled = fastjsonschema.compile(schema, formats={"date-time": is_timestamp})

    def validate(payload: Mapping[str, Any]) -> SchemaViolation | None:
        if not isinstance(payload, dict) and isinstance(payload, Mapping):
            payload = dict(payload)
        try:
            compiled(payload)
        except fastjsonschema.JsonSchemaValueException as exc:
            return _violation(exc)
        if check_tenths is not None and (found := check_tenths(payload, "")) is not None:
            return found
        return unstorable(payload)

    return validate


INT32_MIN: Final = -(2**31)
INT32_MAX: Final = 2**31 - 1
# NUL and lone surrogates: no PostgreSQL text, and no UTF-8 text at all, can hold them.
UNSTORABLE_TEXT: Final = re.compile("[\x00\ud800-\udfff]")


def unstorable(value: Any, path: str = "") -> SchemaViolation | None:
    """The first value in a decoded JSON document that no column can hold: an integer outside
    32 bits, a NaN or infinite number, a string (or object key) with NUL or a lone surrogate."""
    if not path and _all_storable(value):
        return None  # every CALL: one quick pass; the walk below only to name a problem
    problem = unstorable_reason(value)
    if problem is not None:
        return SchemaViolation(
            error_code=ErrorCode.PROPERTY_CONSTRAINT_VIOLATION,
            description=f"{path or 'payload'}: {problem}",
        )
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(key, str) and UNSTORABLE_TEXT.search(key) is not None:
                return SchemaViolation(
                    error_code=ErrorCode.PROPERTY_CONSTRAINT_VIOLATION,
                    description=f"{_join(path, ascii(key)[1:-1])}: "
                    "a property name with NUL or a lone surrogate",
                )
            if (found := unstorable(item, _join(path, key))) is not None:
                return found
    elif isinstance(value, list):
        for index, item in enumerate(value):
            if (found := unstorable(item, f"{path}[{index}]")) is not None:
                return found
    return None


def _all_storable(document: Any) -> bool:
    """True if nothing in the document is unstorable (False: look closer, there may be)."""
    pending = [document]
    texts: list[str] = []
    while pending:
        value = pending.pop()
        kind = type(value)
        if kind is dict:
            texts.extend(value)  # a decoded JSON object's keys are str
            pending.extend(value.values())
        elif kind is list:
            pending.extend(value)
        elif kind is str:
            texts.append(value)
        elif kind is int:
            if not INT32_MIN <= value <= INT32_MAX:
                return False
        elif kind is float:
            if not math.isfinite(value):
                return False
        elif value is not None and kind is not bool:
            return False
    return UNSTORABLE_TEXT.search("".join(texts)) is None


def unstorable_reason(value: Any) -> str | None:
    """Why a single (non-container) value cannot be stored, or None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        if INT32_MIN <= value <= INT32_MAX:
            return None
        return f"{_short(value)} is outside the 32-bit integer range"
    if isinstance(value, float):
        return None if math.isfinite(value) else f"{value!r} is not a finite number"
    if isinstance(value, str) and UNSTORABLE_TEXT.search(value) is not None:
        return "text with NUL or a lone surrogate (\\u0000, \\ud800-\\udfff)"
    return None


# J 4.2.3 error codes by fastjsonschema rule name; anything not here is a FormationViolation.
_CODES: Final = {
    "type": ErrorCode.TYPE_CONSTRAINT_VIOLATION,
    "maxLength": ErrorCode.TYPE_CONSTRAINT_VIOLATION,  # CiString too long (catalogue 5.13)
    "minLength": ErrorCode.TYPE_CONSTRAINT_VIOLATION,
    "required": ErrorCode.OCCURENCE_CONSTRAINT_VIOLATION,
    "minItems": ErrorCode.OCCURENCE_CONSTRAINT_VIOLATION,
    "maxItems": ErrorCode.OCCURENCE_CONSTRAINT_VIOLATION,
    "enum": ErrorCode.PROPERTY_CONSTRAINT_VIOLATION,
    "const": ErrorCode.PROPERTY_CONSTRAINT_VIOLATION,
    "minimum": ErrorCode.PROPERTY_CONSTRAINT_VIOLATION,
    "maximum": ErrorCode.PROPERTY_CONSTRAINT_VIOLATION,
    "exclusiveMinimum": ErrorCode.PROPERTY_CONSTRAINT_VIOLATION,
    "exclusiveMaximum": ErrorCode.PROPERTY_CONSTRAINT_VIOLATION,
    "multipleOf": ErrorCode.PROPERTY_CONSTRAINT_VIOLATION,
    "format": ErrorCode.PROPERTY_CONSTRAINT_VIOLATION,
    "additionalProperties": ErrorCode.FORMATION_VIOLATION,
}


def _violation(exc: fastjsonschema.JsonSchemaValueException) -> SchemaViolation:
    rule = exc.rule or ""
    path = _path(exc.name or "")
    where = path or "payload"
    value = exc.value
    detail = exc.rule_definition
    code = _CODES.get(rule, ErrorCode.FORMATION_VIOLATION)
    if rule == "type":
        if not path:
            # The payload itself is not an object: not a well-formed PDU (J 4.2.3).
            code = ErrorCode.FORMATION_VIOLATION
        description = f"{where}: must be {detail}, not {_json_type(value)}"
    elif rule == "required" and isinstance(value, dict):
        missing = [_join(path, key) for key in detail if key not in value]
        plural = "s" if len(missing) > 1 else ""
        description = f"{', '.join(missing)}: required field{plural} missing"
    elif rule == "additionalProperties" and isinstance(value, dict):
        known = exc.definition.get("properties", {})
        unknown = [_join(path, str(key)[:40]) for key in value if key not in known]
        description = f"{', '.join(unknown[:5])}: unknown property"
    elif rule in ("maxLength", "minLength"):
        bound = "longer" if rule == "maxLength" else "shorter"
        description = f"{where}: {bound} than {detail} characters"
    elif rule in ("minItems", "maxItems"):
        bound = "at least" if rule == "minItems" else "at most"
        description = f"{where}: must have {bound} {detail} item(s)"
    elif rule == "enum":
        allowed = f"one of {', '.join(map(str, detail))}" if len(detail) <= 10 else "allowed"
        description = f"{where}: {_short(value)} is not {allowed}"
    elif rule == "format":
        description = f"{where}: {_short(value)} is not a valid {detail}"
    else:
        message = exc.message.removeprefix(exc.name or "").strip()
        description = f"{where}: {message}"
    return SchemaViolation(error_code=code, description=description)


def _path(name: str) -> str:
    """fastjsonschema's "data.meterValue[0].timestamp" -> "meterValue[0].timestamp"."""
    return name.removeprefix("data").removeprefix(".")


def _join(path: str, key: object) -> str:
    return f"{path}.{key}" if path else str(key)


def _short(value: object, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _json_type(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float | Decimal):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list | tuple):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


_TENTH: Final = Decimal("0.1")


def _take_multiple_of(schema: dict[str, Any]) -> _Check | None:
    """Remove every `multipleOf` from `schema` (in place) and return a check of the values it
    applied to, or None if there was none. Runs after the compiled schema has passed, so types
    are already right."""
    if "multipleOf" in schema:
        step = schema.pop("multipleOf")
        if Decimal(str(step)) != _TENTH:
            raise ValueError(f"multipleOf {step} is not supported, only 0.1")
        return _check_tenth
    children = {
        key: check
        for key, sub in schema.get("properties", {}).items()
        if (check := _take_multiple_of(sub)) is not None
    }
    items = schema.get("items")
    check_item = _take_multiple_of(items) if isinstance(items, dict) else None
    if children:
        return _object_check(children)
    if check_item is not None:
        return _array_check(check_item)
    return None


def _object_check(children: dict[str, _Check]) -> _Check:
    def check_object(value: Any, path: str) -> SchemaViolation | None:
        for key, check in children.items():
            if key in value and (found := check(value[key], _join(path, key))) is not None:
                return found
        return None

    return check_object


def _array_check(check_item: _Check) -> _Check:
    def check_array(value: Any, path: str) -> SchemaViolation | None:
        for index, item in enumerate(value):
            if (found := check_item(item, f"{path}[{index}]")) is not None:
                return found
        return None

    return check_array


def _check_tenth(value: Any, path: str) -> SchemaViolation | None:
    if _has_one_decimal_at_most(value):
        return None
    return SchemaViolation(
        error_code=ErrorCode.PROPERTY_CONSTRAINT_VIOLATION,
        description=f"{path}: {_short(value)} is not a multiple of 0.1",
    )


def _has_one_decimal_at_most(value: int | float | Decimal) -> bool:
    """Whether a JSON number is a multiple of 0.1, judged on its decimal digits."""
    if isinstance(value, int):
        return True
    # repr of a float is the shortest string that reads back as it: the digits the sender wrote.
    number = value if isinstance(value, Decimal) else Decimal(repr(value))
    _, digits, exponent = number.as_tuple()
    if not isinstance(exponent, int):  # NaN and infinities
        return False
    # Digits after the first decimal place must all be zero: 6.10 yes, 6.15 no.
    return exponent >= -1 or not any(digits[exponent + 1 :])
