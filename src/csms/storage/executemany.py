"""The writer's executemany of plain rows (the message log, meter values, status history,
outbox events, touches), compiled once and run through the driver: SQLAlchemy's own
executemany builds and converts every row's parameters anew (docs/architecture.md, "The message
path"), which cost more than the database's work for these statements.

A statement is compiled once per dialect and set of row keys, with its parameters in order and
each type's own bind conversion (`TypeEngine.bind_processor`); each row then becomes a tuple.
Statements that need more than that (Python-side column defaults, expanding IN parameters) and
rows whose keys differ from the first's go through SQLAlchemy as before.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql import ClauseElement, Executable
from sqlalchemy.sql.compiler import SQLCompiler

# Compiled statements kept at most (they are the store's few constant statements).
_LIMIT = 1000


@dataclass(frozen=True, slots=True)
class _Plan:
    sql: str
    names: tuple[str, ...]
    processors: tuple[Callable[[Any], Any] | None, ...]


_PLANS: dict[tuple[Executable, str, tuple[str, ...]], _Plan | None] = {}


async def executemany(
    connection: AsyncConnection, statement: Executable, rows: Sequence[Mapping[str, Any]]
) -> None:
    """`connection.execute(statement, rows)`, the same rows written, for less CPU."""
    plan = _plan(statement, connection.dialect, tuple(rows[0]))
    if plan is not None:
        try:
            parameters = [_parameters(plan, row) for row in rows]
        except Exception:  # a row without a key of the first, a value refused: SQLAlchemy
            plan = None  # says which, with the exception it always raised
    if plan is None:
        await connection.execute(statement, list(rows))
        return
    await connection.exec_driver_sql(plan.sql, parameters)


def _parameters(plan: _Plan, row: Mapping[str, Any]) -> tuple[Any, ...]:
    return tuple(
        value if processor is None or value is None else processor(value)
        for value, processor in zip(
            (row[name] for name in plan.names), plan.processors, strict=True
        )
    )


def _plan(statement: Executable, dialect: Dialect, keys: tuple[str, ...]) -> _Plan | None:
    key = (statement, dialect.name, keys)
    try:
        return _PLANS[key]
    except KeyError:
        pass
    plan: _Plan | None = None
    compiled = (
        statement.compile(dialect=dialect, column_keys=list(keys), for_executemany=True)
        if isinstance(statement, ClauseElement)
        else None
    )
    if (
        isinstance(compiled, SQLCompiler)
        and compiled.positional
        and compiled.positiontup is not None
        and not compiled.insert_prefetch
        and not compiled.update_prefetch
        and not compiled.literal_execute_params
        and not compiled.post_compile_params
        and all(name in keys for name in compiled.positiontup)
    ):
        names = tuple(compiled.positiontup)
        plan = _Plan(
            sql=compiled.string,
            names=names,
            processors=tuple(compiled.binds[name].type.bind_processor(dialect) for name in names),
        )
    if len(_PLANS) >= _LIMIT:
        _PLANS.clear()
    _PLANS[key] = plan
    return plan
