"""An adapter for the public UCI "default of credit card clients" data (Taiwan, 2005; CC BY 4.0,
UCI dataset 350, doi:10.24432/C55S3H; Yeh & Lien 2009): its six months, April to September 2005,
as six monthly snapshot deliveries of the input contract (docs/input-contract.md), one per
month-end review date, plus the October default kept apart as the outcome.

No look-ahead, by construction: the delivery of month ``t`` is computed from the columns of months
``0..t`` only (the arrays are sliced before anything is derived), so changing a later month cannot
change an earlier month's delivery nor its decisions (a test changes them and compares).

Mapping (docs/input-contract.md has the full table). Money: the dataset's amounts are whole New
Taiwan dollars; the contract's ``_fen`` columns hold hundredths of the currency unit, so here they
are NT$ × 100 (the currency is NT$, not yuan).

- repayment status (-2 no consumption, -1 paid in full, 0 revolving, k = k months late) →
  ``days_past_due`` = 30 × k (0 for -2, -1, 0); overdue counts = months with k ≥ 1 in the last 3
  and 6 months available (12 = every month available); ``min_payment_only_months`` = consecutive
  revolving months (status 0) up to the month; ``on_time_full_payment_months`` = consecutive
  months of status -1 or -2 up to the month;
- the statement balance → ``statement_balance_fen`` and the account's ``outstanding_balance_fen``
  (a credit balance, a negative statement, is 0: nothing is owed); ``utilisation_ratio`` =
  balance / limit, within 0..5; the payment of the month → ``amount_paid_fen``;
  ``minimum_due_fen`` is not in the data: estimated as 5 % of the statement (the README's revolving
  accounts pay 3-5 % of it);
- the credit score: there is none in the data, so a behavioural score is derived from the account's
  own past (months ``0..t``): a logistic model of "60+ days past due within two months" fitted on
  April-July only with outcomes up to September (never the October default), mapped to 350..950
  (500 at even odds, 50 points per doubling of the odds of being good). :func:`fit_score_weights`
  re-derives :data:`SCORE_WEIGHTS`;
- SEX, EDUCATION, MARRIAGE, AGE → ``customer_profiles`` only (birth_year = 2005 - AGE; the
  undocumented EDUCATION codes 0, 5, 6 and MARRIAGE 0 become null, unknown): never an input to a
  decision, read only by fairness checks.
"""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

UCI_FILE = Path("uci_credit_card") / "default_of_credit_card_clients.csv"
_PROJECT = Path(__file__).resolve().parents[2]
# PLR_UCI_PATH, else the shared data beside the project, else the copy kept with the tests (so a
# clean checkout anywhere has it; tests/data/uci_credit_card/README.md holds its licence)
_CANDIDATES = (_PROJECT.parent / "shared" / "data" / UCI_FILE, _PROJECT / "tests" / "data" / UCI_FILE)
DEFAULT_PATH = (Path(os.environ["PLR_UCI_PATH"]) if os.environ.get("PLR_UCI_PATH")
                else next((path for path in _CANDIDATES if path.is_file()), _CANDIDATES[0]))
# review dates: the month ends of the six months, oldest first
MONTH_ENDS = (date(2005, 4, 30), date(2005, 5, 31), date(2005, 6, 30), date(2005, 7, 31), date(2005, 8, 31),
              date(2005, 9, 30))
