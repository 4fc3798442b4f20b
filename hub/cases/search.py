"""Case text search: character bigrams in a GIN index on PostgreSQL (migration 0004), LIKE on SQLite."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, String, and_, cast, column, literal, or_, select, table
from sqlalchemy.dialects.postgresql import TSQUERY
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.selectable import Subquery
from sqlalchemy.sql.visitors import InternalTraversal
from sqlalchemy.types import Boolean

from hub.cases.models import Case

MAX_TERMS = 5

# Maintained by a trigger on hub_case; in its own schema so no model (and no Alembic comparison) sees it.
_case_doc = table("case_doc", column("case_id"), column("doc"), schema="hub_search")


def _lexeme(text: str) -> str:
    """One tsquery operand, quoted so no character (quote, backslash, colon, &) is read as syntax."""
    return "'" + text.replace("\\", "\\\\").replace("'", "''") + "'"


def bigram_query(terms: list[str]) -> str:
    """The tsquery text: every bigram of every term AND-ed; a 1-character term is a prefix match."""
    parts: list[str] = []
    for term in terms:
        if len(term) == 1:
            parts.append(_lexeme(term) + ":*")
        else:
            parts.extend(_lexeme(term[i : i + 2]) for i in range(len(term) - 1))
    return " & ".join(dict.fromkeys(parts))


def _like(term: str) -> ColumnElement[bool]:
    pattern = "%" + term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    return or_(Case.title.like(pattern, escape="\\"), Case.content.like(pattern, escape="\\"))


class TextMatch(ColumnElement[bool]):
    """Cases whose title or content contains every term; renders per dialect, caches like any clause."""

    type = Boolean()
    inherit_cache = True
    _is_implicitly_boolean = True  # a predicate already: no "= 1" appended on SQLite
    _traverse_internals = [  # noqa: RUF012  (SQLAlchemy's own attribute, a list by its declaration)
        ("indexed", InternalTraversal.dp_clauseelement),
        ("plain", InternalTraversal.dp_clauseelement),
    ]

    def __init__(self, terms: list[str], *, per_row: bool = False) -> None:
        self.plain = and_(*(_like(t) for t in terms))
        matches = _matches(terms)
        checks = rechecks(terms)
        if per_row:
            # Tested case by case as an ordered index walk reaches it (a correlated subquery is never turned into
            # a join): for a common term the first page is a few hundred probes, not a bitmap of every match.
            own_doc = select(matches).where(_case_doc.c.case_id == Case.id).scalar_subquery()
            self.indexed = and_(*checks, own_doc)
        else:
            self.indexed = and_(Case.id.in_(select(_case_doc.c.case_id).where(matches)), *checks)


def _matches(terms: list[str]) -> ColumnElement[bool]:
    return _case_doc.c.doc.op("@@")(cast(literal(bigram_query(terms), String), TSQUERY))


def rechecks(terms: list[str]) -> list[ColumnElement[bool]]:
    """The bigrams of 1- and 2-character terms match exactly; longer terms need their pieces in order."""
    return [_like(t) for t in terms if len(t) > 2]


def search_terms(search: str) -> list[str]:
    """The whitespace-separated terms of a search string (at most five)."""
    return search.split()[:MAX_TERMS]


async def candidate_ids(session: AsyncSession, *, terms: list[str], limit: int) -> list[int]:
    """Up to ``limit`` ids of cases whose document has every bigram of the terms (PostgreSQL); fewer than ``limit``
    means all of them: the matches themselves for terms of up to two characters, else a superset (see rechecks)."""
    stmt = select(_case_doc.c.case_id).where(_matches(terms)).limit(limit)
    return list((await session.execute(stmt)).scalars())


def matching_documents(terms: list[str]) -> Subquery:
    """The ids of cases whose document has every bigram, to join on under a LIMIT (PostgreSQL).

    OFFSET 0 keeps the planner from walking both primary keys in step (a merge join testing every document from
    the oldest) and a join, unlike IN, needs no de-duplication of every match before the first row comes out.
    """
    return select(_case_doc.c.case_id).where(_matches(terms)).offset(0).subquery()


@compiles(TextMatch)
def _plain(element: TextMatch, compiler: SQLCompiler, **kw: Any) -> str:
    return "(" + compiler.process(element.plain, **kw) + ")"


@compiles(TextMatch, "postgresql")
def _indexed(element: TextMatch, compiler: SQLCompiler, **kw: Any) -> str:
    return "(" + compiler.process(element.indexed, **kw) + ")"


def text_match(search: str, *, per_row: bool = False) -> ColumnElement[bool] | None:
    """The condition for a search string (up to five whitespace-separated terms), or None when it is blank.

    ``per_row`` tests each case on its own (for walking an index in order when many cases match); otherwise the
    index finds every match at once (for counting, and for terms that match few cases).
    """
    terms = search_terms(search)
    return TextMatch(terms, per_row=per_row) if terms else None
