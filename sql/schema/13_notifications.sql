-- notifications: the customer notice of each applied change (an outbox: queued here, sent later by
-- dispatch.py, at least once; receivers deduplicate by notification_key).
-- Grain: one row per change per channel; notification_key makes a re-queue a no-op.
-- Delivery bookkeeping: attempts counts failed deliveries; a row is retried with exponential
-- backoff after last_attempt_at and parked as dead_letter once attempts reaches the maximum.
-- Timestamps are UTC.
create table if not exists notifications (
    notification_key  text       not null primary key,  -- review_date:account_id:channel
    account_id        bigint     not null,
    review_date       date       not null,
    channel           text       not null,
    language          text       not null,  -- zh-CN | en
    action            text       not null,
    title             text       not null,
    body              text       not null,
    status            text       not null,  -- queued | sent | dead_letter
    attempts          integer    not null default 0,  -- failed delivery attempts so far
    last_attempt_at   timestamp,             -- the latest delivery attempt (UTC)
    sent_at           timestamp,             -- when the sender accepted it (UTC)
    last_error        text,                  -- the error of the latest failed attempt
    unique (account_id, review_date, channel),
    check (status in ('queued', 'sent', 'dead_letter')),
    check (attempts >= 0)
);
create index if not exists notifications_by_date on notifications (review_date);
create index if not exists notifications_by_status on notifications (status, review_date);
