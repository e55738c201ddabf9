#!/usr/bin/env bash
# Run the whole test suite: starts (or installs) Redis and PostgreSQL when needed, prepares the
# Python OpenAPI tools and schemathesis, runs every test of the workspace on one Redis server,
# then the runtime and end-to-end test binaries again on a local three-master Redis Cluster with
# tasks in six partitions, two per master (scripts/redis-cluster.sh; CB_CLUSTER_TESTS=0 skips that
# pass), then every fuzz target for a
# bounded time (scripts/fuzz.sh; CB_FUZZ_SECONDS per target, 0 skips them). Extra arguments go to
# `cargo test` (those after `--` to the test binaries of the cluster pass as well).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/services.sh

ensure_redis
ensure_postgres
ensure_python_tools
ensure_browser_tools

cargo test --workspace --locked "$@"

# The runtime's and the root crate's `it` test binaries, as `<package dir> <executable>` lines,
# from the build above. Run by path rather than by `cargo test -p …`: selecting fewer packages
# unifies dependency features differently and would rebuild half the workspace.
cluster_test_binaries() {
  cargo test --workspace --locked --no-run --message-format=json "${cargo_args[@]}" 2>/dev/null | python3 -c '
import json, os, sys
for line in sys.stdin:
    m = json.loads(line)
    t = m.get("target", {})
    if m.get("reason") == "compiler-artifact" and m.get("executable") and t.get("name") == "it" \
            and m["manifest_path"] in (os.path.abspath("runtime/Cargo.toml"), os.path.abspath("Cargo.toml")):
        print(os.path.dirname(m["manifest_path"]), m["executable"])
'
}

if [ "${CB_CLUSTER_TESTS:-}" != 0 ]; then
  cargo_args=() test_args=() seen_dashes=""
  for arg in "$@"; do
    if [ -n "$seen_dashes" ]; then test_args+=("$arg")
    elif [ "$arg" = -- ]; then seen_dashes=1
    else cargo_args+=("$arg"); fi
  done
  mapfile -t binaries < <(cluster_test_binaries)
  if [ "${#binaries[@]}" -ne 2 ]; then
    log "expected the runtime's and the root crate's it test binaries, found: ${binaries[*]:-none}"
    exit 1
  fi
  cluster_out=$(scripts/redis-cluster.sh start)
  cluster_dir=$(sed -n 's/^CLUSTER_DIR=//p' <<<"$cluster_out")
  trap 'scripts/redis-cluster.sh stop "$cluster_dir"' EXIT
  export CLAUDEBENCH_TEST_REDIS_CLUSTER CLAUDEBENCH_TEST_PARTITIONS=6
  CLAUDEBENCH_TEST_REDIS_CLUSTER=$(sed -n 's/^REDIS_CLUSTER_NODES=//p' <<<"$cluster_out")
  # Drills whose fault and checks are on the SQL side (a database outage, NUL text, the PostgreSQL
  # twins of the SQLite create drills) are not repeated here: Redis plays the same part in them as
  # on one server, and they would add half a minute.
  # The browser test is about the pages; the Redis under the server changes nothing it checks.
  sql_side_drills=(--skip drills::postgres_refusing_connections_mid_load --skip drills::task_text_with_nul
    --skip drills::sustained_creates_reach_sql_exactly_once_postgres --skip browser::)
  for entry in "${binaries[@]}"; do
    read -r dir exe <<<"$entry"
    log "on the Redis Cluster $CLAUDEBENCH_TEST_REDIS_CLUSTER: $(realpath --relative-to="$PWD" "$dir")/tests/it"
    (cd "$dir" && "$exe" "${sql_side_drills[@]}" "${test_args[@]}")
  done
  scripts/redis-cluster.sh stop "$cluster_dir"
  trap - EXIT
fi

if [ "${CB_FUZZ_SECONDS:-}" != 0 ]; then
  ./scripts/fuzz.sh
fi
