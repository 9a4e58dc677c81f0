"""How often a system is expected to sync: the longest gap between two runs of its schedule.

Presets (``@hourly``, ``@daily`` ...) have fixed periods; a cron expression's period is the longest of its
next gaps, so "weekdays at 09:00" expects a 72-hour gap over the weekend and is not called late on Monday.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from itertools import pairwise

from quancheng.errors import QuanchengError

PRESETS: dict[str, timedelta] = {
    "@hourly": timedelta(hours=1),
    "@daily": timedelta(days=1),
    "@midnight": timedelta(days=1),
    "@weekly": timedelta(weeks=1),
    "@monthly": timedelta(days=31),
    "@quarterly": timedelta(days=92),
    "@yearly": timedelta(days=366),
    "@annually": timedelta(days=366),
}
UNSCHEDULED = {"", "@once", "@continuous", "none", "None"}
GAPS_LOOKED_AT = 14  # two weeks of a daily schedule, enough to see a weekday-only pattern


def schedule_period(schedule: str, *, system_id: str = "", now: datetime) -> timedelta | None:
    """The longest expected gap between runs of ``schedule``; None when it runs only when triggered."""
    s = schedule.strip()
    if s in UNSCHEDULED:
        return None
    if s in PRESETS:
        return PRESETS[s]
    from croniter import croniter

    if not croniter.is_valid(s):
        raise QuanchengError(f"system {system_id!r}: schedule {schedule!r} is neither a preset "
                             f"({', '.join(sorted(PRESETS))}) nor a valid cron expression")
    it = croniter(s, now)
    times: list[datetime] = [it.get_next(datetime) for _ in range(GAPS_LOOKED_AT + 1)]
    gaps: list[timedelta] = [b - a for a, b in pairwise(times)]
    return max(gaps)
