#!/usr/bin/env bash
# Run once by the postgres image's entrypoint, when the data directory is empty (Kubernetes and
# compose.yaml both use this file):
# one database and one user (its owner) per service: one per variable <SERVICE>_PASSWORD (the
# postgres-credentials Secret in Kubernetes, the environment in compose.yaml), so a new service needs
# only its password there.
set -euo pipefail
for password_var in $(compgen -v | grep '_PASSWORD$' | grep -vx POSTGRES_PASSWORD); do
  svc=$(echo "${password_var%_PASSWORD}" | tr '[:upper:]' '[:lower:]')
  echo "init-databases: creating user and database ${svc}"
  psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
    --set=svc="$svc" --set=pw="${!password_var}" <<'SQL'
CREATE USER :"svc" WITH PASSWORD :'pw';
CREATE DATABASE :"svc" OWNER :"svc";
SQL
done
