#!/usr/bin/env bash
# First start of the compose stack: a separate database and role for the review warehouse beside
# Airflow's metadata database, with the password from .env (PLR_WAREHOUSE_PASSWORD).
set -euo pipefail
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
     -v password="$PLR_WAREHOUSE_PASSWORD" <<'SQL'
create role plr login password :'password';
create database warehouse owner plr;
SQL
