-- security_events: account-security events raised by the fraud and identity systems.
-- Grain: one row per event.
-- event_type: account_takeover_suspected | device_change | sim_change | password_reset
create table if not exists security_events (
    event_id    bigint  not null primary key,
    account_id  bigint  not null,
    event_date  date    not null,
    event_type  text    not null
);
create index if not exists security_events_by_account_date on security_events (account_id, event_date);
