"""Bulk imports for fleets (POST /api/v1/id-tags/import, /api/v1/charge-points/import): the rows
of a JSON array or a CSV file with a header line, each validated like the one-at-a-time route's
body, all refused if one is wrong (422 naming the row and the field), then written in one
transaction by the caller.

CSV: UTF-8 (a byte order mark is skipped), a header line naming the fields in the API's
camelCase; an empty cell is a field left out, the cell `null` is JSON's null. Errors name the
row as a JSON array index would (`["body", 0, "status"]` is the first data line, line 2 of the
file).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from fastapi import HTTPException, Request, status
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ValidationError

from csms.ocpp16.validation import UNSTORABLE_TEXT

# Rows one import may hold; the API's body limit (settings.api_max_body_bytes) applies too.
MAX_ROWS = 100_000
CSV = "text/csv"
# A CSV cell that stands for JSON's null (e.g. maxActiveTransactions without a limit).
CSV_NULL = "null"

M = TypeVar("M", bound=BaseModel)


async def rows_of(
    request: Request, model: type[M], key: Callable[[M], str], key_name: str
) -> list[M]:
    """The rows of the request's body as `model`s; 415 for another content type, 422 for a row
    that is not valid, for two rows with the same `key`, or for too many rows."""
    records = _records(request.headers.get("content-type", ""), await request.body())
    if len(records) > MAX_ROWS:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            f"at most {MAX_ROWS} rows per import; this one has {len(records)}",
        )
    rows: list[M] = []
    first_row: dict[str, int] = {}
    for index, record in enumerate(records):
        try:
            row = model.model_validate(record)
        except ValidationError as exc:
            raise RequestValidationError(
                [{**error, "loc": ("body", index, *error["loc"])} for error in exc.errors()]
            ) from None
        seen = first_row.setdefault(key(row).lower(), index)
        if seen != index:
            raise _row_error(index, key_name, f"the same {key_name} as row {seen}")
        rows.append(row)
    return rows


def _records(content_type: str, body: bytes) -> Sequence[Any]:
    kind = content_type.split(";")[0].strip().lower()
    if kind == CSV:
        return _csv_records(body)
    if kind in ("", "application/json"):
        try:
            document = json.loads(body)
        except ValueError:
            raise HTTPException(
                status.HTTP_422_UNPROCESSABLE_CONTENT, "the body is not JSON"
            ) from None
        if not isinstance(document, list):
            raise HTTPException(
                status.HTTP_422_UNPROCESSABLE_CONTENT, "the body is a JSON array of rows"
            )
        return document
    raise HTTPException(
        status.HTTP_415_UNSUPPORTED_MEDIA_TYPE, f"send application/json or {CSV}, not {kind}"
    )


def _csv_records(body: bytes) -> list[dict[str, str | None]]:
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT, f"the CSV is not UTF-8 (byte {exc.start})"
        ) from None
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader, None)
        if header is None:
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "the CSV has no header")
        names = [name.strip() for name in header]
        records = [_csv_record(index, names, cells) for index, cells in enumerate(reader)]
    except csv.Error as exc:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT, f"CSV line {reader.line_num}: {exc}"
        ) from None
    return records


def _csv_record(index: int, names: list[str], cells: list[str]) -> dict[str, str | None]:
    if len(cells) > len(names):
        raise _row_error(index, "body", f"{len(cells)} cells under {len(names)} column names")
    record: dict[str, str | None] = {}
    for name, cell in zip(names, cells, strict=False):
        if UNSTORABLE_TEXT.search(cell) is not None:
            raise _row_error(index, name, "text with NUL or a lone surrogate")
        if cell != "":
            record[name] = None if cell == CSV_NULL else cell
    return record


def _row_error(index: int, field: str, message: str) -> RequestValidationError:
    return RequestValidationError(
        [{"type": "value_error", "loc": ("body", index, field), "msg": message}]
    )
