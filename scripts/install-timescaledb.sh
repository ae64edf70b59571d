#!/usr/bin/env bash
# Install PostgreSQL + TimescaleDB for Megatron's embedded cluster.
#
#   Debian 13 (trixie):   apt installs postgresql-17 and postgresql-17-timescaledb.
#   Debian 12 (bookworm): Debian's timescaledb source package (trixie suite) is built
#                         against the installed PostgreSQL 15 and installed into it.
#                         The trixie deb-src entry lives in a temporary apt config only;
#                         the system's sources list is never touched.
#
# Idempotent: prints one line and exits when TimescaleDB is already installed.
# Needs root (apt). Anything else: point DATABASE_URL at an existing TimescaleDB.
set -euo pipefail

say() { printf 'install-timescaledb: %s\n' "$*"; }
die() { printf 'install-timescaledb: %s\n' "$*" >&2; exit 1; }

if [ "$(id -u)" -ne 0 ]; then
    die "must run as root (it installs Debian packages). To use an existing server instead, set DATABASE_URL."
fi

. /etc/os-release
codename="${VERSION_CODENAME:-}"
apt_quiet=(-y -q -o Dpkg::Use-Pty=0)
export DEBIAN_FRONTEND=noninteractive

have_timescaledb() {  # $1 = PostgreSQL major version
    ls "/usr/share/postgresql/$1/extension/timescaledb.control" >/dev/null 2>&1 &&
        ls "/usr/lib/postgresql/$1/lib/"timescaledb*.so >/dev/null 2>&1
}

apt_updated=0
apt_update_once() {
    if [ "$apt_updated" -eq 0 ]; then
        apt-get update -q >/dev/null
        apt_updated=1
    fi
}

case "$codename" in
trixie | forky | sid)
    pg=17
    if have_timescaledb "$pg"; then
        say "TimescaleDB for PostgreSQL $pg already installed."
        exit 0
    fi
    say "Debian $codename: installing postgresql-$pg and postgresql-$pg-timescaledb from Debian."
    apt_update_once
    apt-get install "${apt_quiet[@]}" --no-install-recommends "postgresql-$pg" "postgresql-$pg-timescaledb" >/dev/null 2>&1 ||
        die "apt-get install postgresql-$pg postgresql-$pg-timescaledb failed."
    ;;
bookworm)
    pg=15
    if have_timescaledb "$pg"; then
        say "TimescaleDB for PostgreSQL $pg already installed."
        exit 0
    fi
    say "Debian bookworm: building Debian's timescaledb source package (trixie) against PostgreSQL $pg."
    apt_update_once
    apt-get install "${apt_quiet[@]}" --no-install-recommends \
        "postgresql-$pg" "postgresql-server-dev-$pg" cmake make gcc dpkg-dev libssl-dev >/dev/null 2>&1 ||
        die "apt-get install of the build dependencies failed."
    work=$(mktemp -d /tmp/megatron-timescaledb.XXXXXX)
    trap 'rm -rf "$work"' EXIT
    mkdir -p "$work/lists/partial" "$work/cache/archives/partial"
    cat >"$work/trixie-src.sources" <<SRC
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: trixie
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
    # A private apt configuration: only the trixie source index, in a scratch directory.
    apt_tmp=(-o "Dir::Etc::SourceList=/dev/null" -o "Dir::Etc::SourceParts=$work/parts"
        -o "Dir::State::Lists=$work/lists" -o "Dir::Cache=$work/cache"
        -o "APT::Get::Download-Only=false" -o "APT::Sandbox::User=root")
    mkdir -p "$work/parts" && mv "$work/trixie-src.sources" "$work/parts/"
    say "fetching the trixie source index (temporary, under $work)."
    apt-get "${apt_tmp[@]}" update -q >/dev/null 2>&1
    (cd "$work" && apt-get "${apt_tmp[@]}" source -q timescaledb >"$work/source.log" 2>&1) ||
        { tail -n 20 "$work/source.log" >&2; die "apt-get source timescaledb failed."; }
    src=$(find "$work" -maxdepth 1 -type d -name 'timescaledb-*' | head -n 1)
    [ -n "$src" ] || die "apt-get source timescaledb produced no source tree in $work."
    say "building $(basename "$src") (Apache edition, as Debian ships it)."
    (
        cd "$src"
        ./bootstrap -DREGRESS_CHECKS=OFF -DTAP_CHECKS=OFF -DWARNINGS_AS_ERRORS=OFF \
            -DAPACHE_ONLY=ON -DSEND_TELEMETRY_DEFAULT=NO \
            -DPG_CONFIG="/usr/lib/postgresql/$pg/bin/pg_config" >"$work/bootstrap.log" 2>&1 ||
            { tail -n 30 "$work/bootstrap.log" >&2; exit 1; }
        make -C build -j"$(nproc)" >"$work/build.log" 2>&1 || { tail -n 30 "$work/build.log" >&2; exit 1; }
        make -C build install >"$work/install.log" 2>&1 || { tail -n 30 "$work/install.log" >&2; exit 1; }
    ) || die "building TimescaleDB failed (log above)."
    ;;
*)
    die "unsupported system '${PRETTY_NAME:-unknown}': Megatron installs TimescaleDB on Debian 12 or 13 only.
Point DATABASE_URL at an existing PostgreSQL with TimescaleDB instead, e.g.
  export DATABASE_URL=postgresql://user@host:5432/megatron"
    ;;
esac

have_timescaledb "$pg" || die "TimescaleDB files for PostgreSQL $pg are still missing after the install."
say "TimescaleDB installed for PostgreSQL $pg ($(ls /usr/lib/postgresql/$pg/lib/timescaledb-*.so | head -n1 | xargs basename))."
