"""The slice of the archive a reader asks for: section and date bounds, shared by search and
export."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from archive.model import slugify

_DATE = re.compile(r"^\d{4}(-\d{2}(-\d{2})?)?$")


class FilterError(ValueError):
    """A filter the archive cannot apply; the message is meant for the user."""


def _real_date(value: str) -> bool:
    """2025, 2025-11 and 2025-11-30 are; 2025-13 and 2025-02-30 are not."""
    parts = [int(p) for p in value.split("-")] + [1, 1]
    try:
        date(parts[0], parts[1], parts[2])
    except ValueError:
        return False
    return True


def first_day(value: str) -> date:
    """The first day a YYYY, YYYY-MM or YYYY-MM-DD covers."""
    parts = [int(p) for p in value.split("-")]
    return date(parts[0], *(parts[1:] + [1, 1])[:2])


def last_day(value: str) -> date:
    """The last day a YYYY, YYYY-MM or YYYY-MM-DD covers."""
    parts = [int(p) for p in value.split("-")]
    if len(parts) == 1:
        return date(parts[0], 12, 31)
    if len(parts) == 2:
        following = date(parts[0] + parts[1] // 12, parts[1] % 12 + 1, 1)
        return date.fromordinal(following.toordinal() - 1)
    return date(*parts)


@dataclass(frozen=True)
class Slice:
    """What a reader asks for. The dates are checked here (FilterError names the option as
    the command line spells it: --since, --until); the section and the author, which need the
    archive, where they are looked up (archive.search)."""

    section: str | None = None
    date_from: str | None = None  # YYYY, YYYY-MM or YYYY-MM-DD, inclusive
    date_to: str | None = None  # YYYY, YYYY-MM or YYYY-MM-DD, inclusive
    author: str | None = None  # a credited author's name, or words of it (case, accents ignored)

    def __post_init__(self) -> None:
        for label, value in (("--since", self.date_from), ("--until", self.date_to)):
            if value is None:
                continue
            if not _DATE.match(value) or not _real_date(value):
                raise FilterError(
                    f"{label} {value!r}: use a real date as YYYY, YYYY-MM or YYYY-MM-DD"
                )
        if self.date_from and self.date_to and first_day(self.date_from) > last_day(self.date_to):
            raise FilterError(
                f"--since {self.date_from} is after --until {self.date_to}: "
                "no article can be in that range"
            )

    def where(self, alias: str = "articles") -> tuple[list[str], list]:
        """SQL conditions and their parameters, on the article table named alias."""
        clauses: list[str] = []
        params: list = []
        if self.section:  # both indexed (archive.schema.ARTICLE_INDEXES)
            clauses.append(f"({alias}.section_slug = ? or {alias}.section = ? collate nocase)")
            params += [slugify(self.section), self.section]
        if self.date_from:
            clauses.append(f"{alias}.published_date >= ?")
            params.append(self.date_from)
        if self.date_to:
            # a prefix bound: "2025" or "2025-11" includes every day it covers
            clauses.append(f"{alias}.published_date <= ?")
            params.append(self.date_to + "\uffff")
        return clauses, params

    def check_section(self, conn, table: str = "articles") -> None:
        """FilterError when the section names none of the archive's (it would select nothing,
        without a word): conn is any DB-API connection to the archive."""
        if not self.section:
            return
        clauses, params = Slice(self.section).where(table)
        if (
            conn.execute(f"select 1 from {table} where {clauses[0]} limit 1", params).fetchone()
            is None
        ):
            raise FilterError(
                f"--section {self.section!r}: no article of the archive is in a "
                "section of that name or slug (`ciudadano sections` lists them)"
            )
