"""The official schemas with their "$ref"s inlined: the security whitepaper's schemas name their
types in "definitions" (the OCPP 1.6 ones nest them in place), and the tests that walk a schema
want one shape."""

from __future__ import annotations

from typing import Any

from csms.ocpp16.validation import Kind, load_schema


def inline_refs(node: Any, definitions: dict[str, Any]) -> Any:
    """`node` with each {"$ref": "#/definitions/X"} replaced by X."""
    if isinstance(node, dict):
        if "$ref" in node:
            return inline_refs(definitions[node["$ref"].rsplit("/", 1)[-1]], definitions)
        return {key: inline_refs(value, definitions) for key, value in node.items()}
    if isinstance(node, list):
        return [inline_refs(value, definitions) for value in node]
    return node


def inlined_schema(action: str, kind: Kind) -> dict[str, Any]:
    schema = load_schema(action, kind)
    inlined: dict[str, Any] = inline_refs(schema, schema.get("definitions", {}))
    return inlined
