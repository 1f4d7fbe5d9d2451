"""The one review date of a run, resolved once: the ``review_date`` param, else the run's data
interval end, else its logical date, read as a date on the lender's business calendar."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from post_loan_review.config import BUSINESS_TIMEZONE


def parse_date(value: str | date, what: str = "review_date") -> date:
    """A ``YYYY-MM-DD`` string or a date; a clear error for anything else."""
    if isinstance(value, datetime):
        raise ValueError(f"{what} must be a date, not a datetime: {value!r}")
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        raise ValueError(f"{what} must be a date written YYYY-MM-DD, not {value!r}") from None


def resolve_review_date(param: str | date | None, data_interval_end: datetime | None,
                        logical_date: datetime | None) -> date:
    """The review date of a run. Timestamps are read in the business time zone, so the
    02:00 Asia/Shanghai run of 28 November reviews the snapshots dated 28 November."""
    if param not in (None, ""):
        return parse_date(param)
    for moment in (data_interval_end, logical_date):
        if moment is not None:
            if moment.tzinfo is None:
                raise ValueError(f"timestamp {moment!r} has no time zone; cannot place it on a calendar")
            return moment.astimezone(ZoneInfo(BUSINESS_TIMEZONE)).date()
    raise ValueError("no review date: no review_date param, no data interval and no logical date")
