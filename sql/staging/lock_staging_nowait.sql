-- On PostgreSQL: take the staging tables for this transaction alone, or fail at once (lock
-- not available) where another run's transaction is using them. Held until commit.
lock table review_inputs, staged_decisions, staged_traces in access exclusive mode nowait
