#!/usr/bin/env bash
# The main job on the default database: set up (first time), start the embedded cluster
# (unless DATABASE_URL is set), migrate, and load and report. See README.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/megatron demo "$@"
