"""Dates and numbers as a Chilean reader writes them: "21 de noviembre de 2025, 14:05 (hora de
Chile)", "305.000"."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

SANTIAGO = ZoneInfo("America/Santiago")
MONTHS = (
    "enero",
    "febrero",
    "marzo",
    "abril",
    "mayo",
    "junio",
    "julio",
    "agosto",
    "septiembre",
    "octubre",
    "noviembre",
    "diciembre",
)


def _moment(iso: str | None) -> datetime | None:
    if not iso:
        return None
    try:
        return datetime.fromisoformat(iso.replace("Z", "+00:00"))
    except ValueError:
        return None


def day_label(iso: str | None) -> str:
    """'2025-11-21...' -> '21 de noviembre de 2025' (the day as written, no conversion)."""
    try:
        year, month, day = (int(p) for p in (iso or "")[:10].split("-"))
        return f"{day} de {MONTHS[month - 1]} de {year}"
    except (ValueError, IndexError):
        return iso or ""


def when(iso: str | None, zone: bool = True) -> str:
    """An instant in Chile's time, the zone named: '2025-11-21T17:05:00+00:00' ->
    '21 de noviembre de 2025, 14:05 (hora de Chile)' (zone=False: without the zone, for a
    page that names it once). Text that is not a date comes back as it is; a time without an
    offset is taken as written."""
    moment = _moment(iso)
    if moment is None:
        return iso or ""
    named = ""
    if moment.tzinfo is not None:
        moment = moment.astimezone(SANTIAGO)
        named = " (hora de Chile)" if zone else ""
    return f"{moment.day} de {MONTHS[moment.month - 1]} de {moment.year}, {moment:%H:%M}{named}"


def short(iso: str | None) -> str:
    """An instant in Chile's time as a list of them writes it: '2025-11-21T17:05:00+00:00' ->
    '21-11-2025 14:05' (the zone named once, around the list)."""
    moment = _moment(iso)
    if moment is None:
        return iso or ""
    if moment.tzinfo is not None:
        moment = moment.astimezone(SANTIAGO)
    return f"{moment:%d-%m-%Y %H:%M}"


def month_label(month: str) -> str:
    """'2025-11' -> 'noviembre de 2025'."""
    year, number = month.split("-")
    return f"{MONTHS[int(number) - 1]} de {year}"


def number(value: int | None) -> str:
    """305000 -> '305.000' (Chile groups thousands with a dot)."""
    return f"{value or 0:,}".replace(",", ".")
