#!/usr/bin/env bash
# Installs (if missing) and starts a local PostgreSQL server on 127.0.0.1, and creates the login role and
# the database the project uses (CLM_PG_USER, CLM_PG_DATABASE), so `CLM_TARGET=postgres make run` works
# next. Idempotent: safe to run when the server is already up.
set -euo pipefail
PG_USER="${CLM_PG_USER:-clm}"
PG_PASSWORD="${CLM_PG_PASSWORD:-clm}"
PG_PORT="${CLM_PG_PORT:-5432}"
PG_DATABASE="${CLM_PG_DATABASE:-clm}"

if ! ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1; then
  echo "installing PostgreSQL from Debian's packages"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq postgresql >/dev/null
fi
version=$(ls /usr/lib/postgresql | sort -n | tail -1)
if ! pg_lsclusters -h | awk -v v="$version" '$1==v && $2=="main"' | grep -q .; then
  pg_createcluster "$version" main >/dev/null
fi
if ! pg_lsclusters -h | awk -v v="$version" '$1==v && $2=="main" && $4=="online"' | grep -q .; then
  pg_ctlcluster "$version" main start -o "-c listen_addresses=127.0.0.1 -p $PG_PORT"
fi
for _ in $(seq 1 30); do
  pg_isready -h 127.0.0.1 -p "$PG_PORT" -q && break
  sleep 1
done
runuser -u postgres -- psql -p "$PG_PORT" -v ON_ERROR_STOP=1 -q <<SQL
do \$\$ begin
  if not exists (select from pg_roles where rolname = '${PG_USER}') then
    create role ${PG_USER} login createdb createrole password '${PG_PASSWORD}';
  end if;
end \$\$;
-- lets the tests drop their throwaway databases while an analyst session is still closing
grant pg_signal_backend to ${PG_USER};
select format('create database %I owner %I', '${PG_DATABASE}', '${PG_USER}')
where not exists (select from pg_database where datname = '${PG_DATABASE}') \gexec
SQL
echo "PostgreSQL $version is up on 127.0.0.1:$PG_PORT (role $PG_USER, database $PG_DATABASE)"
