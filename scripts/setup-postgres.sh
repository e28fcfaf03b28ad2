#!/usr/bin/env bash
# Make a local PostgreSQL (15+) with pgvector ready for the yanit tests.
# Idempotent: every step checks first, so a second run does nothing (~1 s).
# pgvector is built from Debian's trixie *source* package (bookworm ships none),
# using the archive URI and keyring already configured on this machine.
set -Eeuo pipefail

START=$(date +%s.%N)
DB_USER=yanit DB_NAME=yanit_test
DSN="postgres://${DB_USER}@127.0.0.1:5432/${DB_NAME}?sslmode=disable"
SRC_LIST=/etc/apt/sources.list.d/yanit-pgvector-src.sources

log() { echo "setup-postgres: $*"; }
die() { echo "setup-postgres: FAILED: $*" >&2; exit 1; }
trap 'echo "setup-postgres: FAILED (line $LINENO): $BASH_COMMAND" >&2' ERR

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || die "not root and sudo is not installed"
  SUDO=sudo
fi
if [ -z "$SUDO" ]; then CACHE=/var/cache/yanit; else CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/yanit"; fi
mkdir -p "$CACHE"
BUILD_LOG="$CACHE/setup-postgres.log"

apt_get() { $SUDO env DEBIAN_FRONTEND=noninteractive apt-get -y -q "$@" >>"$BUILD_LOG" 2>&1; }
# Run a step with output in $BUILD_LOG; on failure show its tail and name the step.
step() { local what=$1; shift; "$@" || { tail -n 25 "$BUILD_LOG" >&2; die "$what (log: $BUILD_LOG)"; }; }
# Run psql as the postgres superuser (peer auth on the socket, else TCP/trust).
pg_psql() {
  if [ -z "$SUDO" ]; then runuser -u postgres -- psql -X -q -v ON_ERROR_STOP=1 "$@"
  elif command -v sudo >/dev/null; then sudo -u postgres psql -X -q -v ON_ERROR_STOP=1 "$@"
  else psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -U postgres "$@"; fi
}

# --- 1. PostgreSQL server ----------------------------------------------------
if ! command -v pg_ctlcluster >/dev/null || [ -z "$(ls /usr/lib/postgresql 2>/dev/null)" ]; then
  log "installing postgresql from the distribution"
  step "apt-get update" apt_get update
  step "apt-get install postgresql" apt_get install --no-install-recommends postgresql postgresql-contrib
fi
MAJOR=$(ls /usr/lib/postgresql | sort -V | tail -n 1)
[ -n "$MAJOR" ] && [ "${MAJOR%%.*}" -ge 15 ] || die "PostgreSQL 15+ required, found '${MAJOR:-none}'"
PG_CONFIG=/usr/lib/postgresql/$MAJOR/bin/pg_config

# --- 2. cluster running and accepting connections ----------------------------
if ! pg_lsclusters -h | awk -v m="$MAJOR" '$1==m && $2=="main"' | grep -q .; then
  log "creating cluster $MAJOR/main"
  step "pg_createcluster $MAJOR main" $SUDO pg_createcluster "$MAJOR" main >>"$BUILD_LOG" 2>&1
fi
if ! pg_lsclusters -h | awk -v m="$MAJOR" '$1==m && $2=="main" && $4=="online"' | grep -q .; then
  log "starting cluster $MAJOR/main"
  $SUDO pg_ctlcluster --skip-systemctl-redirect "$MAJOR" main start || die "pg_ctlcluster $MAJOR main start"
fi
for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
pg_isready -q -h 127.0.0.1 -p 5432 || die "PostgreSQL not accepting connections on 127.0.0.1:5432 after 30 s"
log "PostgreSQL $MAJOR is up"

# --- 3. pgvector, built from Debian trixie's source package -----------------
# Print "URI SIGNED-BY" of the main Debian archive (not -security), read from the
# machine's deb822 .sources files, falling back to one-line sources.list format.
debian_archive() {
  local f
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] && awk '
      function flush() { if (types ~ /(^| )deb( |$)/ && uri != "" && uri !~ /-security/ && suites ~ /(^| )[a-z]+( |$)/ && !done) { print uri, sb; done=1 } types=uri=suites=sb="" }
      /^[ \t]*$/ { flush(); next }  /^#/ { next }
      /^Types:/ { types=$0; sub(/^Types:[ \t]*/, "", types) }
      /^URIs:/ { uri=$2 }  /^Suites:/ { suites=$0; sub(/^Suites:[ \t]*/, "", suites) }
      /^Signed-By:/ { sb=$2 }
      END { flush() }' "$f"
  done
  cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null | awk '
    $1=="deb" { sb=""; i=2; if ($2 ~ /^\[/) { while (i<=NF && $i !~ /\]$/) { if ($i ~ /signed-by=/) sb=$i; i++ }
                  if ($i ~ /signed-by=/) sb=$i; i++ }
                sub(/.*signed-by=/, "", sb); sub(/\]$/, "", sb)
                if ($i !~ /-security/ && $(i+1) ~ /^[a-z]+$/) print $i, sb }' || true
}

