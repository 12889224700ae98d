#!/usr/bin/env bash
# CLI benchmarks against a running Keycloak (not a test; prints figures).
#
#   crates/cloakroom-cli/bench/run.sh                 # server from CLOAKROOM_BENCH_URL or :18080
#   USERS=10000 RUNS=20 crates/cloakroom-cli/bench/run.sh
#
# 1. `cloakroom token` cold (empty cache: a password grant) and warm (cache hit), and
#    `cloakroom api GET /admin/realms/master` warm, vs `kcadm.sh config credentials` and
#    `kcadm.sh get realms/master` (same server, same run).
# 2. `cloakroom realm export` of a realm with $USERS users vs the same user pages fetched by a
#    bare curl loop, with wall time and peak RSS (GNU time).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../../.."
URL=${CLOAKROOM_BENCH_URL:-http://127.0.0.1:18080}
ADMIN=${CLOAKROOM_BENCH_ADMIN:-admin}
PASS=${CLOAKROOM_BENCH_PASSWORD:-admin}
RUNS=${RUNS:-10}
USERS=${USERS:-10000}
KCADM=${KCADM:-$(ls -d .cache/keycloak/keycloak-*/bin/kcadm.sh 2>/dev/null | head -n 1)}

cargo build --release -q -p cloakroom-cli
B=$PWD/target/release/cloakroom
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

now() { date +%s%N; }
# Runs "$@" RUNS times; prints median and min in ms.
measure() {
    local label=$1; shift
    local times=()
    for _ in $(seq "$RUNS"); do
        local t0 t1
        t0=$(now); "$@" >/dev/null 2>&1; t1=$(now)
        times+=($(( (t1 - t0) / 1000000 )))
    done
    local sorted
    sorted=$(printf '%s\n' "${times[@]}" | sort -n)
    printf '%-48s median %5s ms   min %5s ms   (%s runs)\n' "$label" \
        "$(echo "$sorted" | sed -n "$(( (RUNS + 1) / 2 ))p")" "$(echo "$sorted" | head -n 1)" "$RUNS"
}

export CLOAKROOM_PASSWORD=$PASS
cold() { local d; d=$(mktemp -d -p "$work"); CLOAKROOM_CONFIG_DIR=$d "$B" --server "$URL" --user "$ADMIN" token; }
warm_dir=$work/warm
CLOAKROOM_CONFIG_DIR=$warm_dir "$B" --server "$URL" --user "$ADMIN" token >/dev/null
warm() { CLOAKROOM_CONFIG_DIR=$warm_dir "$B" --server "$URL" --user "$ADMIN" token; }
warm_get() { CLOAKROOM_CONFIG_DIR=$warm_dir "$B" --server "$URL" --user "$ADMIN" api GET /admin/realms/master; }

echo "== token (server $URL)"
measure "cloakroom token (cold: grant)" cold
measure "cloakroom token (warm: cache hit)" warm
measure "cloakroom api GET /admin/realms/master (warm)" warm_get
if [ -n "$KCADM" ]; then
    kc_login() { "$KCADM" config credentials --config "$work/kcadm.config" --server "$URL" --realm master --user "$ADMIN" --password "$PASS"; }
    kc_get() { "$KCADM" get realms/master --config "$work/kcadm.config"; }
    kc_login >/dev/null 2>&1
    measure "kcadm.sh config credentials" kc_login
    measure "kcadm.sh get realms/master" kc_get
else
    echo "kcadm.sh not found (set KCADM=...): skipped"
fi

echo "== export of $USERS users"
realm=${REALM:-bench-export-$USERS}
if ! CLOAKROOM_CONFIG_DIR=$warm_dir "$B" --server "$URL" --user "$ADMIN" api GET "/admin/realms/$realm/users/count" >"$work/count" 2>/dev/null \
    || [ "$(cat "$work/count")" -lt "$USERS" ]; then
    echo "seeding $realm with $USERS users (realm apply; kept for later runs)"
    python3 - "$realm" "$USERS" >"$work/seed.json" <<'PY'
import json, sys
realm, n = sys.argv[1], int(sys.argv[2])
print(json.dumps({"realm": realm, "enabled": True, "users": [
    {"username": f"u{i:06}", "enabled": True, "email": f"u{i:06}@bench.test", "firstName": "B", "lastName": str(i)}
    for i in range(n)]}))
PY
    CLOAKROOM_CONFIG_DIR=$warm_dir "$B" --server "$URL" --user "$ADMIN" -q realm apply "$work/seed.json" >/dev/null
fi
/usr/bin/time -f '%e s wall, %M KiB peak RSS' -o "$work/t1" \
    env CLOAKROOM_CONFIG_DIR="$warm_dir" "$B" --server "$URL" --user "$ADMIN" -q realm export "$realm" -o "$work/export.json"
echo "cloakroom realm export (users + groups + roles):  $(cat "$work/t1")"
/usr/bin/time -f '%e s wall, %M KiB peak RSS' -o "$work/t2" \
    env CLOAKROOM_CONFIG_DIR="$warm_dir" "$B" --server "$URL" --user "$ADMIN" -q realm export "$realm" --no-users -o "$work/head.json"
echo "cloakroom realm export --no-users:                $(cat "$work/t2")"
token=$(CLOAKROOM_CONFIG_DIR=$warm_dir "$B" --server "$URL" --user "$ADMIN" token)
bare() {
    local first=0
    while :; do
        local page
        page=$(curl -sf -H "Authorization: Bearer $token" "$URL/admin/realms/$realm/users?first=$first&max=100&briefRepresentation=false")
        [ "$page" = "[]" ] && break
        first=$((first + 100))
    done
}
export -f bare; export token URL realm
/usr/bin/time -f '%e s wall, %M KiB peak RSS (bash)' -o "$work/t3" bash -c bare
echo "bare curl loop over the same user pages:          $(cat "$work/t3")"
echo "export size: $(du -h "$work/export.json" | cut -f1), users: $(python3 -c "import json,sys; print(len(json.load(open(sys.argv[1]))['users']))" "$work/export.json")"