OUTCOME_DATE = date(2005, 10, 31)  # "default payment next month": October 2005
STATUS_COLUMNS = ("PAY_6", "PAY_5", "PAY_4", "PAY_3", "PAY_2", "PAY_0")  # April .. September (no PAY_1)
BILL_COLUMNS = ("BILL_AMT6", "BILL_AMT5", "BILL_AMT4", "BILL_AMT3", "BILL_AMT2", "BILL_AMT1")
PAID_COLUMNS = ("PAY_AMT6", "PAY_AMT5", "PAY_AMT4", "PAY_AMT3", "PAY_AMT2", "PAY_AMT1")
DEFAULT_COLUMN = "default payment next month"
PROTECTED_COLUMNS = ("SEX", "EDUCATION", "MARRIAGE", "AGE")
REQUIRED = ("ID", "LIMIT_BAL", *PROTECTED_COLUMNS, *STATUS_COLUMNS, *BILL_COLUMNS, *PAID_COLUMNS, DEFAULT_COLUMN)
FEN = 100  # hundredths of the currency unit (NT$ here)
MINIMUM_DUE_SHARE = 0.05
OPEN_DATE = date(2005, 4, 1)  # not in the data: the first day of the window
SCORE_MODEL = "uci-behaviour-v2"
SEX = {1: "male", 2: "female"}
EDUCATION = {1: "graduate_school", 2: "university", 3: "high_school", 4: "other"}  # 0, 5, 6 undocumented
MARRIAGE = {1: "married", 2: "single", 3: "other"}  # 0 undocumented
BAD_STATUS = 2  # 60+ days past due: two months late or more

# The behavioural score's logistic weights (log-odds of 60+ days past due within the next two
# months), fitted by fit_score_weights on April-July with outcomes up to September; the October
# default unseen (docs/backtest.md: why two months, why these features, the in-window figures).
SCORE_WEIGHTS = {
    "intercept": 2.7396, "no_consumption": -1.0879, "paid_in_full": 0.0943, "revolving_now": 0.4017,
    "late_now": 0.2337, "months_late_now": 0.6379, "late_last_month": -1.2855, "months_late_last_month": 0.246,
    "most_months_late": -0.0975, "months_late_count": 0.2504, "ever_late": 0.2005,
    "share_of_months_late": 1.7034, "share_of_months_revolving": -0.3698,
    "share_of_months_paid_in_full": -0.2532, "utilisation": 0.355, "utilisation_squared": 0.3855,
    "utilisation_high": -0.0326, "utilisation_mean": -0.2922, "utilisation_trend": -0.3306,
    "balance_growth": -0.2942, "payment_ratio": -0.0763, "payment_ratio_3m": -0.254, "no_payment": 0.0214,
    "no_payment_months_3m": 0.104, "log_payment": -0.066, "payment_to_limit": 0.0113, "no_activity": -0.1349,
    "log_limit": -0.3839, "late_x_utilisation": 0.3721, "late_x_log_limit": 0.3561,
}
SCORE_HORIZON_MONTHS = 2
SCORE_RIDGE = 30.0  # on standardised features
SCORE_AT_EVEN_ODDS, POINTS_TO_DOUBLE_ODDS = 500, 50


def read_uci(path: str | Path = DEFAULT_PATH, nrows: int | None = None) -> pd.DataFrame:
    """The UCI file as published (two header rows, a UTF-8 byte-order mark), its columns checked."""
    raw = pd.read_csv(path, header=1, encoding="utf-8-sig", nrows=nrows)
    missing = [c for c in REQUIRED if c not in raw.columns]
    if missing:
        raise ValueError(f"{path}: not the UCI default-of-credit-card-clients layout: missing {', '.join(missing)}")
    if raw["ID"].duplicated().any():
        raise ValueError(f"{path}: column ID: rule ID_unique: {int(raw['ID'].duplicated().sum())} repeated ids")
    return raw


def _months(raw: pd.DataFrame, columns: tuple[str, ...], month: int) -> np.ndarray:
    """Months 0..month of a monthly column group, oldest first: nothing later is even read."""
    return raw[list(columns[:month + 1])].to_numpy(dtype="int64")


def _run_length(condition: np.ndarray) -> np.ndarray:
    """Consecutive true months ending at the last column, per row."""
    count = np.zeros(condition.shape[0], dtype="int64")
    for column in condition.T:  # six months at most: a loop over months, not accounts
        count = np.where(column, count + 1, 0)
    return count