if [ -f "/usr/share/postgresql/$MAJOR/extension/vector.control" ]; then
  log "pgvector already installed for PostgreSQL $MAJOR"
else
  log "pgvector missing; building it from Debian source (log: $BUILD_LOG)"
  if [ ! -f "$SRC_LIST" ]; then
    read -r URI SIGNED_BY < <(debian_archive | head -n 1) || true
    [ -n "${URI:-}" ] || die "could not find the Debian archive URI in /etc/apt/sources.list*"
    log "adding deb-src for trixie from $URI"
    { printf 'Types: deb-src\nURIs: %s\nSuites: trixie\nComponents: main\n' "$URI"
      [ -z "${SIGNED_BY:-}" ] || printf 'Signed-By: %s\n' "$SIGNED_BY"; } | $SUDO tee "$SRC_LIST" >/dev/null
  fi
  # Only refresh our source list, keeping the other indexes untouched.
  APT_SRC_OPTS=(-o "Dir::Etc::sourcelist=$SRC_LIST" -o Dir::Etc::sourceparts=- -o APT::Get::List-Cleanup=0)
  step "apt-get update of $SRC_LIST" apt_get "${APT_SRC_OPTS[@]}" update
  log "installing build dependencies"
  step "install build deps" apt_get install --no-install-recommends build-essential "postgresql-server-dev-$MAJOR" dpkg-dev
  cd "$CACHE"
  SRC_DIR=$(ls -d pgvector-*/ 2>/dev/null | sort -V | tail -n 1 || true)
  if [ -z "$SRC_DIR" ]; then
    log "fetching pgvector source package"
    step "apt-get source pgvector" apt-get -q "${APT_SRC_OPTS[@]}" source pgvector/trixie >>"$BUILD_LOG" 2>&1
    SRC_DIR=$(ls -d pgvector-*/ | sort -V | tail -n 1)
  fi
  log "building ${SRC_DIR%/} against PostgreSQL $MAJOR"
  MAKE_ARGS=(USE_PGXS=1 "PG_CONFIG=$PG_CONFIG" OPTFLAGS=)
  step "make pgvector" make -C "$SRC_DIR" -j"$(nproc)" "${MAKE_ARGS[@]}" >>"$BUILD_LOG" 2>&1
  step "make install pgvector" $SUDO make -C "$SRC_DIR" "${MAKE_ARGS[@]}" install >>"$BUILD_LOG" 2>&1
  [ -f "/usr/share/postgresql/$MAJOR/extension/vector.control" ] || die "vector.control not installed"
fi

# --- 4. role, database, extension ---------------------------------------------
if [ "$(pg_psql -tAc "SELECT 1 FROM pg_roles WHERE rolname='$DB_USER'")" != 1 ]; then
  log "creating role $DB_USER"
  pg_psql -c "CREATE ROLE $DB_USER LOGIN SUPERUSER" || die "CREATE ROLE $DB_USER"
fi
if [ "$(pg_psql -tAc "SELECT 1 FROM pg_database WHERE datname='$DB_NAME'")" != 1 ]; then
  log "creating database $DB_NAME"
  pg_psql -c "CREATE DATABASE $DB_NAME OWNER $DB_USER" || die "CREATE DATABASE $DB_NAME"
fi
pg_psql -d "$DB_NAME" -c "SET client_min_messages = warning" -c "CREATE EXTENSION IF NOT EXISTS vector" || die "CREATE EXTENSION vector in $DB_NAME"

# The DSN has no password: make sure TCP logins of the test role are trusted.
if ! PGCONNECT_TIMEOUT=5 psql -X "$DSN" -tAc 'SELECT 1' >/dev/null 2>&1; then
  HBA=$(pg_psql -tAc 'SHOW hba_file')
  log "adding trust rule for $DB_USER@127.0.0.1 to $HBA"
  $SUDO sed -i "0,/^[[:space:]]*[a-z]/s//host $DB_NAME $DB_USER 127.0.0.1\/32 trust # yanit tests\n&/" "$HBA"
  pg_psql -c 'SELECT pg_reload_conf()' >/dev/null
  sleep 1
  psql -X "$DSN" -tAc 'SELECT 1' >/dev/null || die "cannot connect with $DSN"
fi

VERSION=$(psql -X "$DSN" -tAc "SELECT extversion FROM pg_extension WHERE extname='vector'")
log "pgvector $VERSION enabled in $DB_NAME"
log "test DSN: $DSN"
log "done in $(awk -v s="$START" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }') s"
