"""Bad input fails closed (issue 4, point 6): a catalogue of the ways a night's snapshots arrive
broken, each with the outcome the review must have. docs/bad_input.md is this catalogue as a table.

Every entry damages a freshly loaded, clean portfolio of 2,000 accounts for SECOND_DATE, runs the
whole review and checks one outcome:

``stop``        the run raises (``QualityGateError``, or ``SchemaDriftError`` for a changed table)
                with a message naming table, column and rule; nothing is decided or written for
                the date and ``accounts`` is unchanged.
``quarantine``  the run succeeds; the damaged rows are in ``quarantined_rows`` with their rule, their
                accounts get HOLD with guardrail DATA_QUALITY_HOLD, every other decision is the one
                of an undamaged run.
``hold``        the run succeeds; accounts without a snapshot row get HOLD with MISSING_SNAPSHOT.
``ignored``     the bad rows cannot influence a decision: every decision is that of an undamaged run.
``proceeds``    an optional feed is missing: the rules that read it do not fire, the rest decides
                as usual.
``impossible_by_schema``  the warehouse refuses the damage (a primary key), so it cannot arrive.

A kind the code does not handle yet goes in as ``pytest.param(bad, marks=pytest.mark.xfail(strict=True,
reason="gap: ..."))`` stating the outcome the issue requires; a fix turns it into a failure (XPASS)
until the mark is removed. None is open.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Callable

import pandas as pd
import pytest
from checks import scalar, table
from conftest import SECOND_DATE, _use_warehouse, load_portfolio
from sqlalchemy import Connection, exc, text

from post_loan_review import stages
from post_loan_review.db import SchemaDriftError
from post_loan_review.quality import QualityGateError

ACCOUNTS = 2000
D = SECOND_DATE.isoformat()  # dates are stored as ISO text on SQLite
NEXT_DAY = (SECOND_DATE + timedelta(days=1)).isoformat()
FIRST_DAY = (SECOND_DATE - timedelta(days=1)).isoformat()
UNKNOWN_ID = 990_000_001  # account ids no account has
VICTIMS = 5  # damaged rows per entry: well under the 1 % that turns quarantine into a stop
DECISION_COLUMNS = ["account_id", "action", "old_limit_fen", "new_limit_fen", "old_status", "new_status",
                    "reason_1", "reason_2", "reason_3", "reason_4", "guardrail"]
OUTPUT_TABLES = ("limit_decisions", "staged_decisions", "limit_ledger", "notifications")


# --- the undamaged run every entry is compared with -----------------------------------------------

def decisions(engine) -> pd.DataFrame:
    """The live champion decisions of SECOND_DATE, one row per account."""
    with engine.connect() as conn:
        frame = pd.read_sql(text(f"select {', '.join(DECISION_COLUMNS)} from limit_decisions "
                                 "where review_date = :d and arm = 'champion' order by account_id"),
                            conn, params={"d": D})
    return frame.set_index("account_id").astype(object).where(lambda f: f.notna(), None)


@pytest.fixture(scope="module")
def baseline(tmp_path_factory) -> pd.DataFrame:
    """The decisions of the same portfolio, undamaged (in a warehouse of its own)."""
    path = tmp_path_factory.mktemp("baseline")
    with pytest.MonkeyPatch.context() as monkeypatch:
        engine = _use_warehouse(f"sqlite:///{path / 'warehouse.db'}", path, monkeypatch)
        load_portfolio(engine, accounts=ACCOUNTS, bad_row_rate=0)
        stages.review(SECOND_DATE)
        frame = decisions(engine)
        engine.dispose()
    assert len(frame) > 0 and (frame["action"] != "HOLD").sum() > VICTIMS
    return frame


# --- whom to damage --------------------------------------------------------------------------------

Victims = Callable[[Connection, pd.DataFrame], list[int]]


def changed(conn: Connection, base: pd.DataFrame) -> list[int]:
    """Accounts the undamaged run changed: a HOLD on them shows the damage was noticed."""
    ids = base.index[base["action"].isin(["DECREASE", "DECREASE_TO_FLOOR", "FREEZE", "RESTORE"])]
    return [int(i) for i in ids[:: max(1, len(ids) // VICTIMS)][:VICTIMS]]


def _id_list(ids) -> str:
    return ", ".join(str(int(i)) for i in ids) or "null"


def quiet(conn: Connection, base: pd.DataFrame) -> list[int]:
    """Active accounts nothing fired on, that a person has not taken over: a takeover would freeze them."""
    candidates = base.index[(base["action"] == "HOLD") & base["guardrail"].isna() & base["reason_1"].isna()]
    rows = conn.execute(text(f"""select account_id from accounts where account_id in ({_id_list(candidates)})
        and status = 'active' and not refused_automated_decisions order by account_id limit {VICTIMS}"""))
    return [int(r[0]) for r in rows]


def restorable(conn: Connection, base: pd.DataFrame) -> list[int]:
    """Quiet accounts below their approved limit that pass restoration's ability-to-pay check:
    verified income is the one thing they lack for a RESTORE."""
    candidates = base.index[(base["action"] == "HOLD") & base["guardrail"].isna() & base["reason_1"].isna()]
    rows = conn.execute(text(f"""select a.account_id from accounts as a
        join credit_score_snapshots as s on s.account_id = a.account_id and s.snapshot_date = :d
        join repayment_snapshots as r on r.account_id = a.account_id and r.snapshot_date = :d
        where a.account_id in ({_id_list(candidates)}) and a.status = 'active'
          and not a.refused_automated_decisions and a.customer_cap_fen is null
          and a.current_limit_fen < a.approved_limit_fen
          and s.score >= 600 and r.days_past_due = 0 and r.min_payment_only_months = 0
          and r.overdue_count_3m = 0
        order by a.account_id limit {VICTIMS}"""), {"d": D})
    return [int(r[0]) for r in rows]


def with_security_events(conn: Connection, base: pd.DataFrame) -> list[int]:
    rows = conn.execute(text("""select distinct account_id from security_events
        where event_type <> 'device_change' and event_date = :d order by account_id"""), {"d": D})
    return [int(r[0]) for r in rows]


# --- ways to damage --------------------------------------------------------------------------------

# a damage returns the ids of the accounts it damaged, or None when it hits a whole table
Damage = Callable[[Connection, pd.DataFrame], list[int] | None]


def update(table_name: str, assignment: str, victims: Victims = changed) -> Damage:
    """Set ``assignment`` on the victims' rows of ``table_name`` for the review date."""
    def damage(conn, base):
        ids = victims(conn, base)
        conn.execute(text(f"update {table_name} set {assignment} "
                          f"where snapshot_date = :d and account_id in ({_id_list(ids)})"), {"d": D})
        return ids
    return damage


