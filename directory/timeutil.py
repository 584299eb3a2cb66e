"""Time zone helpers: UTC in storage, Europe/Oslo on the wall."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

OSLO = ZoneInfo("Europe/Oslo")


def utcnow() -> datetime:
    """The current time, timezone-aware in UTC."""
    return datetime.now(UTC)


def oslo_now() -> datetime:
    """The current time, timezone-aware in Europe/Oslo."""
    return datetime.now(OSLO)


def to_oslo(value: datetime) -> datetime:
    """An aware datetime converted to Europe/Oslo; a naive one is taken as Oslo wall time."""
    if value.tzinfo is None:
        return value.replace(tzinfo=OSLO)
    return value.astimezone(OSLO)