def score_features(status: np.ndarray, bill: np.ndarray, paid: np.ndarray, limit: np.ndarray) -> pd.DataFrame:
    """The score's inputs at the last month of the given history (months as columns, oldest first).
    Status 1 (one month late) is almost absent before September (README quirk): it enters only
    through the late indicators and the months-late counts, never as a category of its own."""
    bill, paid = bill.astype("float64"), paid.astype("float64")
    months = status.shape[1]
    now = status[:, -1]
    previous = status[:, -2] if months > 1 else now
    previous_bill = bill[:, -2] if months > 1 else bill[:, -1]
    owed = previous_bill > 0
    used = np.clip(bill / limit[:, None], 0, 1.5)  # utilisation per month
    recent = min(3, months - 1)  # payments of the last (up to) three months against the statements before
    if recent:
        paid_recent, owed_before = paid[:, -recent:], bill[:, -recent - 1:-1]
        ratio_recent = np.where(owed_before > 0, np.clip(paid_recent / np.maximum(owed_before, 1), 0, 1), 1.0)
        no_payment_recent = ((paid_recent == 0) & (owed_before > 0)).sum(axis=1)
    else:
        ratio_recent, no_payment_recent = np.ones((len(now), 1)), np.zeros(len(now))
    payment_ratio = np.where(owed, np.clip(paid[:, -1] / np.maximum(previous_bill, 1), 0, 1), 1.0)
    late_now = (now >= 1).astype(float)
    return pd.DataFrame({
        "no_consumption": (now == -2).astype(float),
        "paid_in_full": (now == -1).astype(float),
        "revolving_now": (now == 0).astype(float),
        "late_now": late_now,
        "months_late_now": np.clip(now, 0, 3).astype(float),
        "late_last_month": (previous >= 1).astype(float),
        "months_late_last_month": np.clip(previous, 0, 3).astype(float),
        "most_months_late": np.clip(status.max(axis=1), 0, 3).astype(float),
        "months_late_count": (status >= 1).sum(axis=1).astype(float),
        "ever_late": (status >= 1).any(axis=1).astype(float),
        "share_of_months_late": (status >= 1).mean(axis=1),
        "share_of_months_revolving": (status == 0).mean(axis=1),
        "share_of_months_paid_in_full": (status < 0).mean(axis=1),
        "utilisation": used[:, -1],
        "utilisation_squared": used[:, -1] ** 2,
        "utilisation_high": (used[:, -1] >= 0.9).astype(float),
        "utilisation_mean": used.mean(axis=1),
        "utilisation_trend": used[:, -1] - used[:, 0],
        "balance_growth": np.clip((bill[:, -1] - previous_bill) / limit, -1, 1),
        "payment_ratio": payment_ratio,
        "payment_ratio_3m": ratio_recent.mean(axis=1),
        "no_payment": ((paid[:, -1] == 0) & owed).astype(float),
        "no_payment_months_3m": no_payment_recent.astype(float),
        "log_payment": np.log1p(np.maximum(paid[:, -1], 0)),
        "payment_to_limit": np.clip(paid[:, -1] / limit, 0, 1),
        "no_activity": ((bill[:, -1] == 0) & (paid[:, -1] == 0)).astype(float),
        "log_limit": np.log(limit),
        "late_x_utilisation": late_now * used[:, -1],
        "late_x_log_limit": late_now * (np.log(limit) - 11.5),
    })


def log_odds(features: pd.DataFrame, weights: dict[str, float] = SCORE_WEIGHTS) -> np.ndarray:
    return weights["intercept"] + sum(features[name].to_numpy() * weight for name, weight in weights.items()
                                      if name != "intercept")


def score_from_log_odds(log_odds_bad: np.ndarray) -> np.ndarray:
    """Log-odds of going bad → a 350..950 score, higher is safer."""
    score = SCORE_AT_EVEN_ODDS - POINTS_TO_DOUBLE_ODDS / np.log(2) * log_odds_bad
    return np.clip(np.rint(score), 350, 950).astype("int64")


