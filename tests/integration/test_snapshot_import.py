"""plr import: contract files load; bad files are refused naming file, row, column and rule, and
nothing at all is loaded."""

from __future__ import annotations

import pandas as pd
import pytest
from sqlalchemy import text

from post_loan_review import cli, imports, uci

APRIL, MAY = uci.MONTH_ENDS[0], uci.MONTH_ENDS[1]
TABLES = ("accounts", "credit_score_snapshots", "repayment_snapshots", "customer_profiles")


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    out = tmp_path_factory.mktemp("uci")
    uci.export(uci.read_uci(nrows=60), out)
    return out


def _counts(engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {t: conn.execute(text(f"select count(*) from {t}")).scalar() for t in TABLES}


def test_a_month_of_contract_files_loads(warehouse, files, capsys):
    assert cli.main(["import", "--date", str(APRIL), str(files / str(APRIL))]) == 0
    assert "imported 2005-04-30" in capsys.readouterr().out
    assert _counts(warehouse) == dict.fromkeys(TABLES, 60)
    # re-importing the date replaces its rows instead of failing or doubling them
    assert cli.main(["import", "--date", str(APRIL), str(files / str(APRIL))]) == 0
    assert _counts(warehouse) == dict.fromkeys(TABLES, 60)


def test_parquet_files_load_alike(warehouse, files, tmp_path):
    for table in TABLES:
        pd.read_csv(files / str(APRIL) / f"{table}.csv", dtype=str).to_parquet(tmp_path / f"{table}.parquet")
    written = imports.import_files([tmp_path], APRIL)
    assert written == dict.fromkeys(TABLES, 60)


def _damaged(files, tmp_path, table, row, column, value) -> None:
    for name in TABLES:
        frame = pd.read_csv(files / str(APRIL) / f"{name}.csv", dtype=str, keep_default_na=False)
        if name == table:
            frame.loc[row, column] = value
        frame.to_csv(tmp_path / f"{name}.csv", index=False)


@pytest.mark.parametrize("table, column, value, rule", [
    ("repayment_snapshots", "amount_paid_fen", "-500", "amount_paid_fen_non_negative"),  # the nightly gate's rule
    ("credit_score_snapshots", "score", "9999", "score_in_range"),                      # the nightly gate's rule
    ("repayment_snapshots", "days_past_due", "ten", "days_past_due_is_whole_number"),
    ("accounts", "status", "suspended", "status_in_set"),
    ("accounts", "approved_limit_fen", "1,000.00", "approved_limit_fen_is_whole_number"),
    ("credit_score_snapshots", "snapshot_date", "2005-04-29", "snapshot_date_is_import_date"),
    ("customer_profiles", "sex", "F", "sex_in_set"),
])
def test_a_bad_file_is_refused_with_file_row_column_and_rule_and_nothing_loads(
        warehouse, files, tmp_path, capsys, table, column, value, rule):
    _damaged(files, tmp_path, table, 7, column, value)  # data row 7: line 9 of the file (header = 1)
    assert cli.main(["import", "--date", str(APRIL), str(tmp_path)]) == 2
    error = capsys.readouterr().err
    assert f"{tmp_path / (table + '.csv')}: row 9: column {column}: rule {rule}" in error, error
    assert "nothing loaded" in error
    assert _counts(warehouse) == dict.fromkeys(TABLES, 0)


def test_missing_column_duplicate_key_and_unknown_account_are_refused(warehouse, files, tmp_path):
    _damaged(files, tmp_path, "repayment_snapshots", 3, "account_id", "1")  # a second row for account 1
    frame = pd.read_csv(tmp_path / "accounts.csv", dtype=str).drop(columns=["segment"])
    frame.to_csv(tmp_path / "accounts.csv", index=False)
    with pytest.raises(imports.ImportRefused) as refused:
        imports.import_files([tmp_path], APRIL)
    joined = "\n".join(refused.value.errors)
    assert f"{tmp_path / 'accounts.csv'}: column segment: rule columns_present" in joined
    assert f"{tmp_path / 'repayment_snapshots.csv'}: row 5: column account_id: rule account_id_unique" in joined
    assert _counts(warehouse) == dict.fromkeys(TABLES, 0)
    # snapshot rows for accounts the warehouse does not know, without an account file
    with pytest.raises(imports.ImportRefused, match="rule account_known"):
        imports.import_files([files / str(APRIL) / "repayment_snapshots.csv"], APRIL)
    assert _counts(warehouse) == dict.fromkeys(TABLES, 0)


def test_an_import_never_unfreezes_an_account_nor_resets_a_reviewed_limit(warehouse, files):
    imports.import_files([files / str(APRIL)], APRIL)
    with warehouse.begin() as conn:
        conn.execute(text("update accounts set status = 'frozen', current_limit_fen = 5000, "
                          "limit_set_by_review_date = '2005-04-30' where account_id = 1"))
    imports.import_files([files / str(MAY)], MAY)
    with warehouse.connect() as conn:
        row = conn.execute(text("select status, current_limit_fen, outstanding_balance_fen from accounts "
                                "where account_id = 1")).one()
    may = pd.read_csv(files / str(MAY) / "accounts.csv").iloc[0]
    assert (row.status, row.current_limit_fen, row.outstanding_balance_fen) == \
        ("frozen", 5000, may["outstanding_balance_fen"])
    with warehouse.connect() as conn:
        assert conn.execute(text("select count(distinct snapshot_date) from repayment_snapshots")).scalar() == 2
