"""plr backtest: replay past months through the real nightly pipeline with a chosen policy, then
score its decisions against what happened next.

Replay: in a warehouse of its own (never the configured one), month by month, oldest first, the
month's snapshots are imported through the input contract and its quality gate (``imports.py``),
then the whole review runs live as the nightly DAG runs it (``stages.review``: extract as of the
date, validate, gate, reassess, breaker (approved: a backtest has nobody to ask), apply, notify).
A month's review sees only what was imported up to it: no look-ahead. Limits, freezes and cool-offs
carry from one month to the next as they would have.

Scoring, per replayed review date:
- an earlier month's decision is *bad* when the account is 60+ days past due at a later snapshot
  (up to the last month); the last month's decision when the account defaulted afterwards (the
  outcome file; for UCI, the October 2005 default);
- per action: accounts, later bad rate, share of the month's bad accounts;
- *cut at the review*: the account's limit after the review is below its limit before the replay,
  or it is frozen (a cut made in an earlier month and still in force counts: the exposure is
  withheld when the outcome comes); also *cut by the decision* (this month's action lowers);
- the share of bad accounts' exposure cut (limit before the replay minus the drawable limit after
  the review, over the limit before the replay, summed over bad accounts), and the share of good
  accounts cut;
- the AUC of the policy's risk ranking: the credit score the policy's rules read, low = risky;
- cut rates by sex and age band (customer_profiles, read here and by reports only).
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from datetime import date
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np
import pandas as pd

from post_loan_review import db, imports, stages, uci
from post_loan_review.config import LOCAL_DIR, settings
from post_loan_review.policy import LOWERING_ACTIONS, load_policy

BAD_DAYS_PAST_DUE = 60
DEFAULT_POLICY = "v4"
AGE_BANDS = ((0, 30, "under 30"), (30, 40, "30-39"), (40, 50, "40-49"), (50, 60, "50-59"), (60, 200, "60 and over"))
# the published results on the UCI data, for the September review against the October default
PUBLISHED_BASELINES = {"logistic regression": "AUC about 0.72-0.73", "gradient boosting": "AUC about 0.78",
                       "gradient boosting at 10 % of good accounts cut": "about 49 % of defaulters cut",
                       "repayment status in September alone": "AUC about 0.69"}
GOAL = {"defaulters_cut_min": 0.45, "good_cut_max": 0.10, "auc_min": 0.77}


def default_database_url() -> str:
    return f"sqlite:///{LOCAL_DIR / 'backtest' / 'warehouse.db'}"


@contextlib.contextmanager
def warehouse(url: str) -> Iterator[None]:
    """Point the pipeline at the backtest's own warehouse for the block; never the configured one."""
    if url == settings().database_url and not os.environ.get("PLR_BACKTEST_ALLOW_WAREHOUSE"):
        raise ValueError(f"the backtest rebuilds its warehouse and must not use PLR_DATABASE_URL ({url}); "
                         "give it its own database (--database)")
    before = os.environ.get("PLR_DATABASE_URL")
    os.environ["PLR_DATABASE_URL"] = url
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("PLR_DATABASE_URL", None)
        else:
            os.environ["PLR_DATABASE_URL"] = before


def replay_uci(raw: pd.DataFrame, policy_version: str, database_url: str, months: range = range(6),
               shard_count: int = 1, progress: Callable[[str], Any] = lambda _: None) -> dict[str, Any]:
    """Rebuild the backtest warehouse and replay the UCI months in order; timings per month."""
    load_policy(policy_version)  # a broken policy stops before anything is rebuilt
    seconds: dict[str, float] = {}
    with warehouse(database_url):
        with db.engine().begin() as conn:
            db.rebuild(conn)
        for month in months:
            review_date = uci.MONTH_ENDS[month]
            started = time.perf_counter()
            tables = uci.deliveries(raw, month)
            if month != months[0]:
                tables.pop("customer_profiles")  # the same every month: loaded once
            imports.import_deliveries([imports.delivery_from_frame(t, f, f"uci:{review_date}/{t}")
                                       for t, f in tables.items()], review_date)
            imported = time.perf_counter()
            stages.review(review_date, policy_version=policy_version, approved=True, shard_count=shard_count,
                          report=False)
            seconds[review_date.isoformat()] = round(time.perf_counter() - started, 2)
            progress(f"{review_date}: imported in {imported - started:.1f} s, reviewed in "
                     f"{time.perf_counter() - imported:.1f} s")
    return {"policy": policy_version, "months": [uci.MONTH_ENDS[m].isoformat() for m in months],
            "seconds_per_month": seconds}


def read_results(database_url: str) -> dict[str, pd.DataFrame]:
    """The replay's decisions, later delinquency and fairness attributes."""
    with warehouse(database_url), db.engine().connect() as conn:
        return {
            "decisions": db.read_frame(conn, "backtest/decisions", {}, date_columns=("review_date",)),
            "delinquent": db.read_frame(conn, "backtest/delinquent_months", {"bad_days": BAD_DAYS_PAST_DUE},
                                        date_columns=("snapshot_date",)),
            "profiles": db.read_frame(conn, "backtest/fairness_profiles", {}),
        }


