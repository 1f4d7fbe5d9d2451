-- Remove one customer's profile before the import writes the delivered one (run once per row, batched).
delete from customer_profiles where customer_id = :customer_id
