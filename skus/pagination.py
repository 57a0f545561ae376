"""Paging over tables too large for COUNT(*) and OFFSET: a keyset page for the SKU list,
and a paginator for the admin's lists over the ledger and the order tables."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.core.paginator import Paginator
from django.db import connections
from django.db.models import QuerySet
from django.utils.functional import cached_property

# Counted exactly up to here (a LIMITed count stops there); above, an estimate.
COUNT_LIMIT = 10_000


def count_up_to(queryset: QuerySet, limit: int = COUNT_LIMIT) -> int:
    """The number of rows, but never more than ``limit + 1``: the database stops reading
    once it has that many (``SELECT COUNT(*) FROM (... LIMIT n)``)."""
    return queryset.order_by()[: limit + 1].count()


def planner_estimate(queryset: QuerySet) -> int | None:
    """PostgreSQL's estimate of the rows ``queryset`` returns (EXPLAIN: statistics, not a
    scan); None on other databases."""
    connection = connections[queryset.db]
    if connection.vendor != "postgresql":
        return None
    sql, params = queryset.order_by().query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
        plan = cursor.fetchone()[0]
    if isinstance(plan, str):
        plan = json.loads(plan)
    return int(plan[0]["Plan"]["Plan Rows"])


class LargeTablePaginator(Paginator):
    """The admin's paginator for tables of millions of rows. Counts exactly up to
    ``COUNT_LIMIT`` rows, which the list's index serves in a few milliseconds; above that
    the count is PostgreSQL's estimate (never a COUNT(*) of the whole table)."""

    @cached_property
    def count(self) -> int:
        if not isinstance(self.object_list, QuerySet):
            return super().count
        counted = count_up_to(self.object_list)
        if counted <= COUNT_LIMIT:
            return counted
        return max(counted, planner_estimate(self.object_list) or 0)


@dataclass(frozen=True)
class KeysetPage:
    """One page of a list ordered by a unique key, found by the key it starts after (or
    ends before), never by OFFSET: a deep page costs what the first one does."""

    rows: Sequence[Any]
    has_next: bool
    has_previous: bool
    next_key: str | None
    previous_key: str | None

    def __iter__(self) -> Any:
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows)

    @property
    def has_other_pages(self) -> bool:
        return self.has_next or self.has_previous


def keyset_page(
    queryset: QuerySet,
    *,
    key: str,
    per_page: int,
    after: str | None = None,
    before: str | None = None,
) -> KeysetPage:
    """The ``per_page`` rows of ``queryset`` (ascending by the unique field ``key``) that
    come right after ``after``, or right before ``before``, or the first ones.

    One query of ``per_page + 1`` rows; the extra row says whether there is more in the
    direction read. The other direction is known from the request: a page read after a
    key has rows before it (the key's own row), and one read before a key has rows after."""
    if before:
        found = list(queryset.filter(**{f"{key}__lt": before}).order_by(f"-{key}")[: per_page + 1])
        rows = found[:per_page][::-1]
        has_previous, has_next = len(found) > per_page, True
    else:
        rows = queryset.order_by(key)
        if after:
            rows = rows.filter(**{f"{key}__gt": after})
        found = list(rows[: per_page + 1])
        rows = found[:per_page]
        has_previous, has_next = bool(after), len(found) > per_page
    return KeysetPage(
        rows=rows,
        has_next=has_next and bool(rows),
        has_previous=has_previous and bool(rows),
        next_key=getattr(rows[-1], key) if rows and has_next else None,
        previous_key=getattr(rows[0], key) if rows and has_previous else None,
    )
