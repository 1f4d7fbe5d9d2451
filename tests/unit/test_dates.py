from datetime import date, datetime, timezone

import pytest

from post_loan_review.dates import parse_date, resolve_review_date

UTC = timezone.utc


def test_the_param_wins_over_the_schedule():
    assert resolve_review_date("2026-11-20", datetime(2026, 11, 27, 18, tzinfo=UTC), None) == date(2026, 11, 20)


def test_the_data_interval_end_is_read_on_the_shanghai_calendar():
    # 18:00 UTC on the 27th is 02:00 on the 28th in Shanghai: the nightly run of the 28th
    assert resolve_review_date(None, datetime(2026, 11, 27, 18, tzinfo=UTC), None) == date(2026, 11, 28)


def test_the_logical_date_is_the_last_resort():
    assert resolve_review_date("", None, datetime(2026, 11, 26, 0, tzinfo=UTC)) == date(2026, 11, 26)


def test_no_source_at_all_is_an_error():
    with pytest.raises(ValueError, match="no review date"):
        resolve_review_date(None, None, None)


def test_a_naive_timestamp_is_refused():
    with pytest.raises(ValueError, match="no time zone"):
        resolve_review_date(None, datetime(2026, 11, 26), None)


@pytest.mark.parametrize("bad", ["2026-13-01", "yesterday", "27/11/2026"])
def test_a_malformed_date_names_the_field_and_the_format(bad):
    with pytest.raises(ValueError, match="review_date must be a date written YYYY-MM-DD"):
        parse_date(bad)
