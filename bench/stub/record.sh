#!/usr/bin/env bash
# Records the Keycloak answers the stub server replays (bench/stub/recorded/), from a real
# Keycloak: `cargo xtask keycloak start`, then
#   bench/stub/record.sh URL ADMIN PASSWORD
# (the URL and admin account are in .cache/keycloak/state.json). Makes realm `bench-stub`
# with 100 users, then saves with `curl -i`: the admin token answer, one user, a page of 100
# users, the count, the 201 of a create (with its Location), the 204 of a PUT and the master
# realm's discovery document. The server's ids and headers are kept as recorded; origin.txt
# names the server so the stub can put its own address in their place.
set -euo pipefail
URL=${1:?URL}
ADMIN=${2:?admin user}
PASSWORD=${3:?admin password}
OUT=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/recorded
REALM=bench-stub
mkdir -p "$OUT"

token() {
    curl -sf -X POST "$URL/realms/master/protocol/openid-connect/token" \
        --data-urlencode grant_type=password --data-urlencode client_id=admin-cli \
        --data-urlencode "username=$ADMIN" --data-urlencode "password=$PASSWORD" |
        python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])'
}
T=$(token)
auth=(-H "Authorization: Bearer $T")
json=(-H "Content-Type: application/json")

curl -sf -o /dev/null -X DELETE "${auth[@]}" "$URL/admin/realms/$REALM" || true
curl -sf "${auth[@]}" "${json[@]}" -X POST "$URL/admin/realms" \
    -d "{\"realm\":\"$REALM\",\"enabled\":true}"
for i in $(seq 0 98); do
    curl -sf "${auth[@]}" "${json[@]}" -X POST "$URL/admin/realms/$REALM/users" \
        -d "{\"username\":\"user-$i\",\"enabled\":true,\"email\":\"user-$i@example.com\",\"firstName\":\"Bench\",\"lastName\":\"User$i\"}"
done

# The recorded answers.
printf '%s' "$URL" >"$OUT/origin.txt"
curl -s -i -X POST "$URL/realms/master/protocol/openid-connect/token" \
    --data-urlencode grant_type=password --data-urlencode client_id=admin-cli \
    --data-urlencode "username=$ADMIN" --data-urlencode "password=$PASSWORD" >"$OUT/token.http"
curl -s -i "$URL/realms/master/.well-known/openid-configuration" >"$OUT/well-known.http"
curl -s -i "${auth[@]}" "${json[@]}" -X POST "$URL/admin/realms/$REALM/users" \
    -d '{"username":"user-99","enabled":true,"email":"user-99@example.com","firstName":"Bench","lastName":"User99"}' \
    >"$OUT/create.http"
ID=$(sed -n 's|^[Ll]ocation: .*/users/\([^[:space:]]*\).*|\1|p' "$OUT/create.http" | tr -d '\r')
curl -s -i "${auth[@]}" "$URL/admin/realms/$REALM/users/$ID" >"$OUT/user.http"
BODY=$(sed '1,/^\r$/d' "$OUT/user.http" | python3 -c 'import json,sys; u=json.load(sys.stdin); u["firstName"]="Put"; print(json.dumps(u))')
curl -s -i "${auth[@]}" "${json[@]}" -X PUT "$URL/admin/realms/$REALM/users/$ID" -d "$BODY" >"$OUT/update.http"
curl -s -i "${auth[@]}" "$URL/admin/realms/$REALM/users?first=0&max=100" >"$OUT/users-page.http"
curl -s -i "${auth[@]}" "$URL/admin/realms/$REALM/users/count" >"$OUT/count.http"
for f in "$OUT"/*.http; do
    printf '%-18s %s\n' "$(basename "$f")" "$(head -n 1 "$f" | tr -d '\r')"
done