def auc(risk: np.ndarray, bad: np.ndarray) -> float | None:
    """Area under the ROC curve of ``risk`` (higher = riskier) for ``bad``: the chance a bad account
    ranks above a good one, ties counting half (Mann-Whitney with average ranks)."""
    risk, bad = np.asarray(risk, dtype=float), np.asarray(bad, dtype=bool)
    n_bad, n_good = int(bad.sum()), int((~bad).sum())
    if n_bad == 0 or n_good == 0:
        return None
    ranks = pd.Series(risk).rank(method="average").to_numpy()
    return float((ranks[bad].sum() - n_bad * (n_bad + 1) / 2) / (n_bad * n_good))


def _share(numerator: float, denominator: float) -> float | None:
    return None if denominator == 0 else float(numerator) / float(denominator)


def label_decisions(decisions: pd.DataFrame, delinquent: pd.DataFrame, outcomes: pd.DataFrame | None) -> pd.DataFrame:
    """Each decision with its later outcome (``bad``), whether it lowered, and the cut in force."""
    frame = decisions.copy()
    frame["review_date"] = pd.to_datetime(frame["review_date"])
    last = frame["review_date"].max()
    first_limit = (frame.sort_values("review_date").groupby("account_id")
                   .agg(limit_before=("old_limit_fen", "first"), status_before=("old_status", "first")))
    frame = frame.join(first_limit, on="account_id")
    exposure_before = np.where(frame["status_before"] == "frozen", 0, frame["limit_before"].astype("int64"))
    drawable_after = np.where(frame["new_status"] == "frozen", 0, frame["new_limit_fen"].astype("int64"))
    frame["exposure_before_fen"] = exposure_before
    frame["exposure_cut_fen"] = np.maximum(exposure_before - drawable_after, 0)
    frame["lowered"] = frame["action"].isin(LOWERING_ACTIONS)
    frame["cut_in_force"] = frame["exposure_cut_fen"] > 0
    # bad: 60+ days past due at a later snapshot; the last date: the outcome after the window
    later = delinquent.assign(snapshot_date=pd.to_datetime(delinquent["snapshot_date"]))
    pairs = frame[["account_id", "review_date"]].merge(later, on="account_id")
    bad_later = pairs[pairs["snapshot_date"] > pairs["review_date"]][["account_id", "review_date"]].drop_duplicates()
    frame = frame.merge(bad_later.assign(bad_later=True), on=["account_id", "review_date"], how="left")
    frame["bad"] = frame["bad_later"].fillna(False).astype(bool)
    is_last = frame["review_date"] == last
    if outcomes is not None:
        defaulted = frame.loc[is_last, "account_id"].map(outcomes.set_index("account_id")["defaulted"])
        frame.loc[is_last, "bad"] = defaulted.fillna(False).astype(bool).to_numpy()
    else:
        frame.loc[is_last, "bad"] = False
    frame["outcome"] = np.where(is_last, "default after the window" if outcomes is not None else "none",
                                f"{BAD_DAYS_PAST_DUE}+ days past due later")
    return frame.drop(columns="bad_later")


def _by_action(month: pd.DataFrame) -> list[dict[str, Any]]:
    total_bad = int(month["bad"].sum())
    grouped = month.groupby("action").agg(accounts=("bad", "size"), bad=("bad", "sum")).reset_index()
    return [{"action": row.action, "accounts": int(row.accounts), "bad": int(row.bad),
             "bad_rate": _share(row.bad, row.accounts), "share_of_bad": _share(row.bad, total_bad)}
            for row in grouped.itertuples()]


def _cut_figures(month: pd.DataFrame) -> dict[str, Any]:
    bad, good = month["bad"], ~month["bad"]
    return {
        "accounts": len(month), "bad": int(bad.sum()), "bad_rate": _share(bad.sum(), len(month)),
        "bad_cut_share": _share((month["cut_in_force"] & bad).sum(), bad.sum()),
        "good_cut_share": _share((month["cut_in_force"] & good).sum(), good.sum()),
        "bad_lowered_share": _share((month["lowered"] & bad).sum(), bad.sum()),
        "good_lowered_share": _share((month["lowered"] & good).sum(), good.sum()),
        "bad_exposure_cut_share": _share(month.loc[bad, "exposure_cut_fen"].sum(),
                                         month.loc[bad, "exposure_before_fen"].sum()),
        "auc_score": auc(-month["score"].astype("float64").fillna(np.inf).to_numpy(), bad.to_numpy()),
        "by_action": _by_action(month),
    }