def delete_rows(table_name: str, victims: Victims = changed) -> Damage:
    def damage(conn, base):
        ids = victims(conn, base)
        conn.execute(text(f"delete from {table_name} where snapshot_date = :d "
                          f"and account_id in ({_id_list(ids)})"), {"d": D})
        return ids
    return damage


def statements(*sql: str) -> Damage:
    """Whole-table damage in SQL (params :d, :next_day, :first_day); no account in particular."""
    def damage(conn, base):
        for one in sql:
            conn.execute(text(one), {"d": D, "next_day": NEXT_DAY, "first_day": FIRST_DAY})
        return None
    return damage


def share_of_rows(table_name: str, assignment: str | None, share: float) -> Damage:
    """Damage (or delete, with no assignment) a share of the date's rows, in account order."""
    def damage(conn, base):
        limit = int(ACCOUNTS * share)
        chosen = (f"select account_id from {table_name} where snapshot_date = :d "
                  f"order by account_id limit {limit}")
        action = f"update {table_name} set {assignment}" if assignment else f"delete from {table_name}"
        conn.execute(text(f"{action} where snapshot_date = :d and account_id in ({chosen})"), {"d": D})
        return None
    return damage


def unknown_score_rows(count: int) -> Damage:
    def damage(conn, base):
        ids = list(range(UNKNOWN_ID, UNKNOWN_ID + count))
        conn.execute(text("insert into credit_score_snapshots (account_id, snapshot_date, score, model_version) "
                          "values (:id, :d, 700, 'sesame-like-2026.10')"), [{"id": i, "d": D} for i in ids])
        return ids
    return damage


