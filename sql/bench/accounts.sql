-- The benchmark's floor of every input: the accounts, read whole, with nothing else.
select * from accounts
