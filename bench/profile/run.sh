#!/usr/bin/env bash
# Where the time goes, for the targets `cargo xtask bench` reports as missed: CPU profiles by
# `perf record -e cpu-clock` (this VM has no hardware counters) of
#   verify    the RS256 verify benchmark (crates/cloakroom/benches/verify.rs, 1 and 2 threads)
#             next to `openssl speed rsa2048`, the figure it is compared with;
#   stub      cloakroom and the bare reqwest loop against bench/stub: create at c=64 and GET -> PUT
#             at c=1 (STUB_CASES: "op:concurrency:count ..." to choose others).
# Writes bench/results/profiles.md: per profile, the hottest symbols (self time) and the share of
# each library (DSO). Needs `perf` (Debian's linux-perf) and what `cargo xtask bench --only
# stub,verify` has built (.cache/bench/target). Run from anywhere; takes about a minute.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
root=$PWD
out=${OUT:-$root/bench/results/profiles.md}
seconds=${SECONDS_EACH:-5}
work=$(mktemp -d)
stub_pid=""
cleanup() {
    [ -n "$stub_pid" ] && kill "$stub_pid" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT
command -v perf >/dev/null || { echo "perf is missing: apt-get install -y linux-perf" >&2; exit 1; }

top() { # DATA TITLE [COMM]: the hottest symbols and the DSO shares, as markdown
    local data=$1 title=$2 comm=${3:-}
    local filter=()
    [ -n "$comm" ] && filter=(--comm "$comm")
    {
        echo "### $title"
        echo
        echo '```'
        perf report -i "$data" "${filter[@]}" --no-children --sort dso --stdio 2>/dev/null |
            grep -E '^ +[0-9.]+%' | head -8 || true
        echo
        perf report -i "$data" "${filter[@]}" --no-children --sort symbol --stdio 2>/dev/null |
            grep -E '^ +[0-9.]+%' | head -"${ROWS:-18}" | cut -c1-130 || true
        echo '```'
        echo
    } >>"$out"
}

# --- verify ---------------------------------------------------------------------------------------
cargo bench -q -p cloakroom --bench verify --no-run 2>/dev/null
verify_bin=$(cargo bench -p cloakroom --bench verify --no-run --message-format=json 2>/dev/null |
    python3 -c 'import json,sys
for l in sys.stdin:
    m = json.loads(l)
    if m.get("reason") == "compiler-artifact" and m["target"]["name"] == "verify" and m.get("executable"):
        print(m["executable"])')
{
    echo "# Profiles (\`bench/profile/run.sh\`)"
    echo
    echo "Generated $(date -u +%Y-%m-%dT%H:%M:%SZ) on $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)."
    echo "\`perf record -e cpu-clock -F 2999\`, ${seconds} s per measurement; self time per symbol."
    echo
} >"$out"
BENCH_ALG=RS256 BENCH_SECONDS=$seconds perf record -q -e cpu-clock -F 2999 -o "$work/verify.data" -- \
    "$verify_bin" --bench >"$work/verify.txt" 2>/dev/null
# Only the benchmark's own process: it starts `openssl genpkey` for its key, which perf follows.
vcomm=$(basename "$verify_bin" | cut -c1-15)
top "$work/verify.data" "cloakroom: JwtVerifier::verify, RS256, 1 then 2 threads ($(grep -o 'verify (RS256[^:]*: [0-9]* verifications/s' "$work/verify.txt" | paste -sd';'))" "$vcomm"
perf record -q -e cpu-clock -F 2999 -o "$work/openssl.data" -- \
    openssl speed -seconds "$seconds" rsa2048 >"$work/openssl.txt" 2>/dev/null
ROWS=6 top "$work/openssl.data" "openssl speed rsa2048 (sign and verify phases both, Debian's libcrypto has no symbols; $(grep -E '^rsa 2048' "$work/openssl.txt" | tr -s ' '))"

# --- stub -------------------------------------------------------------------------------------------
bin=$root/.cache/bench/target/release
[ -x "$bin/cloakroom-stub" ] && [ -x "$bin/cloakroom-bench" ] || {
    echo "run cargo xtask bench --only stub first (it builds $bin)" >&2; exit 1; }
"$bin/cloakroom-stub" "$root/bench/stub/recorded" 10000 >"$work/stub.out" &
stub_pid=$!
for _ in $(seq 50); do grep -q "listening on" "$work/stub.out" && break; sleep 0.1; done
url=http://$(sed -n 's/^listening on //p' "$work/stub.out")
for case in ${STUB_CASES:-create:64:20000 getput:1:10000}; do
    IFS=: read -r op c n <<<"$case"
    for who in cloakroom baseline; do
        BENCH_ADMIN_USER=admin BENCH_ADMIN_PASSWORD=admin perf record -q -e cpu-clock -F 2999 \
            -o "$work/$who.data" -- "$bin/cloakroom-bench" "$who" "$op" "$url" bench-stub "$n" "$c" \
            >"$work/$who.txt"
        top "$work/$who.data" "$who: $op against the stub, c=$c, $n operations ($(cat "$work/$who.txt"))" cloakroom-bench
    done
done
echo "wrote $out" >&2
