"""python-keycloak's decode_token on the token and key the Rust benchmark wrote.

The key is passed in (warm cache, as a careful caller would do): without `key`, decode_token
fetches the realm's certs on every call (python-keycloak #552).
"""

import json
import sys
import time

import keycloak
from jwcrypto import jwk
from keycloak import KeycloakOpenID

out, seconds = sys.argv[1], float(sys.argv[2])
token = open(f"{out}/token.jwt").read().strip()
jwks = json.load(open(f"{out}/jwks.json"))
issuer = open(f"{out}/issuer.txt").read().strip()
keys = jwk.JWKSet()
for k in jwks["keys"]:
    keys.add(jwk.JWK(**k))
kc = KeycloakOpenID(server_url="http://127.0.0.1:9/", realm_name="bench", client_id="bench-api")
checks = {"check_claims": {"iss": issuer, "aud": "bench-api", "exp": None}}
claims = kc.decode_token(token, key=keys, **checks)
assert claims["preferred_username"] == "alice"
n = 0
start = time.perf_counter()
while time.perf_counter() - start < seconds:
    for _ in range(20):
        kc.decode_token(token, key=keys, **checks)
    n += 20
rate = n / (time.perf_counter() - start)
print(
    f"python-keycloak {keycloak.__version__ if hasattr(keycloak, '__version__') else ''} "
    f"decode_token (RS256, key passed in, iss/aud/exp checked, 1 thread): {rate:.0f} verifications/s"
)
