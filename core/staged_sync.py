"""The staged set-based sync shared by the partner lists (the seriously-dishonest list,
the honour lists, the enterprise credit grades).

A list of any length is streamed into a temporary staging table (COPY, in batches, so
memory stays bounded) and applied with a few set-based statements, all in one
transaction: a list whose end does not authenticate changes nothing. The staging table
is created ``ON COMMIT DROP`` inside that transaction, so nothing outlives it: behind
PgBouncer in transaction pooling the server session is shared and outlives us, and a
table (or a ``SET``) left in it would meet the next client. ``work_mem`` is raised with
``SET LOCAL`` for the same reason.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction

_NAME = re.compile(r"^[a-z_][a-z0-9_]*$")


@dataclass(frozen=True)
class Staging:
    """An open staging table: ``cursor`` runs the set-based statements that read it."""

    cursor: Any
    table: str
    columns: tuple[str, ...]

    def load(self, rows: Iterable[Sequence[Any]], *, batch_size: int) -> int:
        """COPY ``rows`` in, one COPY per ``batch_size`` rows, then ANALYZE (so the
        planner hash-joins over the staged rows); return how many rows were staged."""
        staged = 0
        batch: list[Sequence[Any]] = []
        for row in rows:
            batch.append(row)
            if len(batch) >= batch_size:
                staged += self._copy(batch)
                batch = []
        if batch:
            staged += self._copy(batch)
        self.cursor.execute(f"ANALYZE {self.table}")
        return staged

    def _copy(self, rows: list[Sequence[Any]]) -> int:
        statement = f"COPY {self.table} ({', '.join(self.columns)}) FROM STDIN"
        with self.cursor.copy(statement) as copy:
            for row in rows:
                copy.write_row(row)
        return len(rows)


@contextmanager
def staging_table(
    table: str, columns: dict[str, str], *, work_mem: str | None = None
) -> Iterator[Staging]:
    """One transaction (``transaction.atomic``) holding a temporary ``table`` with
    ``columns`` (name -> SQL type), created ``ON COMMIT DROP``; ``work_mem`` (e.g.
    ``"128MB"``) for this transaction only. Staging the same table again in the same
    transaction starts from an empty one."""
    for name in (table, *columns):
        if not _NAME.match(name):
            raise ValueError(f"not a plain SQL name: {name!r}")
    definition = ", ".join(f"{name} {kind}" for name, kind in columns.items())
    with transaction.atomic(), connection.cursor() as cursor:
        if work_mem:
            cursor.execute("SELECT set_config('work_mem', %s, true)", [work_mem])
        cursor.execute(f"DROP TABLE IF EXISTS pg_temp.{table}")  # never a real table
        cursor.execute(f"CREATE TEMPORARY TABLE {table} ({definition}) ON COMMIT DROP")
        yield Staging(cursor, table, tuple(columns))
