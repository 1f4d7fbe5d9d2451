"""Re-runs change nothing: a review date run once or three times (a retry, a clear, a backfill over
it) leaves the output tables and the report files identical, compared by checksum."""

from __future__ import annotations

import hashlib
from pathlib import Path

from checks import checksums
from conftest import FIRST_DATE, SECOND_DATE, load_portfolio

from post_loan_review import stages


def file_checksums(summary: dict) -> dict[str, str]:
    return {key: hashlib.sha256(Path(summary[key]).read_bytes()).hexdigest()
            for key in ("report_path", "decisions_path", "summary_path")}


def test_three_runs_of_a_date_equal_one(any_warehouse):
    load_portfolio(any_warehouse, accounts=2000)
    stages.review(FIRST_DATE)
    first = stages.review(SECOND_DATE)
    tables, files = checksums(any_warehouse), file_checksums(first)
    for _ in range(2):  # a retry, then a backfill over the same date
        again = stages.review(SECOND_DATE)
        assert checksums(any_warehouse) == tables
        assert file_checksums(again) == files
    stages.review(FIRST_DATE)  # a backfill of the night before changes nothing either
    assert checksums(any_warehouse) == tables
