"""The security whitepaper's schemas name their enums and nested types in `definitions` and
refer to them with `$ref`; the schema walkers of these tests read them inlined."""

from __future__ import annotations

from typing import Any


def inline_refs(schema: dict[str, Any]) -> dict[str, Any]:
    """`schema` with every local `{"$ref": "#/definitions/X"}` replaced by X (recursively)."""
    definitions = schema.get("definitions", {})

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/definitions/"):
                return walk(definitions[ref.removeprefix("#/definitions/")])
            return {key: walk(value) for key, value in node.items() if key != "definitions"}
        if isinstance(node, list):
            return [walk(item) for item in node]
        return node

    inlined: dict[str, Any] = walk(schema)
    return inlined