def unknown_repayment_rows(conn, base):
    ids = list(range(UNKNOWN_ID, UNKNOWN_ID + VICTIMS))
    conn.execute(text("""insert into repayment_snapshots
        select :id, snapshot_date, statement_balance_fen, minimum_due_fen, amount_paid_fen, days_past_due,
               overdue_count_3m, overdue_count_6m, overdue_count_12m, min_payment_only_months,
               on_time_full_payment_months, utilisation_ratio
        from repayment_snapshots where snapshot_date = :d order by account_id limit 1"""),
        [{"id": i, "d": D} for i in ids])
    return ids


def duplicate_row(table_name: str) -> Damage:
    """A second row for an account and date that already has one (a replayed feed)."""
    def damage(conn, base):
        ids = changed(conn, base)[:1]
        conn.execute(text(f"insert into {table_name} select * from {table_name} "
                          f"where snapshot_date = :d and account_id = {ids[0]}"), {"d": D})
        return ids
    return damage


def security_event(event_date: str, victims: Victims = quiet) -> Damage:
    def damage(conn, base):
        ids = victims(conn, base)
        conn.execute(text("""insert into security_events (event_id, account_id, event_date, event_type)
            values ((select max(event_id) from security_events) + 1, :id, :day, 'account_takeover_suspected')"""),
            [{"id": i, "day": event_date} for i in ids])
        return ids
    return damage


def duplicate_security_events(conn, base):
    ids = with_security_events(conn, base)
    conn.execute(text(f"""insert into security_events (event_id, account_id, event_date, event_type)
        select event_id + (select max(event_id) from security_events), account_id, event_date, event_type
        from security_events where account_id in ({_id_list(ids)}) and event_date = :d"""), {"d": D})
    return ids


def income_verification(verified_date: str) -> Damage:
    def damage(conn, base):
        ids = restorable(conn, base)
        conn.execute(text("insert into income_verifications (account_id, verified_date, monthly_income_fen) "
                          "values (:id, :day, 5000000)"), [{"id": i, "day": verified_date} for i in ids])
        return ids
    return damage


def snapshot_for(snapshot_date: str) -> Damage:
    """Scores of 350 and 100 days past due for every account, dated ``snapshot_date``."""
    def damage(conn, base):
        params = {"d": D, "day": snapshot_date}
        if snapshot_date == D:  # inside the review: replace today's rows
            conn.execute(text("update credit_score_snapshots set score = 350 where snapshot_date = :d"), params)
            conn.execute(text("update repayment_snapshots set days_past_due = 100 where snapshot_date = :d"), params)
        else:
            conn.execute(text("""insert into credit_score_snapshots
                select account_id, :day, 350, model_version from credit_score_snapshots where snapshot_date = :d"""),
                params)
            conn.execute(text("""insert into repayment_snapshots
                select account_id, :day, statement_balance_fen, minimum_due_fen, amount_paid_fen, 100,
                       overdue_count_3m, overdue_count_6m, overdue_count_12m, min_payment_only_months,
                       on_time_full_payment_months, utilisation_ratio
                from repayment_snapshots where snapshot_date = :d"""), params)
        return [int(i) for i in base.index[base["action"] == "HOLD"][:VICTIMS]]
    return damage


def retype_score_as_text(conn, base):
    """The score feed now delivers text: same column name, another type."""
    for one in ("alter table credit_score_snapshots rename to credit_score_snapshots_old",
                """create table credit_score_snapshots (account_id bigint not null, snapshot_date date not null,
                   score text, model_version text, primary key (snapshot_date, account_id))""",
                """insert into credit_score_snapshots
                   select account_id, snapshot_date, cast(score as text), model_version from credit_score_snapshots_old""",
                "drop table credit_score_snapshots_old"):
        conn.execute(text(one))
    return None


