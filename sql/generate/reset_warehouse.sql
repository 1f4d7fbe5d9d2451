-- Empty every table before a synthetic portfolio is loaded: outputs first, then inputs.
-- Used by `plr generate` only; never by the nightly review.
delete from notifications;
delete from limit_ledger;
delete from decision_traces;
delete from limit_decisions;
delete from staged_traces;
delete from staged_decisions;
delete from review_inputs;
delete from quarantined_rows;
delete from quality_results;
delete from review_runs;
delete from income_verifications;
delete from credit_inquiry_snapshots;
delete from security_events;
delete from spending_snapshots;
delete from repayment_snapshots;
delete from credit_score_snapshots;
delete from accounts;
