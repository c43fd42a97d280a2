#!/bin/sh
# Entrypoint of the e2e stand-in for the official postgres image, written for
# this project from that image's documented contract (not its script):
# POSTGRES_PASSWORD (or POSTGRES_PASSWORD_FILE), POSTGRES_USER (default
# postgres), POSTGRES_DB (default: the user), POSTGRES_INITDB_ARGS,
# POSTGRES_HOST_AUTH_METHOD (default scram-sha-256), PGDATA; initdb runs only
# on an empty data directory; as root it drops to postgres (UID 999).
set -eu

if [ "${1:-postgres}" != postgres ]; then
	exec "$@"
fi

PGDATA="${PGDATA:-/var/lib/postgresql/data}"
export PGDATA
if [ "$(id -u)" = 0 ]; then
	mkdir -p "$PGDATA"
	chown postgres:postgres "$PGDATA"
	chmod 700 "$PGDATA"
	exec setpriv --reuid=999 --regid=999 --init-groups "$0" "$@"
fi

if [ -n "${POSTGRES_PASSWORD_FILE:-}" ]; then
	POSTGRES_PASSWORD="$(cat "$POSTGRES_PASSWORD_FILE")"
fi
POSTGRES_USER="${POSTGRES_USER:-postgres}"
POSTGRES_DB="${POSTGRES_DB:-$POSTGRES_USER}"
auth="${POSTGRES_HOST_AUTH_METHOD:-scram-sha-256}"

mkdir -p "$PGDATA"
chmod 700 "$PGDATA" 2>/dev/null || true

if [ ! -s "$PGDATA/PG_VERSION" ]; then
	if [ -z "${POSTGRES_PASSWORD:-}" ] && [ "$auth" != trust ]; then
		echo "Error: Database is uninitialized and superuser password is not specified." >&2
		echo "       Set POSTGRES_PASSWORD (or POSTGRES_PASSWORD_FILE) to a non-empty value." >&2
		exit 1
	fi
	pwfile="$(mktemp)"
	printf '%s' "${POSTGRES_PASSWORD:-}" > "$pwfile"
	# shellcheck disable=SC2086 # POSTGRES_INITDB_ARGS is a word list by contract
	initdb --username="$POSTGRES_USER" --pwfile="$pwfile" ${POSTGRES_INITDB_ARGS:-}
	rm -f "$pwfile"
	printf '\nhost all all all %s\n' "$auth" >> "$PGDATA/pg_hba.conf"
	echo "listen_addresses = '*'" >> "$PGDATA/postgresql.conf"
	if [ "$POSTGRES_DB" != postgres ]; then
		pg_ctl -D "$PGDATA" -o "-c listen_addresses=''" -w start
		printf 'CREATE DATABASE :"db";\n' | psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres -v db="$POSTGRES_DB"
		pg_ctl -D "$PGDATA" -m fast -w stop
	fi
	echo "PostgreSQL init process complete; ready for start up."
fi

exec "$@"
