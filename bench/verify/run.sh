#!/usr/bin/env bash
# Offline RS256 verification per second, three ways, in one run on this machine:
#   1. cloakroom's JwtVerifier with a warm JWKS cache (crates/cloakroom/benches/verify.rs)
#   2. `openssl speed -seconds N rsa2048` verify/s (the raw RSA-2048 public-key operation)
#   3. python-keycloak's decode_token with the same token and key (pinned version, venv in .cache/)
# Usage: bench/verify/run.sh [seconds]   (default 3). Not a test: it prints figures.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
ROOT=$PWD
SECS=${1:-3}
PYKC_VERSION=7.1.1
VENV=$ROOT/.cache/bench-venv
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT

if ! "$VENV/bin/python" -c "import keycloak, importlib.metadata as m; assert m.version('python-keycloak') == '$PYKC_VERSION'" 2>/dev/null; then
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install -q "python-keycloak==$PYKC_VERSION"
fi

openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$OUT/key.pem" 2>/dev/null

echo "== cloakroom"
BENCH_KEY_PEM=$OUT/key.pem BENCH_OUT=$OUT BENCH_SECONDS=$SECS BENCH_BREAKDOWN=1 \
    cargo bench -q -p cloakroom --bench verify 2>/dev/null | grep -E "verifications/s|decodes/s"

echo "== openssl"
openssl speed -seconds "$SECS" rsa2048 2>/dev/null | awk '
    /verify\/s/ { for (i = 1; i <= NF; i++) if ($i == "verify/s") col = i; header = NF }
    /^rsa[ ]+2048 bits/ && col { off = NF - header; printf "openssl speed rsa2048 (%s): %s verify/s\n", "'"$(openssl version | cut -d" " -f1-2)"'", $(col + off) }'

echo "== python-keycloak $PYKC_VERSION"
"$VENV/bin/python" "$ROOT/bench/verify/python_keycloak.py" "$OUT" "$SECS"
