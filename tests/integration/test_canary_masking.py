"""No report, log or XCom shows a full account id, customer id or phone number.

A book whose every identifier is a canary (12-digit account ids, 12-digit customer ids, phone
numbers of its own) goes through two nights of the real DAG (``airflow dags test``); then every
file of the reports folder, every line Airflow printed or logged and every XCom value of the runs
is searched for any of those values. The masked forms must be there: the identifiers did reach the
reports, masked."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

from conftest import FIRST_DATE, SECOND_DATE, load_portfolio, run_dag

from post_loan_review import reports

CANARY_FIRST_ACCOUNT_ID = 987_650_000_001  # 12 digits: the masked form keeps 4 + 2 of them
DIGIT_RUNS = re.compile(r"\d{9,}")


def _texts_of_folder(folder: Path) -> dict[str, str]:
    return {str(path): path.read_bytes().decode("utf-8", errors="replace")
            for path in folder.rglob("*") if path.is_file()}


def _xcom_values(metadata_db: Path) -> dict[str, str]:
    with sqlite3.connect(metadata_db) as conn:
        rows = conn.execute("select dag_id, run_id, task_id, map_index, key, value from xcom").fetchall()
    values = {f"xcom {d}/{r}/{t}[{m}]/{k}": (v.decode("utf-8", errors="replace") if isinstance(v, bytes) else str(v))
              for d, r, t, m, k, v in rows}
    assert any("build_report" in name for name in values), "no XCom of build_report found: the search proves nothing"
    return values


def test_no_report_log_or_xcom_shows_a_full_id_or_phone_number(airflow_env, warehouse, tmp_path):
    portfolio = load_portfolio(warehouse, accounts=2000, first_account_id=CANARY_FIRST_ACCOUNT_ID,
                               bad_row_rate=0.002)
    account_ids = set(portfolio.accounts["account_id"].astype(str))
    customer_ids = set(portfolio.customer_profiles["customer_id"].astype(str))
    phones = set(portfolio.customer_profiles["phone_number"])
    national_phones = {phone.removeprefix("+86") for phone in phones}
    assert min(len(i) for i in account_ids | customer_ids) >= 12 and len(phones) == 2000

    printed = {"dags test, first night": run_dag(airflow_env, FIRST_DATE.isoformat()),
               "dags test, second night": run_dag(airflow_env, "2026-11-28T00:00:00+00:00",
                                                  {"review_date": SECOND_DATE.isoformat()})}
    home = Path(airflow_env["AIRFLOW_HOME"])
    texts = {**printed, **_texts_of_folder(tmp_path / "reports"), **_texts_of_folder(home / "logs"),
             **_xcom_values(home / "airflow.db")}
    report_files = [name for name in texts if name.endswith((".html", ".csv", ".json"))]
    assert len(report_files) == 6, report_files  # report, decisions, summary for each night

    leaks = []
    for name, text in texts.items():
        runs = set(DIGIT_RUNS.findall(text))
        leaked = (runs & account_ids) | (runs & customer_ids) | (runs & national_phones)
        leaked |= {phone for phone in phones if phone in text}
        if leaked:
            leaks.append(f"{name}: {sorted(leaked)[:3]}")
    assert not leaks, "full identifiers leaked:\n" + "\n".join(leaks)

    # the identifiers did reach the reports, masked: the largest changes and every CSV row
    second = Path(tmp_path / "reports" / SECOND_DATE.isoformat() / "live")
    html, csv = (second / "report.html").read_text(encoding="utf-8"), (second / "decisions.csv").read_text()
    masked = {reports.mask_account_id(account) for account in account_ids}
    assert sum(1 for m in masked if m in html) >= 1
    assert len(csv.splitlines()) == 1 + len(portfolio.accounts[portfolio.accounts["status"] != "closed"])
    assert all(line.split(",")[2] in masked for line in csv.splitlines()[1:])
