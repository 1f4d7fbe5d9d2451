-- First start of the compose stack: a separate database and role for the review warehouse,
-- beside Airflow's metadata database. The password matches POSTGRES_PASSWORD's default; change both.
create role plr login password 'airflow';
create database warehouse owner plr;
