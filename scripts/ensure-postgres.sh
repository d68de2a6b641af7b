#!/usr/bin/env bash
# Make sure a PostgreSQL server answers on 127.0.0.1:5432 for user postgres (trust auth),
# starting the local cluster, or installing Debian's server, when needed.
set -euo pipefail

answers() { pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; }

if answers; then exit 0; fi

if ! command -v pg_lsclusters >/dev/null; then
  echo "PostgreSQL is not installed: installing Debian's server..."
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
  version=$(ls /etc/postgresql | sort -n | tail -1)
  # Tests connect over TCP as postgres without a password, as on the CI machines.
  sed -i -E 's/^(host\s+all\s+all\s+127\.0\.0\.1\/32\s+)\S+/\1trust/' \
    "/etc/postgresql/$version/main/pg_hba.conf"
fi

version=$(pg_lsclusters -h | awk '{print $1; exit}')
echo "Starting PostgreSQL $version..."
pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
for _ in $(seq 1 30); do
  if answers; then exit 0; fi
  sleep 1
done
echo "PostgreSQL did not come up on 127.0.0.1:5432" >&2
exit 1