# --- the catalogue ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Bad:
    id: str
    example: str  # the damage in words, for docs/bad_input.md
    damage: Damage
    outcome: str  # stop | quarantine | hold | ignored | proceeds | impossible_by_schema
    caught: str  # where the code catches it, for docs/bad_input.md
    error: type[Exception] = QualityGateError  # stop
    fragments: tuple[str, ...] = ()  # stop: the message names these
    retryable: bool | None = None  # stop with QualityGateError: a retry may find the data
    rule: str | None = None  # quarantine: the rule the rows broke
    lost_reasons: tuple[str, ...] = ()  # proceeds: reason codes that cannot fire without the feed
    inside: Damage | None = None  # ignored: the same damage inside the review's reach (control)


def entry(bad: Bad):
    return pytest.param(bad, id=bad.id)


SCORES, REPAYMENTS = "credit_score_snapshots", "repayment_snapshots"
ROW_RULE = "quality.py row rule {} -> quarantined_rows, guardrail DATA_QUALITY_HOLD"

CATALOGUE = [
    # ---- a late, missing, empty or truncated feed: stop (retryable: the feed may still arrive) ----
    entry(Bad("score_snapshot_late", "no credit_score_snapshots row for the review date",
              statements("delete from credit_score_snapshots where snapshot_date = :d"), "stop",
              "quality.py critical rules snapshot_present, row_count_stable",
              fragments=("credit_score_snapshots broke critical rule snapshot_present", "observed 0"),
              retryable=True)),
    entry(Bad("repayment_snapshot_late", "no repayment_snapshots row for the review date",
              statements("delete from repayment_snapshots where snapshot_date = :d"), "stop",
              "quality.py critical rules snapshot_present, row_count_stable",
              fragments=("repayment_snapshots broke critical rule snapshot_present", "observed 0",
                         "repayment_snapshots broke critical rule row_count_stable"), retryable=True)),
    entry(Bad("both_snapshots_empty", "the date has spending and bureau rows but no score nor repayment row",
              statements("delete from credit_score_snapshots where snapshot_date = :d",
                         "delete from repayment_snapshots where snapshot_date = :d"), "stop",
              "quality.py critical rule snapshot_present, per table",
              fragments=("credit_score_snapshots broke critical rule snapshot_present",
                         "repayment_snapshots broke critical rule snapshot_present"), retryable=True)),
    entry(Bad("score_feed_truncated", "half of the date's score rows (1,000 of 2,000)",
              share_of_rows(SCORES, None, 0.5), "stop",
              "quality.py critical rule row_count_stable (±10 % of the previous snapshot)",
              fragments=("credit_score_snapshots broke critical rule row_count_stable", "observed 1000",
                         "between 1800 and 2200"), retryable=True)),
    entry(Bad("repayment_feed_truncated", "a fifth of the date's repayment rows missing (1,600 of 2,000)",
              share_of_rows(REPAYMENTS, None, 0.2), "stop", "quality.py critical rule row_count_stable",
              fragments=("repayment_snapshots broke critical rule row_count_stable", "observed 1600"),
              retryable=True)),
    entry(Bad("truncated_feed_without_previous_snapshot",
            "half of the score rows, on a night with no earlier snapshot to compare with (first night)",
            statements("delete from credit_score_snapshots where snapshot_date = :first_day",
                       "delete from repayment_snapshots where snapshot_date = :first_day",
                       """delete from credit_score_snapshots where snapshot_date = :d and account_id in (
                          select account_id from credit_score_snapshots where snapshot_date = :d
                          order by account_id limit 1000)"""), "stop",
            "quality.py critical rule row_count_stable, against the reviewable accounts when there is "
            "no earlier snapshot",
            fragments=("credit_score_snapshots", "row_count_stable"), retryable=True)),
    entry(Bad("volume_jump_unknown_accounts", "300 extra score rows (+15 %) for account ids not in accounts",
              unknown_score_rows(300), "stop",
              "quality.py critical rule row_count_stable, row rule account_known over 1 %",
              fragments=("credit_score_snapshots broke critical rule row_count_stable", "observed 2300",
                         "credit_score_snapshots.known_account_id", "account_known"), retryable=False)),
    entry(Bad("score_feed_hollow", "every score row of the date present but score null",
              share_of_rows(SCORES, "score = null", 1.0), "stop",
              "quality.py row rule score_present over 1 % of rows",
              fragments=("credit_score_snapshots.score broke row rule", "score_present", "2000 of 2000"),
              retryable=False)),
    entry(Bad("score_feed_rescaled", "every score divided by 10 (a model on a 35..95 scale)",
              share_of_rows(SCORES, "score = score / 10", 1.0), "stop",
              "quality.py row rule score_in_range over 1 % of rows",
              fragments=("credit_score_snapshots.score broke row rule", "score_in_range"), retryable=False)),
    entry(Bad("amounts_negative_widespread", "amount_paid_fen negative on 5 % of the rows",
              share_of_rows(REPAYMENTS, "amount_paid_fen = -100", 0.05), "stop",
              "quality.py row rule amount_paid_fen_non_negative over 1 % of rows",
              fragments=("repayment_snapshots.amount_paid_fen broke row rule", "amount_paid_fen_non_negative",
                         "100 of 2000 rows"), retryable=False)),
    # ---- the feed changed shape: stop before anything runs ----
    entry(Bad("schema_column_renamed", "credit_score_snapshots.score renamed to credit_score",
              statements("alter table credit_score_snapshots rename column score to credit_score"), "stop",
              "db.init_db schema_drift (resolve_review_date), before any stage", error=SchemaDriftError,
              fragments=("credit_score_snapshots lacks score",))),
    entry(Bad("schema_column_dropped", "repayment_snapshots.days_past_due dropped",
              statements("alter table repayment_snapshots drop column days_past_due"), "stop",
              "db.init_db schema_drift (resolve_review_date), before any stage", error=SchemaDriftError,
              fragments=("repayment_snapshots lacks days_past_due",))),
    entry(Bad("schema_column_retyped", "credit_score_snapshots.score recreated as text ('712')",
              retype_score_as_text, "stop",
              "db.init_db schema_drift compares column kinds too (resolve_review_date), before any stage",
              error=SchemaDriftError, fragments=("credit_score_snapshots.score is TEXT, expected INTEGER",))),
    entry(Bad("schema_column_added", "a new column in credit_score_snapshots (score_band text)",
              statements("alter table credit_score_snapshots add column score_band text",
                         "update credit_score_snapshots set score_band = 'A'"), "ignored",
              "nothing to catch: queries name the columns they read")),
    # ---- bad rows: quarantined, their accounts held ----
    entry(Bad("score_null", "score null", update(SCORES, "score = null"), "quarantine",
              ROW_RULE.format("score_present"), rule="score_present")),
    entry(Bad("score_above_range", "score 9999", update(SCORES, "score = 9999"), "quarantine",
              ROW_RULE.format("score_in_range"), rule="score_in_range")),
    entry(Bad("score_below_range", "score 120", update(SCORES, "score = 120"), "quarantine",
              ROW_RULE.format("score_in_range"), rule="score_in_range")),
    entry(Bad("statement_balance_negative", "statement_balance_fen -50000",
              update(REPAYMENTS, "statement_balance_fen = -50000"), "quarantine",
              ROW_RULE.format("statement_balance_fen_non_negative"), rule="statement_balance_fen_non_negative")),
    entry(Bad("minimum_due_negative", "minimum_due_fen -1",
              update(REPAYMENTS, "minimum_due_fen = -1"), "quarantine",
              ROW_RULE.format("minimum_due_fen_non_negative"), rule="minimum_due_fen_non_negative")),
    entry(Bad("amount_paid_negative", "amount_paid_fen = -(minimum due) - 100",
              update(REPAYMENTS, "amount_paid_fen = -minimum_due_fen - 100"), "quarantine",
              ROW_RULE.format("amount_paid_fen_non_negative"), rule="amount_paid_fen_non_negative")),
    entry(Bad("days_past_due_negative", "days_past_due -5", update(REPAYMENTS, "days_past_due = -5"),
              "quarantine", ROW_RULE.format("days_past_due_non_negative"), rule="days_past_due_non_negative")),
    entry(Bad("days_past_due_null", "days_past_due null", update(REPAYMENTS, "days_past_due = null"),
              "quarantine", ROW_RULE.format("days_past_due_present"), rule="days_past_due_present")),
    entry(Bad("on_time_months_negative", "on_time_full_payment_months -6 (restoration evidence)",
              update(REPAYMENTS, "on_time_full_payment_months = -6"), "quarantine",
              ROW_RULE.format("on_time_full_payment_months_non_negative"),
              rule="on_time_full_payment_months_non_negative")),
    entry(Bad("utilisation_above_range", "utilisation_ratio 7.5", update(REPAYMENTS, "utilisation_ratio = 7.5"),
              "quarantine", ROW_RULE.format("utilisation_in_range"), rule="utilisation_in_range")),
    entry(Bad("utilisation_negative", "utilisation_ratio -0.3", update(REPAYMENTS, "utilisation_ratio = -0.3"),
              "quarantine", ROW_RULE.format("utilisation_in_range"), rule="utilisation_in_range")),
    entry(Bad("score_row_for_unknown_account", "5 score rows for account ids not in accounts",
              unknown_score_rows(VICTIMS), "quarantine",
              "quality.py row rule account_known -> quarantined_rows; no account to decide",
              rule="account_known")),
    entry(Bad("repayment_row_for_unknown_account", "5 repayment rows for account ids not in accounts",
              unknown_repayment_rows, "quarantine",
              "quality.py row rule account_known -> quarantined_rows; no account to decide",
              rule="account_known")),
    entry(Bad("score_text", "score 'abc' in the integer column (SQLite keeps the text)",
            update(SCORES, "score = 'abc'"), "quarantine",
            ROW_RULE.format("score_is_number"),
            rule="score_is_number")),
    entry(Bad("days_past_due_nan_text", "days_past_due 'NaN' (a NaN-like string)",
            update(REPAYMENTS, "days_past_due = 'NaN'"), "quarantine",
            ROW_RULE.format("days_past_due_is_number"),
            rule="days_past_due_is_number")),
    entry(Bad("amount_currency_text", "statement_balance_fen '1,000.00' (a formatted amount)",
            update(REPAYMENTS, "statement_balance_fen = '1,000.00'"), "quarantine",
            ROW_RULE.format("statement_balance_fen_is_number"),
            rule="statement_balance_fen_is_number")),
    entry(Bad("amount_implausibly_large", "statement_balance_fen 10^15 (10 trillion yuan on a consumer line)",
            update(REPAYMENTS, "statement_balance_fen = 1000000000000000"), "quarantine",
            ROW_RULE.format("statement_balance_fen_in_range") + " (at most a billion yuan)",
            rule="statement_balance_fen_in_range")),
    entry(Bad("overdue_count_6m_negative", "overdue_count_6m -3 (read by REPAYMENT_REPEATED_OVERDUE)",
            update(REPAYMENTS, "overdue_count_6m = -3"), "quarantine",
            ROW_RULE.format("overdue_count_6m_non_negative"),
            rule="overdue_count_6m_non_negative")),
    entry(Bad("overdue_count_6m_null", "overdue_count_6m null", update(REPAYMENTS, "overdue_count_6m = null"),
            "quarantine", ROW_RULE.format("overdue_count_6m_present"),
            rule="overdue_count_6m_present")),
    # ---- rows missing for some accounts: those accounts are held ----
    entry(Bad("score_rows_missing_for_some_accounts", "5 accounts without a score row (feed 99.75 % complete)",
              delete_rows(SCORES), "hold", "features.has_missing_snapshot -> guardrail MISSING_SNAPSHOT")),
    entry(Bad("repayment_rows_missing_for_some_accounts", "5 accounts without a repayment row",
              delete_rows(REPAYMENTS), "hold", "features.has_missing_snapshot -> guardrail MISSING_SNAPSHOT")),
    # ---- duplicates: the primary keys refuse them ----
    entry(Bad("duplicate_score_row", "a second score row for an (account, date) that has one",
              duplicate_row(SCORES), "impossible_by_schema",
              "primary key (snapshot_date, account_id); quality.py account_id_unique would catch it "
              "on a table without the key")),
    entry(Bad("duplicate_repayment_row", "a second repayment row for an (account, date) that has one",
              duplicate_row(REPAYMENTS), "impossible_by_schema",
              "primary key (snapshot_date, account_id); quality.py account_id_unique would catch it "
              "on a table without the key")),
    # ---- rows outside the review's reach: ignored ----
    entry(Bad("security_event_after_review_date", "account_takeover_suspected dated the day after",
              security_event(NEXT_DAY), "ignored",
              "extract_review_inputs.sql: event_date <= :review_date", inside=security_event(D))),
    entry(Bad("income_verification_in_future", "a verified income dated the day after",
              income_verification(NEXT_DAY), "ignored",
              "extract_review_inputs.sql: verified_date <= :review_date", inside=income_verification(D))),
    entry(Bad("snapshot_dated_after_review_date",
              "score 350 and 100 days past due for every account, dated the day after",
              snapshot_for(NEXT_DAY), "ignored",
              "extract_review_inputs.sql joins snapshot_date = :review_date; previous and baseline "
              "scores are < :review_date", inside=snapshot_for(D))),
    entry(Bad("duplicate_security_event", "every security event of the date delivered twice (new event ids)",
              duplicate_security_events, "ignored",
              "v1's security rules test counts > 0, so a double count decides nothing "
              "(the recorded security_events evidence does double)")),
    # ---- optional feeds missing: the rules reading them do not fire ----
    entry(Bad("spending_snapshot_missing", "no spending_snapshots row for the review date",
              statements("delete from spending_snapshots where snapshot_date = :d"), "proceeds",
              "not validated: spending features are missing, so SPENDING_* conditions are false",
              lost_reasons=("SPENDING_",))),
    entry(Bad("credit_inquiry_snapshot_missing", "no credit_inquiry_snapshots row for the review date",
              statements("delete from credit_inquiry_snapshots where snapshot_date = :d"), "proceeds",
              "not validated: bureau features are missing, so BORROWING_* and RESTORE_REDUCED_BORROWING "
              "conditions are false", lost_reasons=("BORROWING_", "RESTORE_REDUCED_BORROWING"))),
]


