#!/usr/bin/env bash
# Run once by the postgres image's entrypoint (/docker-entrypoint-initdb.d), when the data volume is
# empty: one user and one database (owned by that user) per service. <SERVICE>_DB_PASSWORD come from
# compose.yaml. To run it again, remove the volume: docker compose down -v
set -euo pipefail
for svc in catalog cart orders payments; do
  password_var="${svc^^}_DB_PASSWORD"
  echo "init-databases: creating user and database ${svc}"
  psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
    --set=svc="$svc" --set=pw="${!password_var}" <<'SQL'
CREATE USER :"svc" WITH PASSWORD :'pw';
CREATE DATABASE :"svc" OWNER :"svc";
SQL
done
