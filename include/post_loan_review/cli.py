"""``plr``: the operator's command line over the same functions the DAG runs.

  plr init-db                       create the warehouse tables
  plr generate --accounts N         load a synthetic portfolio (replaces the warehouse content)
  plr review --date D [--dry-run]   the whole nightly review in-process
  plr explain --account ID --date D why an account got its decision
  plr summary --date D              the summary of a run and the path of its report
  plr latest-date                   the newest snapshot date in the warehouse
  plr policy check FILE             check a policy file
  plr policy diff A B               what changed between two policy files, in words
  plr simulate --policy FILE --date D   a candidate policy on a past date, compared; applies nothing
  plr dispatch [--max-batches N]    deliver the queued notifications (PLR_NOTIFY_SENDER), at least once
  plr import --date D PATH...       load a lender's snapshot files (input contract), all or nothing
  plr uci-export --out DIR          the UCI credit-card data as six months of contract files
  plr backtest [--policy V]         replay the UCI months through the pipeline, score against outcomes
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import date, timedelta

from post_loan_review import db


def _date(value: str) -> date:
    from post_loan_review.dates import parse_date

    try:
        return parse_date(value, "date")
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _init_db(_args) -> int:
    with db.engine().begin() as conn:
        tables = db.init_db(conn)
    print(f"warehouse ready: {len(tables)} tables at {db.engine().url.render_as_string(hide_password=True)}")
    return 0


def _generate(args) -> int:
    from post_loan_review import sample_data

    started = time.perf_counter()
    portfolio = sample_data.generate(args.accounts, seed=args.seed, end_date=args.end_date, days=args.days,
                                     bad_row_rate=args.bad_row_rate)
    with db.engine().begin() as conn:
        counts = sample_data.load(conn, portfolio)
    rows = ", ".join(f"{name} {count:,}" for name, count in counts.items())
    print(f"generated {args.accounts:,} accounts (seed {args.seed}), snapshot dates "
          f"{args.end_date - timedelta(days=args.days - 1)}..{args.end_date} in "
          f"{time.perf_counter() - started:.1f} s: {rows}")
    return 0


def _print_summary(review_date: date, run_mode: str) -> int:
    from post_loan_review import reports
    from post_loan_review.config import settings

    summary_path = settings().report_dir / review_date.isoformat() / run_mode / "summary.json"
    if not summary_path.is_file():
        print(f"no report for {review_date} ({run_mode}) at {summary_path}; run the review first", file=sys.stderr)
        return 1
    summary = json.loads(summary_path.read_text(encoding="utf-8"))
    print(reports.format_summary(summary))
    print(f"Report: {summary_path.parent / 'report.html'}")
    return 0


def _review(args) -> int:
    from post_loan_review import stages

    started = time.perf_counter()
    summary = stages.review(args.date, dry_run=args.dry_run, policy_version=args.policy, approved=args.approve,
                            shard_count=args.shards)
    stage_times = ", ".join(f"{stage} {secs:.1f}" for stage, secs in summary["stage_seconds"].items())
    print(f"review of {args.date} finished in {time.perf_counter() - started:.1f} s ({stage_times})")
    return _print_summary(args.date, "dry_run" if args.dry_run else "live")


def _summary(args) -> int:
    return _print_summary(args.date, "dry_run" if args.dry_run else "live")


def _explain(args) -> int:
    from post_loan_review.explain import explain

    with db.engine().connect() as conn:
        try:
            print(explain(conn, args.account, args.date, "dry_run" if args.dry_run else "live"))
        except LookupError as error:
            print(error, file=sys.stderr)
            return 1
    return 0


def _latest_date(_args) -> int:
    with db.engine().connect() as conn:
        value = conn.execute(db.statement("review/latest_snapshot_date", {})).scalar()
    if value is None:
        print("no snapshots in the warehouse; run plr generate first", file=sys.stderr)
        return 1
    print(str(value)[:10])
    return 0


def _policy_file(value: str):
    from pathlib import Path

    from post_loan_review.config import POLICY_DIR

    path = Path(value)
    if not path.suffix and not path.exists():  # a bare version names a file of include/policies
        path = POLICY_DIR / f"{value}.yaml"
    return path


def _policy_check(args) -> int:
    from post_loan_review.policy import load_policy_file

    policy = load_policy_file(_policy_file(args.file))
    challenger = f", challenger {policy.challenger.policy} ({policy.challenger.mode}, " \
                 f"{policy.challenger.share_pct:g} %)" if policy.challenger else ""
    print(f"{args.file}: policy {policy.version} is valid: {len(policy.lowering_rules)} lowering and "
          f"{len(policy.restoring_rules)} restoring rules over {len(policy.features)} features{challenger}")
    return 0


def _policy_diff(args) -> int:
    from post_loan_review.policy import load_policy_file
    from post_loan_review.policy_diff import diff

    old, new = load_policy_file(_policy_file(args.old)), load_policy_file(_policy_file(args.new))
    changes = diff(old, new)
    print(f"{old.version} -> {new.version}: " + (f"{len(changes)} change(s)" if changes else "no change"))
    for line in changes:
        print(f"  - {line}")
    return 0


def _simulate(args) -> int:
    from post_loan_review import simulation
    from post_loan_review.policy import load_policy_file

    candidate = load_policy_file(_policy_file(args.policy))
    summary = simulation.run_simulation(candidate, args.date)
    print(simulation.format_summary(summary))
    print(f"Report: {summary['report_path']}")
    return 0


def _dispatch(args) -> int:
    from post_loan_review import dispatch

    sender = dispatch.sender_from_env()
    started = time.perf_counter()
    result = dispatch.dispatch_notifications(db.engine(), sender, dispatch.system_clock,
                                             max_batches=args.max_batches)
    print(f"dispatched through {sender!r} in {time.perf_counter() - started:.1f} s: sent {result['sent']:,}, "
          f"failed {result['failed']:,} (dead-lettered {result['dead_lettered']:,}), "
          f"still queued {result['remaining']:,}, in {result['batches']} batch(es)")
    return 0


def _import(args) -> int:
    from post_loan_review import imports

    started = time.perf_counter()
    try:
        written = imports.import_files(args.paths, args.date)
    except imports.ImportRefused as refused:
        print(f"plr import: {refused}", file=sys.stderr)
        return 2
    rows = ", ".join(f"{table} {count:,}" for table, count in written.items())
    print(f"imported {args.date} in {time.perf_counter() - started:.1f} s: {rows}")
    return 0


def _uci_export(args) -> int:
    from post_loan_review import uci

    written = uci.export(uci.read_uci(args.source or uci.DEFAULT_PATH, nrows=args.sample), args.out)
    print(f"wrote {len(written)} files under {args.out}: one folder per review date "
          f"({uci.MONTH_ENDS[0]} .. {uci.MONTH_ENDS[-1]}) and outcomes.csv; "
          f"import a month with: plr import --date {uci.MONTH_ENDS[0]} {args.out}/{uci.MONTH_ENDS[0]}")
    return 0


def _backtest(args) -> int:
    from post_loan_review import backtest, uci

    summary = backtest.run_uci(args.policy or backtest.DEFAULT_POLICY, sample=args.sample, database_url=args.database, out_dir=args.out,
                               source=args.source or uci.DEFAULT_PATH, shard_count=args.shards, progress=print)
    final = summary["final_review"]

    def pct(value):
        return "n/a" if value is None else f"{value:.1%}"

    print(f"backtest of {summary['policy']} on {summary['accounts']:,} accounts in {summary['wall_seconds']} s")
    for month in summary["tuning_window"]:
        m = summary["per_month"][month]
        print(f"  in window {month}: bad cut {pct(m['bad_cut_share'])}, good cut {pct(m['good_cut_share'])}, "
              f"AUC {m['auc_score'] or float('nan'):.4f} (60+ days past due later)")
    print(f"  review of {final['review_date']} vs the October default: defaulters cut {pct(final['bad_cut_share'])}, "
          f"non-defaulters cut {pct(final['good_cut_share'])}, defaulters' exposure cut "
          f"{pct(final['bad_exposure_cut_share'])}, AUC {final['auc_score'] or float('nan'):.4f}")
    print(f"Summary: {summary['summary_path']}")
    print(f"Report: {summary['report_path']}")
    return 0


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="plr", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = top.add_subparsers(dest="command", required=True)

    commands.add_parser("init-db", help="create the warehouse tables").set_defaults(run=_init_db)

    generate = commands.add_parser("generate", help="load a synthetic portfolio (replaces the warehouse content)")
    generate.add_argument("--accounts", type=int, default=100_000)
    generate.add_argument("--seed", type=int, default=7)
    generate.add_argument("--end-date", type=_date, default=date(2026, 11, 27), help="the latest snapshot date")
    generate.add_argument("--days", type=int, default=2, help="consecutive snapshot dates (at least 2 for drops)")
    generate.add_argument("--bad-row-rate", type=float, default=0.0002, help="share of snapshot rows broken on purpose")
    generate.set_defaults(run=_generate)

    review = commands.add_parser("review", help="run the whole nightly review for a date in-process")
    review.add_argument("--date", type=_date, required=True)
    review.add_argument("--dry-run", action="store_true", help="decide and report; apply and notify nothing")
    review.add_argument("--policy", default=None, help="policy version (default: PLR_POLICY or v1)")
    review.add_argument("--approve", action="store_true",
                        help="a person approves applying this run even if the portfolio breaker trips")
    review.add_argument("--shards", type=int, default=None,
                        help="validate, reassess and apply the book in this many shards, one after another "
                             "(default: PLR_SHARDS or 4); bounds memory by shard size")
    review.set_defaults(run=_review)

    explain = commands.add_parser("explain", help="why an account got its decision")
    explain.add_argument("--account", type=int, required=True)
    explain.add_argument("--date", type=_date, required=True)
    explain.add_argument("--dry-run", action="store_true", help="explain the dry run's decision")
    explain.set_defaults(run=_explain)

    summary = commands.add_parser("summary", help="the summary of a finished run and its report path")
    summary.add_argument("--date", type=_date, required=True)
    summary.add_argument("--dry-run", action="store_true")
    summary.set_defaults(run=_summary)

    commands.add_parser("latest-date", help="the newest snapshot date").set_defaults(run=_latest_date)

    simulate = commands.add_parser("simulate", help="what a candidate policy would have decided on a past date (applies nothing)")
    simulate.add_argument("--policy", required=True, help="a policy file, or a version of include/policies")
    simulate.add_argument("--date", type=_date, required=True, help="the review date to simulate")
    simulate.set_defaults(run=_simulate)

    dispatch = commands.add_parser("dispatch", help="deliver the queued notifications, at least once "
                                   "(sender: PLR_NOTIFY_SENDER=file|webhook|smtp)")
    dispatch.add_argument("--max-batches", type=int, default=None,
                          help="stop after N batches (default: until nothing is due)")
    dispatch.set_defaults(run=_dispatch)

    importer = commands.add_parser("import", help="load a lender's snapshot files for a date (docs/input-contract.md); "
                                   "a bad file refuses the whole import")
    importer.add_argument("--date", type=_date, required=True, help="the snapshot date the files are for")
    importer.add_argument("paths", nargs="+", help="files named <table>.csv|.parquet, or folders of them")
    importer.set_defaults(run=_import)

    export = commands.add_parser("uci-export", help="write the UCI credit-card data as contract files per month")
    export.add_argument("--out", required=True, help="the folder to write into")
    export.add_argument("--source", default=None, help="the UCI CSV file (default ../shared/data/uci_credit_card/)")
    export.add_argument("--sample", type=int, default=None, help="the first N accounts only")
    export.set_defaults(run=_uci_export)

    backtest = commands.add_parser("backtest", help="replay the UCI months through the pipeline with a policy and "
                                   "score the decisions against later outcomes (docs/backtest.md)")
    backtest.add_argument("--policy", default=None,
                          help="policy version (default v4: tuned in-window for this backtest, docs/backtest.md)")
    backtest.add_argument("--sample", type=int, default=None, help="the first N accounts only (default: all 30,000)")
    backtest.add_argument("--database", default=None,
                          help="the backtest's own warehouse URL, rebuilt (default .local/backtest/warehouse.db)")
    backtest.add_argument("--out", default=None, help="report folder (default <reports>/backtest/<policy>)")
    backtest.add_argument("--source", default=None, help="the UCI CSV file (default ../shared/data/uci_credit_card/)")
    backtest.add_argument("--shards", type=int, default=1, help="shards of each month's review (default 1)")
    backtest.set_defaults(run=_backtest)

    policy = commands.add_parser("policy", help="check and compare policy files").add_subparsers(
        dest="policy_command", required=True)
    check = policy.add_parser("check", help="check a policy file (a path, or a version of include/policies)")
    check.add_argument("file")
    check.set_defaults(run=_policy_check)
    compare = policy.add_parser("diff", help="what changed from policy A to policy B, in words")
    compare.add_argument("old")
    compare.add_argument("new")
    compare.set_defaults(run=_policy_diff)
    return top


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return args.run(args)
    except Exception as error:  # operators get one clear line; tracebacks with PLR_DEBUG=1
        import os

        if os.environ.get("PLR_DEBUG"):
            raise
        from sqlalchemy.exc import DBAPIError

        # a database error's own message, not the whole statement it came from
        message = f"{type(error.orig).__name__}: {error.orig}" if isinstance(error, DBAPIError) else \
            f"{type(error).__name__}: {error}"
        print(f"plr {args.command}: {message}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
