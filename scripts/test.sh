#!/usr/bin/env bash
# Run the whole test suite: starts (or installs) Redis and PostgreSQL when needed, prepares the
# Python OpenAPI tools, then runs every test of the workspace. Extra arguments go to `cargo test`.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/services.sh

ensure_redis
ensure_postgres
ensure_python_tools

cargo test --workspace --locked "$@"
