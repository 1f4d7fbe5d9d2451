-- customer_profiles: contact details and protected attributes of each customer, kept apart from
-- the account master because no decision may read them. The report's fairness slice aggregates
-- them by group; nothing else reads them, and no report, log or XCom shows a phone number.
-- Grain: one row per customer. Every attribute may be unknown (null): not all lenders hold it.
create table if not exists customer_profiles (
    customer_id     bigint  not null primary key,
    phone_number    text,     -- E.164, e.g. +8613912345678
    birth_year      integer,
    sex             text,     -- female | male
    education       text,     -- graduate_school | university | high_school | other
    marital_status  text      -- married | single | other
);
