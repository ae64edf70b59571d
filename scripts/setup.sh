#!/usr/bin/env bash
# Idempotent set-up of everything Megatron needs on a Debian 12/13 machine:
#   1. Debian packages (PostgreSQL server binaries, python3-venv, chromium for the browser tests) — as root,
#      only when missing;
#   2. TimescaleDB (scripts/install-timescaledb.sh);
#   3. the virtual environment .venv with the pinned packages (requirements.lock).
# With DATABASE_URL set, steps 1–2 are skipped: that server is used instead of the embedded one.
# Quiet when everything is already in place.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

say() { printf 'setup: %s\n' "$*"; }
die() { printf 'setup: %s\n' "$*" >&2; exit 1; }

need_pkgs=()
# the browser the web-page tests drive (playwright via executable_path; nothing downloads a browser build)
[ -x /usr/bin/chromium ] || need_pkgs+=(chromium)
command -v runuser >/dev/null || need_pkgs+=(util-linux)
pick_python() {
    for py in python3.11 python3.12 python3.13 python3; do
        if command -v "$py" >/dev/null && "$py" -c 'import sys; sys.exit(not ((3, 11) <= sys.version_info[:2] < (3, 14)))' 2>/dev/null; then
            command -v "$py"
            return 0
        fi
    done
    return 1
}
python=$(pick_python || true)
if [ -z "$python" ]; then
    need_pkgs+=(python3 python3-venv)
elif ! "$python" -c 'import venv, ensurepip' 2>/dev/null; then
    need_pkgs+=(python3-venv)
fi

if [ -z "${DATABASE_URL:-}" ]; then
    if ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then
        . /etc/os-release
        case "${VERSION_CODENAME:-}" in
        bookworm) need_pkgs+=(postgresql-15) ;;
        *) ;;  # Debian 13: install-timescaledb.sh installs postgresql-17 with TimescaleDB
        esac
    fi
fi

if [ "${#need_pkgs[@]}" -gt 0 ]; then
    [ "$(id -u)" -eq 0 ] || die "missing Debian packages (${need_pkgs[*]}); run this script as root once, or install them."
    say "installing Debian packages: ${need_pkgs[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q >/dev/null
    apt-get install -y -q -o Dpkg::Use-Pty=0 --no-install-recommends "${need_pkgs[@]}" >/dev/null 2>&1 ||
        die "apt-get install ${need_pkgs[*]} failed."
    python=$(pick_python) || die "no Python 3.11 to 3.13 found after installing python3."
fi

if [ -z "${DATABASE_URL:-}" ]; then
    if ! ls /usr/share/postgresql/*/extension/timescaledb.control >/dev/null 2>&1; then
        [ "$(id -u)" -eq 0 ] || die "TimescaleDB is not installed; run scripts/install-timescaledb.sh as root once."
        bash scripts/install-timescaledb.sh
    fi
fi

# The venv: rebuilt when pyproject.toml or requirements.lock change.
stamp=.venv/.megatron-installed
want=$(cat pyproject.toml requirements.lock | sha256sum | cut -c1-16)
if [ ! -x .venv/bin/python ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    say "creating the virtual environment in $root/.venv (a few minutes the first time)"
    [ -x .venv/bin/python ] || "$python" -m venv .venv
    log=.venv/pip-install.log
    { .venv/bin/python -m pip install --disable-pip-version-check --upgrade pip &&
        .venv/bin/python -m pip install --disable-pip-version-check -c requirements.lock -e '.[test]'; } >"$log" 2>&1 ||
        { tail -n 25 "$log" >&2; die "installing Python packages failed (full log: $log)."; }
    echo "$want" >"$stamp"
    say "virtual environment ready"
fi
