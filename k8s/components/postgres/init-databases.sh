#!/usr/bin/env bash
# Run once by the postgres image's entrypoint, when the data directory is empty (Kubernetes and
# compose.yaml both use this file):
# one database and one user (its owner) per service. Passwords come from <SERVICE>_PASSWORD (the
# postgres-credentials Secret in Kubernetes, the environment in compose.yaml).
set -euo pipefail
for svc in catalog cart orders payments; do
  password_var="${svc^^}_PASSWORD"
  echo "init-databases: creating user and database ${svc}"
  psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
    --set=svc="$svc" --set=pw="${!password_var}" <<'SQL'
CREATE USER :"svc" WITH PASSWORD :'pw';
CREATE DATABASE :"svc" OWNER :"svc";
SQL
done
