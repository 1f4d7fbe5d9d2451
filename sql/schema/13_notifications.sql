-- notifications: the customer notice of each applied change (an outbox: queued here, sent later).
-- Grain: one row per change per channel; notification_key makes a re-queue a no-op.
create table if not exists notifications (
    notification_key  text    not null primary key,  -- review_date:account_id:channel
    account_id        bigint  not null,
    review_date       date    not null,
    channel           text    not null,
    language          text    not null,  -- zh-CN | en
    action            text    not null,
    title             text    not null,
    body              text    not null,
    status            text    not null,  -- queued | sent | failed
    unique (account_id, review_date, channel)
);
create index if not exists notifications_by_date on notifications (review_date);
