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


@dataclass(frozen=True)
class Slice:
    section: str | None = None
    date_from: str | None = None  # YYYY, YYYY-MM or YYYY-MM-DD, inclusive
    date_to: str | None = None  # YYYY, YYYY-MM or YYYY-MM-DD, inclusive

    def __post_init__(self) -> None:
        for label, value in (("--from", self.date_from), ("--to", self.date_to)):
            if value is None:
                continue
            if not _DATE.match(value) or not _real_date(value):
                raise FilterError(f"{label} {value!r}: use a real date as YYYY, YYYY-MM or "
                                  "YYYY-MM-DD")

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
