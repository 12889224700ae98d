#!/usr/bin/env bash
# Bulk CLI work next to its floors, same server, same run (issue 16 item 3):
#   export      `cloakroom realm export` of a realm with $USERS users, to a file (its defaults)
#   export-small the same of a realm with $USERS/10 users (is its peak RSS flat?)
#   bare        the same user pages (first/max, 100 each, full representations) by a bash+curl loop
#   bare-$PAGE  the same loop over pages of $PAGE, the export's default page size
#   apply-1     `cloakroom realm apply` of $USERS new users into an empty realm, --parallel 1
#   apply-P     the same with --parallel $PARALLEL (the default is 4)
#   partial     Keycloak's own POST .../partialImport of the same users into an empty realm
# $REPS repetitions, the order rotated every repetition; every read runs after an untimed pass
# over the same users (see warm). Wall time, user+sys CPU and peak RSS
# (max RSS of the child from wait4, by GNU time) per sample, one JSON line each in $OUT.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
URL=${CLOAKROOM_BENCH_URL:?CLOAKROOM_BENCH_URL=http://127.0.0.1:PORT}
ADMIN=${CLOAKROOM_BENCH_ADMIN:-admin}
PASS=${CLOAKROOM_BENCH_PASSWORD:-admin}
USERS=${USERS:-10000}
REPS=${REPS:-5}
PARALLEL=${PARALLEL:-4}
PAGE=${PAGE:-500}
OUT=${OUT:-/dev/stdout}
B=${CLOAKROOM_BIN:-$PWD/target/release/cloakroom}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export CLOAKROOM_PASSWORD=$PASS CLOAKROOM_CONFIG_DIR=$work/cfg
cr() { "$B" --server "$URL" --user "$ADMIN" -q "$@"; }
tok() { cr token; }
kc() { # METHOD PATH [BODY-FILE]: an admin call by curl, status checked
    local args=(-sS -o /dev/null -w '%{http_code}' -X "$1" -H "Authorization: Bearer $(tok)" "$URL/admin/realms$2")
    [ $# -ge 3 ] && args+=(-H 'Content-Type: application/json' --data-binary "@$3")
    curl "${args[@]}"
}
src=bench-bulk-src-$USERS
small=bench-bulk-src-$((USERS / 10))
doc() { # REALM N FILE: a realm document with N users, and (for N = $USERS) the partialImport body
    python3 - "$1" "$2" "$3" "$work" <<'PY'
import json, sys
realm, n, out, work = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
users = [{"username": f"u{i:06}", "enabled": True, "email": f"u{i:06}@bench.test",
          "firstName": "B", "lastName": str(i)} for i in range(n)]
json.dump({"realm": realm, "enabled": True, "users": users}, open(out, "w"))
json.dump({"ifResourceExists": "FAIL", "users": users}, open(f"{work}/users.json", "w"))
PY
}
count() { curl -sf -H "Authorization: Bearer $(tok)" "$URL/admin/realms/$1/users/count" || echo 0; }
seed() { # REALM N
    if [ "$(count "$1")" -lt "$2" ]; then
        echo "seeding $1 with $2 users (a new realm: Keycloak's importer; kept for later runs)" >&2
        kc DELETE "/$1" >/dev/null || true
        doc "$1" "$2" "$work/seed.json"
        cr realm apply "$work/seed.json" >/dev/null
    fi
}
seed "$small" $((USERS / 10))
seed "$src" "$USERS"
doc "$src" "$USERS" "$work/doc.json"
fresh() { # an empty realm
    kc DELETE "/$1" >/dev/null || true
    printf '{"realm":"%s","enabled":true}' "$1" >"$work/realm.json"
    [ "$(kc POST "" "$work/realm.json")" = 201 ] || { echo "could not create realm $1" >&2; exit 1; }
}
bare() { # PAGE-SIZE [REALM]: every user page, one request at a time, until an empty page
    local token first=0 page realm=${2:-$src}
    token=$(tok)
    while :; do
        page=$(curl -sf -H "Authorization: Bearer $token" "$URL/admin/realms/$realm/users?first=$first&max=$1&briefRepresentation=false")
        [ "$page" = "[]" ] && break
        first=$((first + $1))
    done
}
export -f bare tok cr
export B URL ADMIN src PAGE
sample() { # REP OP GOT-REALM CMD...: one timed sample as a JSON line
    local rep=$1 op=$2 realm=$3; shift 3
    /usr/bin/time -f '%e %M %U %S' -o "$work/t" "$@" >/dev/null 2>"$work/err" || {
        echo "$op failed:" >&2; tail -n 20 "$work/err" >&2; exit 1; }
    local wall rss u s got=""
    read -r wall rss u s <"$work/t"
    [ -n "$realm" ] && got=$(count "$realm")
    printf '{"rep":%d,"op":"%s","wall_s":%s,"rss_kib":%s,"cpu_s":%s,"got":"%s","load":"%s"}\n' \
        "$rep" "$op" "$wall" "$rss" "$(awk -v u="$u" -v s="$s" 'BEGIN { printf "%.2f", u + s }')" "$got" "$(cut -d' ' -f1-3 /proc/loadavg)" >>"$OUT"
}
# Every read runs after an untimed pass over the same users, so that none is timed on a cold user
# cache (Keycloak keeps 10,000 users in its cache: an apply sample's 10,000 new users push the
# source realm's out, and whichever read came next would pay for it).
warm() { bare 1000 "$1"; }
run_op() {
    local rep=$1
    case $2 in export-small) warm "$small" ;; export | bare*) warm "$src" ;; esac
    case $2 in
    export) sample "$rep" export "" "$B" --server "$URL" --user "$ADMIN" -q realm export "$src" -o "$work/export.json" ;;
    export-small) sample "$rep" export-small "" "$B" --server "$URL" --user "$ADMIN" -q realm export "$small" -o "$work/export.json" ;;
    bare) sample "$rep" bare "" bash -c "bare 100" ;;
    bare-page) sample "$rep" "bare-$PAGE" "" bash -c "bare $PAGE" ;;
    apply-1) fresh bench-bulk-apply
        sample "$rep" apply-1 bench-bulk-apply "$B" --server "$URL" --user "$ADMIN" -q realm apply "$work/doc.json" --into bench-bulk-apply --parallel 1 ;;
    apply-P) fresh bench-bulk-apply
        sample "$rep" "apply-$PARALLEL" bench-bulk-apply "$B" --server "$URL" --user "$ADMIN" -q realm apply "$work/doc.json" --into bench-bulk-apply --parallel "$PARALLEL" ;;
    partial) fresh bench-bulk-pi
        tok >"$work/token"
        sample "$rep" partialImport bench-bulk-pi curl -sf -X POST -H "Authorization: Bearer $(cat "$work/token")" \
            -H 'Content-Type: application/json' --data-binary "@$work/users.json" "$URL/admin/realms/bench-bulk-pi/partialImport" ;;
    esac
}
ops=(export bare apply-1 export-small bare-page apply-P partial)
for rep in $(seq 0 $((REPS - 1))); do
    for i in "${!ops[@]}"; do
        run_op "$rep" "${ops[$(((i + rep) % ${#ops[@]}))]}"
    done
done
kc DELETE /bench-bulk-apply >/dev/null || true
kc DELETE /bench-bulk-pi >/dev/null || true