def behaviour_score(raw: pd.DataFrame, month: int) -> np.ndarray:
    """The derived credit score of every account at ``month`` (0 = April), from months 0..month."""
    features = score_features(_months(raw, STATUS_COLUMNS, month), _months(raw, BILL_COLUMNS, month),
                              _months(raw, PAID_COLUMNS, month), raw["LIMIT_BAL"].to_numpy(dtype="float64"))
    return score_from_log_odds(log_odds(features))


def later_delinquency(raw: pd.DataFrame, month: int, last_month: int = 5) -> np.ndarray:
    """60+ days past due in a month after ``month``, up to ``last_month``: the in-window outcome."""
    last_month = min(last_month, len(STATUS_COLUMNS) - 1)
    status = raw[list(STATUS_COLUMNS[month + 1:last_month + 1])].to_numpy()
    return (status >= BAD_STATUS).any(axis=1)


def validation_fold(ids: np.ndarray, folds: int = 5) -> np.ndarray:
    """A fixed fold per account from a hash of its id (0..folds-1): fold 0 is held out for validation."""
    return ((np.asarray(ids, dtype="uint64") * np.uint64(2654435761)) % np.uint64(2**32) % np.uint64(folds)).astype(int)


def in_window_design(raw: pd.DataFrame, months: range = range(4), horizon: int | None = SCORE_HORIZON_MONTHS
                     ) -> tuple[list[pd.DataFrame], list[np.ndarray]]:
    """The score's features of each decision month and its in-window label: 60+ days past due in
    one of the next ``horizon`` months (None: any later month), never after September."""
    limit = raw["LIMIT_BAL"].to_numpy(dtype="float64")
    frames = [score_features(_months(raw, STATUS_COLUMNS, t), _months(raw, BILL_COLUMNS, t),
                             _months(raw, PAID_COLUMNS, t), limit) for t in months]
    labels = [later_delinquency(raw, t, t + horizon if horizon else 5) for t in months]
    return frames, labels


def fit_score_weights(raw: pd.DataFrame, months: range = range(4), ridge: float = SCORE_RIDGE,
                      horizon: int | None = SCORE_HORIZON_MONTHS, accounts: np.ndarray | None = None
                      ) -> dict[str, float]:
    """Refit :data:`SCORE_WEIGHTS`: a ridge-regularised logistic regression (Newton steps, ridge on
    standardised features, the intercept free) of 60+ days past due within ``horizon`` months, at
    most up to September, on the features of April-July pooled; ``accounts``: a mask of the
    accounts to fit on (a training fold). The October default column is dropped before anything
    is read."""
    raw = raw.drop(columns=[DEFAULT_COLUMN], errors="ignore")
    frames, labels = in_window_design(raw, months, horizon)
    keep = np.ones(len(raw), dtype=bool) if accounts is None else np.asarray(accounts, dtype=bool)
    x = pd.concat([f[keep] for f in frames]).to_numpy()
    y = np.concatenate([label[keep] for label in labels]).astype(float)
    mean, sd = x.mean(axis=0), x.std(axis=0)
    sd = np.where(sd > 0, sd, 1.0)
    z = np.column_stack([np.ones(len(x)), (x - mean) / sd])
    penalty = ridge * np.eye(z.shape[1])
    penalty[0, 0] = 0
    w = np.zeros(z.shape[1])
    for _ in range(30):
        p = 1 / (1 + np.exp(-z @ w))
        hessian = z.T @ (z * (p * (1 - p))[:, None]) + penalty
        w += np.linalg.solve(hessian, z.T @ (y - p) - penalty @ w)
    weights = w[1:] / sd
    intercept = w[0] - float((weights * mean).sum())
    return dict(zip(["intercept", *frames[0].columns], np.round([intercept, *weights], 4).tolist()))


