-- Update one known account from the lender's account file (run once per row, batched).
-- The lender's file owns the approved limit, cap, balance, segment, language and flags; the
-- reviews own current_limit_fen, limit_set_by_review_date and a freeze: an import never resets a
-- limit a review set, and only ever moves a status to 'closed' (never un-freezes an account).
update accounts
set segment = :segment,
    preferred_language = :preferred_language,
    approved_limit_fen = :approved_limit_fen,
    customer_cap_fen = :customer_cap_fen,
    outstanding_balance_fen = :outstanding_balance_fen,
    has_open_appeal = :has_open_appeal,
    refused_automated_decisions = :refused_automated_decisions,
    status = case when :status = 'closed' then 'closed' else status end
where account_id = :account_id
