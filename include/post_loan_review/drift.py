"""Score drift: the distribution of credit scores in 50-point bins and the population stability
index (PSI) between two dates. Read by the portfolio breaker and by the report."""

from __future__ import annotations

from datetime import date
from typing import Any, Iterable

import numpy as np
import pandas as pd
from sqlalchemy import Connection

from post_loan_review import db

# score distribution and drift (PSI)
SCORE_MIN, SCORE_MAX, SCORE_BIN_WIDTH = 350, 950, 50
SCORE_BIN_EDGES = np.arange(SCORE_MIN, SCORE_MAX + 1, SCORE_BIN_WIDTH)  # 12 bins, the last one closed
PSI_EPSILON = 1e-6  # the share given to an empty bin, so the logarithm stays finite
PSI_WATCH, PSI_SHIFTED = 0.10, 0.25  # below WATCH: stable; up to SHIFTED: watch; above: shifted


def _as_float_array(values: Iterable[Any]) -> np.ndarray:
    """Numbers as a float array, missing values (None, NA, NaN) as NaN."""
    if not isinstance(values, (pd.Series, np.ndarray, list, tuple)):
        values = list(values)
    series = values if isinstance(values, pd.Series) else pd.Series(values, dtype=object)
    return pd.to_numeric(series, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)


def score_histogram(scores: Iterable[float], weights: Iterable[float] | None = None) -> np.ndarray:
    """Accounts per 50-point score bin from 350 to 950 (the last bin includes 950); scores outside
    the range and missing scores are left out. ``weights`` counts each score that many times."""
    values = _as_float_array(scores)
    counts = np.ones_like(values) if weights is None else _as_float_array(weights)
    keep = (values >= SCORE_MIN) & (values <= SCORE_MAX)
    histogram, _ = np.histogram(values[keep], bins=SCORE_BIN_EDGES, weights=counts[keep])
    return np.rint(histogram).astype("int64")


def psi_from_counts(expected_counts: Iterable[float], actual_counts: Iterable[float]) -> float | None:
    """Population stability index of two histograms over the same bins:
    sum((actual% - expected%) * ln(actual% / expected%)), an empty bin counted as PSI_EPSILON.
    None when either side has no accounts."""
    expected = np.asarray(list(expected_counts), dtype="float64")
    actual = np.asarray(list(actual_counts), dtype="float64")
    if expected.shape != actual.shape:
        raise ValueError(f"histograms differ in bins: {expected.shape} and {actual.shape}")
    if expected.sum() <= 0 or actual.sum() <= 0:
        return None
    expected_share = expected / expected.sum()
    actual_share = actual / actual.sum()
    expected_share = np.where(expected_share == 0, PSI_EPSILON, expected_share)
    actual_share = np.where(actual_share == 0, PSI_EPSILON, actual_share)
    return float(np.sum((actual_share - expected_share) * np.log(actual_share / expected_share)))


def population_stability_index(expected_scores: Iterable[float], actual_scores: Iterable[float]) -> float | None:
    """PSI of ``actual_scores`` (the review date's) against ``expected_scores`` (the baseline's),
    over 50-point bins from 350 to 950; only scores within 350..950 count. None when either side
    has no score in range."""
    return psi_from_counts(score_histogram(expected_scores), score_histogram(actual_scores))


def psi_band(psi: float | None) -> str | None:
    """'stable' below 0.1, 'watch' from 0.1 to 0.25, 'shifted' above 0.25; None without a PSI."""
    if psi is None:
        return None
    if psi < PSI_WATCH:
        return "stable"
    return "watch" if psi <= PSI_SHIFTED else "shifted"


def score_counts(conn: Connection, snapshot_date: date) -> np.ndarray:
    frame = db.read_frame(conn, "report/score_distribution", {"snapshot_date": snapshot_date})
    return score_histogram(frame["score"], frame["accounts"])