def deliveries(raw: pd.DataFrame, month: int) -> dict[str, pd.DataFrame]:
    """The input-contract tables of one month (0 = April 2005): accounts, credit_score_snapshots,
    repayment_snapshots, and (every month alike) customer_profiles."""
    snapshot_date = MONTH_ENDS[month]
    ids = raw["ID"].to_numpy(dtype="int64")
    limit = raw["LIMIT_BAL"].to_numpy(dtype="int64")
    status = _months(raw, STATUS_COLUMNS, month)
    bill = _months(raw, BILL_COLUMNS, month)
    paid = _months(raw, PAID_COLUMNS, month)
    now, balance = status[:, -1], np.maximum(bill[:, -1], 0)
    late = status >= 1
    accounts = pd.DataFrame({
        "account_id": ids, "customer_id": ids, "open_date": OPEN_DATE.isoformat(), "segment": "uci_2005",
        "preferred_language": "zh-CN", "approved_limit_fen": limit * FEN, "current_limit_fen": limit * FEN,
        "outstanding_balance_fen": balance * FEN, "status": "active",
    })
    scores = pd.DataFrame({"account_id": ids, "snapshot_date": snapshot_date.isoformat(),
                           "score": behaviour_score(raw, month), "model_version": SCORE_MODEL})
    repayments = pd.DataFrame({
        "account_id": ids, "snapshot_date": snapshot_date.isoformat(),
        "statement_balance_fen": balance * FEN,
        "minimum_due_fen": np.rint(balance * FEN * MINIMUM_DUE_SHARE).astype("int64"),
        "amount_paid_fen": np.maximum(paid[:, -1], 0) * FEN,
        "days_past_due": np.maximum(now, 0) * 30,
        "overdue_count_3m": late[:, -3:].sum(axis=1),
        "overdue_count_6m": late[:, -6:].sum(axis=1),
        "overdue_count_12m": late.sum(axis=1),
        "min_payment_only_months": _run_length(status == 0),
        "on_time_full_payment_months": _run_length(status < 0),
        "utilisation_ratio": np.round(np.clip(balance / limit, 0, 5), 6),
    })
    return {"accounts": accounts, "credit_score_snapshots": scores, "repayment_snapshots": repayments,
            "customer_profiles": profiles(raw)}


def _coded(values: pd.Series, codes: dict[int, str]) -> pd.Series:
    return values.map(codes).astype("object").where(values.isin(list(codes)), None)


def profiles(raw: pd.DataFrame) -> pd.DataFrame:
    """The protected attributes, for fairness checks only (customer_profiles)."""
    return pd.DataFrame({
        "customer_id": raw["ID"].to_numpy(dtype="int64"),
        "birth_year": (2005 - raw["AGE"]).astype("Int64"),
        "sex": _coded(raw["SEX"], SEX),
        "education": _coded(raw["EDUCATION"], EDUCATION),
        "marital_status": _coded(raw["MARRIAGE"], MARRIAGE),
    })


def outcomes(raw: pd.DataFrame) -> pd.DataFrame:
    """The October 2005 default of every account: the outcome of the September review only."""
    return pd.DataFrame({"account_id": raw["ID"].to_numpy(dtype="int64"),
                         "defaulted": raw[DEFAULT_COLUMN].to_numpy() == 1})


def export(raw: pd.DataFrame, out_dir: str | Path) -> list[Path]:
    """Write the six months as contract files, one folder per review date, and outcomes.csv."""
    out_dir, written = Path(out_dir), []
    for month, snapshot_date in enumerate(MONTH_ENDS):
        folder = out_dir / snapshot_date.isoformat()
        folder.mkdir(parents=True, exist_ok=True)
        for table, frame in deliveries(raw, month).items():
            frame.to_csv(folder / f"{table}.csv", index=False)
            written.append(folder / f"{table}.csv")
    outcomes(raw).assign(outcome_date=OUTCOME_DATE.isoformat()).to_csv(out_dir / "outcomes.csv", index=False)
    return written + [out_dir / "outcomes.csv"]
