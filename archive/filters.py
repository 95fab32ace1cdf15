"""The slice of the archive a reader asks for: section and date bounds, shared by search and
export."""

from __future__ import annotations

import re
from dataclasses import dataclass

from archive.schema import slugify

_DATE = re.compile(r"^\d{4}(-\d{2}(-\d{2})?)?$")


class FilterError(ValueError):
    """A filter the archive cannot apply; the message is meant for the user."""


@dataclass(frozen=True)
class Slice:
    section: str | None = None
    date_from: str | None = None  # YYYY, YYYY-MM or YYYY-MM-DD, inclusive
    date_to: str | None = None  # YYYY, YYYY-MM or YYYY-MM-DD, inclusive

    def __post_init__(self) -> None:
        for label, value in (("--from", self.date_from), ("--to", self.date_to)):
            if value is not None and not _DATE.match(value):
                raise FilterError(f"{label} {value!r}: use YYYY, YYYY-MM or YYYY-MM-DD")

    def where(self, alias: str = "articles") -> tuple[list[str], list]:
        """SQL conditions and their parameters, on the article table named alias."""
        clauses: list[str] = []
        params: list = []
        if self.section:
            clauses.append(f"({alias}.section_slug = ? or lower({alias}.section) = lower(?))")
            params += [slugify(self.section), self.section]
        if self.date_from:
            clauses.append(f"{alias}.published_date >= ?")
            params.append(self.date_from)
        if self.date_to:
            # a prefix bound: "2025" or "2025-11" includes every day it covers
            clauses.append(f"{alias}.published_date <= ?")
            params.append(self.date_to + "\uffff")
        return clauses, params