# --- the checks ------------------------------------------------------------------------------------

def _rows_for_date(engine, name: str) -> int:
    return scalar(engine, f"select count(*) from {name} where review_date = :d", d=D)


def _quarantined(engine) -> pd.DataFrame:
    with engine.connect() as conn:
        return pd.read_sql(text("select account_id, rule, table_name, bad_value from quarantined_rows "
                                "where review_date = :d and run_mode = 'live'"), conn, params={"d": D})


def _assert_same(after: pd.DataFrame, base: pd.DataFrame, ids) -> None:
    ids = pd.Index(sorted(ids))
    pd.testing.assert_frame_equal(after.loc[ids], base.loc[ids])


def _with_reason(frame: pd.DataFrame, prefixes: tuple[str, ...]) -> pd.Index:
    reasons = frame[["reason_1", "reason_2", "reason_3", "reason_4"]].fillna("")
    hit = pd.concat([reasons[c].str.startswith(prefixes) for c in reasons.columns], axis=1).any(axis=1)
    return frame.index[hit]


@pytest.mark.parametrize("bad", CATALOGUE)
def test_bad_input_has_its_expected_outcome(bad: Bad, warehouse, baseline):
    load_portfolio(warehouse, accounts=ACCOUNTS, bad_row_rate=0)

    if bad.outcome == "impossible_by_schema":
        with pytest.raises(exc.IntegrityError, match="(?i)unique|primary key"), warehouse.begin() as conn:
            bad.damage(conn, baseline)
        stages.review(SECOND_DATE)  # the refused insert left nothing behind
        pd.testing.assert_frame_equal(decisions(warehouse), baseline)
        return

    with warehouse.begin() as conn:
        damaged = bad.damage(conn, baseline)
    assert damaged is None or len(damaged) > 0, "the entry found no account to damage"
    accounts_before = table(warehouse, "accounts")

    if bad.outcome == "stop":
        with pytest.raises(bad.error) as failure:
            stages.review(SECOND_DATE)
        message = str(failure.value)
        for fragment in bad.fragments:
            assert fragment in message, f"{fragment!r} not in: {message}"
        if bad.retryable is not None:
            assert failure.value.retryable is bad.retryable
        for name in OUTPUT_TABLES:
            assert _rows_for_date(warehouse, name) == 0, name
        pd.testing.assert_frame_equal(table(warehouse, "accounts"), accounts_before)
        if bad.error is QualityGateError:  # the gate's results are kept for the operator
            assert scalar(warehouse, "select status from review_runs where review_date = :d and run_mode = 'live'",
                          d=D) == "failed"
            assert scalar(warehouse, "select count(*) from quality_results where review_date = :d and not success",
                          d=D) >= 1
        return

    stages.review(SECOND_DATE)
    after = decisions(warehouse)
    quarantined = _quarantined(warehouse)

    if bad.outcome == "quarantine":
        assert damaged, "the entry damaged no row"
        assert set(quarantined["account_id"]) == set(damaged)
        assert set(quarantined["rule"]) == {bad.rule}
        known = [i for i in damaged if i in baseline.index]
        unknown = [i for i in damaged if i not in baseline.index]
        assert (after.loc[known, "action"] == "HOLD").all()
        assert (after.loc[known, "guardrail"] == "DATA_QUALITY_HOLD").all()
        assert (after.loc[known, "new_limit_fen"] == after.loc[known, "old_limit_fen"]).all()
        assert not after.index.isin(unknown).any()
        assert scalar(warehouse, f"select count(*) from limit_ledger where review_date = :d "
                                 f"and account_id in ({_id_list(damaged)})", d=D) == 0
        _assert_same(after, baseline, baseline.index.difference(known))
    elif bad.outcome == "hold":
        assert damaged and quarantined.empty
        assert (after.loc[damaged, "action"] == "HOLD").all()
        assert (after.loc[damaged, "guardrail"] == "MISSING_SNAPSHOT").all()
        _assert_same(after, baseline, baseline.index.difference(damaged))
    elif bad.outcome == "ignored":
        assert quarantined.empty
        pd.testing.assert_frame_equal(after, baseline)
    elif bad.outcome == "proceeds":
        assert quarantined.empty
        lost = _with_reason(baseline, bad.lost_reasons)
        assert len(lost) > 0, "the undamaged run has no decision these reasons could leave out"
        assert len(_with_reason(after, bad.lost_reasons)) == 0
        _assert_same(after, baseline, baseline.index.difference(lost))
    else:
        raise AssertionError(f"unknown outcome {bad.outcome}")


@pytest.mark.parametrize("bad", [p for p in CATALOGUE if p.values[0].inside is not None])
def test_ignored_rows_would_decide_inside_the_review_window(bad: Bad, warehouse, baseline):
    """The control of each ``ignored`` entry: the same rows dated inside the review's reach change
    the decisions of the damaged accounts, so the entry's equality check can fail."""
    load_portfolio(warehouse, accounts=ACCOUNTS, bad_row_rate=0)
    with warehouse.begin() as conn:
        damaged = bad.inside(conn, baseline)
    assert damaged
    stages.review(SECOND_DATE, approved=True)  # the breaker would hold so big a change
    after = decisions(warehouse).loc[damaged].fillna("-")
    assert after.ne(baseline.loc[damaged].fillna("-")).any(axis=1).all()
