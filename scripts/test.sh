#!/usr/bin/env bash
# Set up (first time) and run the whole test suite against a real PostgreSQL + TimescaleDB:
# the embedded cluster, or DATABASE_URL's server when it is set. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export PREFECT_SERVER_ANALYTICS_ENABLED=false
exec .venv/bin/pytest "$@"
