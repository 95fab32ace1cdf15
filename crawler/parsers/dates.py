"""Dates as the site writes them, to aware datetimes in America/Santiago.

Cheap exact parsers run first (ISO 8601, RFC 822, "21 de noviembre de 2025", "03/03/2015");
dateparser only sees what they cannot read.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

from crawler import site

SANTIAGO = ZoneInfo(site.TIMEZONE)

MONTHS = {
    "enero": 1,
    "febrero": 2,
    "marzo": 3,
    "abril": 4,
    "mayo": 5,
    "junio": 6,
    "julio": 7,
    "agosto": 8,
    "septiembre": 9,
    "setiembre": 9,
    "octubre": 10,
    "noviembre": 11,
    "diciembre": 12,
}
_SPANISH = re.compile(
    r"(?P<day>\d{1,2})\s+de\s+(?P<month>[a-záéíóú]+)\s+(?:de\s+|del\s+)?(?P<year>\d{4})"
    r"(?:\D{0,12}?(?P<hour>\d{1,2}):(?P<minute>\d{2}))?",
    re.IGNORECASE,
)
_NUMERIC = re.compile(
    r"(?P<day>\d{1,2})/(?P<month>\d{1,2})/(?P<year>\d{4})"
    r"(?:\D{0,12}?(?P<hour>\d{1,2}):(?P<minute>\d{2}))?"
)


def in_santiago(moment: datetime) -> datetime:
    """An aware datetime in Santiago time; a naive one is taken to be Santiago wall time.

    Going through UTC gives every instant its real offset: a wall time that does not exist
    (midnight on the night the clocks go forward in September) moves to the hour that does.
    """
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=SANTIAGO)
    return moment.astimezone(timezone.utc).astimezone(SANTIAGO)


def parse_machine_date(value: str) -> datetime | None:
    """ISO 8601 (JSON-LD, meta, time[datetime], REST) or RFC 822 (feeds)."""
    value = value.strip()
    if not value:
        return None
    try:
        return in_santiago(datetime.fromisoformat(value.replace("Z", "+00:00")))
    except ValueError:
        pass
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if moment.tzinfo is None:  # RFC 5322's "-0000": UTC, the sender's own zone unknown
        moment = moment.replace(tzinfo=timezone.utc)
    return in_santiago(moment)


def _from_match(match: re.Match, month: int) -> datetime | None:
    try:
        return datetime(
            int(match["year"]),
            month,
            int(match["day"]),
            int(match["hour"] or 0),
            int(match["minute"] or 0),
            tzinfo=SANTIAGO,
        )
    except ValueError:
        return None


def parse_text_date(text: str, now: datetime | None = None) -> datetime | None:
    """Visible Spanish dates: '21 de noviembre de 2025', 'martes 3 de marzo de 2015, 10:30',
    '03/03/2015', 'hace 3 horas' (relative to now, the fetch time)."""
    text = " ".join(text.split())
    if not text:
        return None
    match = _SPANISH.search(text)
    if match and match["month"].lower() in MONTHS:
        return _from_match(match, MONTHS[match["month"].lower()])
    match = _NUMERIC.search(text)
    if match:
        return _from_match(match, int(match["month"]))
    return _dateparser(text, now)


# dateparser makes a date of almost anything ("5", "Lunes", "10:30"): it only sees text with a
# year, a month's name or a relative expression in it.
_DATE_WORTHY = re.compile(
    r"\b(?:1[89]|20)\d\d\b|\bhace\s+\d|\bhace\s+(?:un|una)\b|\bayer\b|\bhoy\b|\bago\b|"
    r"\byesterday\b|\btoday\b|\b(?:" + "|".join(sorted(MONTHS)) + r"|ene|feb|mar|abr|may|jun|"
    r"jul|ago|sep|sept|oct|nov|dic|january|february|march|april|june|july|august|september|"
    r"october|november|december|jan|aug|dec)\b",
    re.IGNORECASE,
)


def _dateparser(text: str, now: datetime | None) -> datetime | None:
    if not _DATE_WORTHY.search(text):
        return None
    if now is None:
        return _dateparser_cached(text, None)
    # relative dates depend on now; round it so repeated calls can share the cache
    return _dateparser_cached(text, in_santiago(now).replace(microsecond=0))


@lru_cache(maxsize=4096)
def _dateparser_cached(text: str, now: datetime | None) -> datetime | None:
    import dateparser  # slow to import and to run: only for text the cheap parsers cannot read

    settings = {
        "TIMEZONE": site.TIMEZONE,
        "RETURN_AS_TIMEZONE_AWARE": True,
        "PREFER_DATES_FROM": "past",
        "DATE_ORDER": "DMY",
    }
    if now is not None:
        settings["RELATIVE_BASE"] = now.replace(tzinfo=None)
    parsed = dateparser.parse(text, languages=["es", "en"], settings=settings)
    return in_santiago(parsed) if parsed else None


_ISO_DAY = re.compile(r"^\s*\d{4}-\d{2}-\d{2}\s*$")
_CLOCK = re.compile(
    r"\d{1,2}:\d{2}|\bhace\s+(?:\d+|un|una)\s+(?:hora|minuto|segundo)", re.IGNORECASE
)


def precision(value: str | datetime) -> str:
    """'datetime' when the source gave a time of day, 'day' when it gave only a date (whose
    datetime then stands at midnight, or 01:00 the night the clocks skip midnight)."""
    if isinstance(value, datetime):
        return "datetime"
    if _ISO_DAY.match(value):
        return "day"
    for pattern in (_SPANISH, _NUMERIC):
        match = pattern.search(" ".join(value.split()))
        if match and (pattern is _NUMERIC or match["month"].lower() in MONTHS):
            return "datetime" if match["hour"] else "day"
    if "T" in value or _CLOCK.search(value) or parsedate_to_datetime_safe(value):
        return "datetime"
    return "day"


def parsedate_to_datetime_safe(value: str) -> bool:
    """Whether value is an RFC 822 date with a time (feeds always give one)."""
    try:
        return parsedate_to_datetime(value.strip()) is not None and ":" in value
    except (TypeError, ValueError, IndexError):
        return False


def iso(moment: datetime) -> str:
    """ISO 8601 with the offset, seconds precision: 2025-11-21T09:30:00-03:00."""
    return in_santiago(moment).replace(microsecond=0).isoformat()


def url_month_day(path_match: re.Match | None) -> tuple[int, int] | None:
    if not path_match:
        return None
    return int(path_match.group(1)), int(path_match.group(2))


def agrees_with_url(moment: datetime, month_day: tuple[int, int] | None) -> bool:
    """The URL's /MM/DD/ is the Santiago calendar day of publication."""
    if month_day is None:
        return True
    local = in_santiago(moment)
    return (local.month, local.day) == month_day