def _fairness(month: pd.DataFrame, profiles: pd.DataFrame, year: int) -> dict[str, list[dict[str, Any]]]:
    frame = month.merge(profiles, on="account_id", how="left")
    age = year - frame["birth_year"].astype("Float64")
    band = pd.Series("unknown", index=frame.index, dtype=object)
    for low, high, name in AGE_BANDS:
        band[((age >= low) & (age < high)).fillna(False).to_numpy()] = name
    frame["age_band"] = band
    frame["sex"] = frame["sex"].astype(object).where(frame["sex"].notna(), "unknown")
    out = {}
    for attribute in ("sex", "age_band"):
        grouped = frame.groupby(attribute).agg(accounts=("bad", "size"), bad=("bad", "sum"),
                                              cut=("cut_in_force", "sum"), lowered=("lowered", "sum"))
        out[attribute] = [{"group": str(name), "accounts": int(r.accounts), "bad_rate": _share(r.bad, r.accounts),
                           "cut_rate": _share(r.cut, r.accounts), "decrease_rate": _share(r.lowered, r.accounts)}
                          for name, r in grouped.iterrows()]
    return out


def score(decisions: pd.DataFrame, delinquent: pd.DataFrame, outcomes: pd.DataFrame | None,
          profiles: pd.DataFrame | None = None, tuning_months: int = 4) -> dict[str, Any]:
    """The backtest's figures: per review date, and the last date against the outcome file. The
    first ``tuning_months`` dates are the tuning window (scored by later delinquency only)."""
    labelled = label_decisions(decisions, delinquent, outcomes)
    dates = sorted(labelled["review_date"].unique())
    per_month = {pd.Timestamp(d).date().isoformat(): _cut_figures(labelled[labelled["review_date"] == d])
                 for d in dates}
    last = pd.Timestamp(dates[-1])
    final = labelled[labelled["review_date"] == last]
    window = [pd.Timestamp(d).date().isoformat() for d in dates[:tuning_months] if pd.Timestamp(d) < last]
    summary = {
        "review_dates": list(per_month),
        "tuning_window": window,
        "per_month": per_month,
        "final_review": {"review_date": last.date().isoformat(), **per_month[last.date().isoformat()]},
        "published_baselines": PUBLISHED_BASELINES,
        "goal": GOAL,
    }
    if profiles is not None:
        summary["fairness"] = _fairness(final, profiles, last.year)
    if outcomes is not None:
        f = summary["final_review"]
        summary["goal_met"] = {
            "defaulters_cut": (f["bad_cut_share"] or 0) >= GOAL["defaulters_cut_min"],
            "good_cut": (f["good_cut_share"] or 0) <= GOAL["good_cut_max"],
            "auc": (f["auc_score"] or 0) >= GOAL["auc_min"],
        }
    return summary


def run_uci(policy_version: str = DEFAULT_POLICY, sample: int | None = None, database_url: str | None = None,
            out_dir: str | Path | None = None, source: str | Path = uci.DEFAULT_PATH, shard_count: int = 1,
            months: int = 6, progress: Callable[[str], Any] = lambda _: None) -> dict[str, Any]:
    """``plr backtest``: replay the UCI months with a policy, score, write the report and JSON."""
    started = time.perf_counter()
    raw = uci.read_uci(source, nrows=sample)
    database_url = database_url or default_database_url()
    replay = replay_uci(raw, policy_version, database_url, range(months), shard_count, progress)
    replay["database_url"] = database_url
    return score_replay(replay, sample, out_dir, source, started, raw)


def score_replay(replay: dict[str, Any], sample: int | None = None, out_dir: str | Path | None = None,
                 source: str | Path = uci.DEFAULT_PATH, started: float | None = None,
                 raw: pd.DataFrame | None = None) -> dict[str, Any]:
    """Score a finished replay (``replay_uci``'s answer plus its ``database_url``); write the
    report and the JSON summary. ``raw``: the UCI rows replayed, when the caller has them."""
    from post_loan_review import backtest_report

    started = started if started is not None else time.perf_counter()
    raw = raw if raw is not None else uci.read_uci(source, nrows=sample)
    policy_version = replay["policy"]
    results = read_results(replay["database_url"])
    # the October default scores the September review only; a shorter replay has no outcome file
    outcomes = uci.outcomes(raw) if len(replay["months"]) == len(uci.MONTH_ENDS) else None
    summary = score(results["decisions"], results["delinquent"], outcomes, results["profiles"])
    summary.update({
        "policy": policy_version, "accounts": len(raw), "source": str(source),
        "sample": sample, "replay": replay, "wall_seconds": round(time.perf_counter() - started, 1),
        "data_attribution": ("UCI Machine Learning Repository, default of credit card clients (dataset 350), "
                             "doi:10.24432/C55S3H, CC BY 4.0; Yeh, I-C. & Lien, C-H. (2009), Expert Systems "
                             "with Applications 36(2), 2473-2480, doi:10.1016/j.eswa.2007.12.020"),
        "money_unit": "fen columns hold NT$ x 100 for this dataset",
        "generated_on": date.today().isoformat(),
    })
    out_dir = Path(out_dir or settings().report_dir / "backtest" / policy_version)
    summary["report_path"] = str(backtest_report.write(summary, out_dir))
    summary["summary_path"] = str(out_dir / "summary.json")
    (out_dir / "summary.json").write_text(json.dumps(summary, indent=2, default=str), encoding="utf-8")
    return summary
