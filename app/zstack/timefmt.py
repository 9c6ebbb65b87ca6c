"""ZStack's timestamp format.

The management node serialises ``java.sql.Timestamp`` with Gson's default US date style,
``MMM d, yyyy h:mm:ss a`` in the server's local time zone, e.g. ``Nov 14, 2017 10:20:57 PM``.
The Go SDKs match it with ``^\\w+ \\d{1,2}, \\d{4} \\d{1,2}:\\d{1,2}:\\d{1,2} (AM|PM)$``.
Month names are spelled out here so the output never depends on the process locale.
"""

from __future__ import annotations

from datetime import datetime, tzinfo
from functools import lru_cache

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def java_date(moment: datetime, zone: tzinfo | None = None) -> str:
    """Render an aware datetime as ZStack does, in ``zone`` (default: the server's local zone)."""
    return _java_date(int(moment.timestamp()), zone)


@lru_cache(maxsize=4096)
def _java_date(epoch_seconds: int, zone: tzinfo | None) -> str:
    # A busy server renders the same few seconds over and over; the zone conversion is the cost.
    local = datetime.fromtimestamp(epoch_seconds, zone)
    hour = local.hour % 12 or 12
    meridiem = "AM" if local.hour < 12 else "PM"
    return (
        f"{_MONTHS[local.month - 1]} {local.day}, {local.year} "
        f"{hour}:{local.minute:02d}:{local.second:02d} {meridiem}"
    )
