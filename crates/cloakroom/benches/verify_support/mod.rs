//! Keys, tokens and the RS256 breakdown of the verification benchmark.

use std::time::{Duration, Instant};

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{self, EcdsaKeyPair, Ed25519KeyPair, KeyPair as _};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use cloakroom::SigningKey;
use serde_json::{Value, json};

/// The three signing keys: RSA-2048, P-256 and Ed25519.
pub struct Keys {
    rsa: SigningKey,
    p256: SigningKey,
    ed: Ed25519KeyPair,
}

const ED_KID: &str = "bench-ed25519";

impl Keys {
    pub fn new() -> Keys {
        let rng = SystemRandom::new();
        let rsa_pem = match std::env::var("BENCH_KEY_PEM") {
            Ok(p) => std::fs::read(p).expect("BENCH_KEY_PEM is readable"),
            Err(_) => {
                std::process::Command::new("openssl")
                    .args([
                        "genpkey",
                        "-algorithm",
                        "RSA",
                        "-pkeyopt",
                        "rsa_keygen_bits:2048",
                    ])
                    .output()
                    .expect("the openssl CLI makes the RSA key")
                    .stdout
            }
        };
        let p256 = EcdsaKeyPair::generate_pkcs8(&signature::ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
            .expect("a P-256 key");
        let ed = Ed25519KeyPair::generate_pkcs8(&rng).expect("an Ed25519 key");
        Keys {
            rsa: SigningKey::from_pkcs8(&rsa_pem).expect("an RSA PKCS#8 key"),
            p256: SigningKey::from_pkcs8(p256.as_ref()).expect("a P-256 PKCS#8 key"),
            ed: Ed25519KeyPair::from_pkcs8(ed.as_ref()).expect("an Ed25519 PKCS#8 key"),
        }
    }

    /// The realm's JWKS with the three public keys.
    pub fn jwks(&self) -> Value {
        json!({"keys": [
            self.rsa.public_jwk(),
            self.p256.public_jwk(),
            {"kty": "OKP", "crv": "Ed25519", "use": "sig", "alg": "EdDSA", "kid": ED_KID,
             "x": B64.encode(self.ed.public_key().as_ref())},
        ]})
    }

    /// `(alg, token)` for RS256, ES256 and EdDSA, all with `claims`.
    pub fn sign_all(&self, claims: &Value) -> Vec<(&'static str, String)> {
        let header = B64.encode(
            json!({"alg": "EdDSA", "typ": "JWT", "kid": ED_KID})
                .to_string()
                .as_bytes(),
        );
        let input = format!("{header}.{}", B64.encode(claims.to_string().as_bytes()));
        let sig = self.ed.sign(input.as_bytes());
        vec![
            (
                "RS256",
                self.rsa.sign_claims(claims).expect("RS256 signing"),
            ),
            (
                "ES256",
                self.p256.sign_claims(claims).expect("ES256 signing"),
            ),
            ("EdDSA", format!("{input}.{}", B64.encode(sig.as_ref()))),
        ]
    }
}

/// A Keycloak-shaped access token's claims (about 1 KB).
pub fn keycloak_claims(issuer: &str, now: u64) -> Value {
    json!({
        "exp": now + 86_400, "iat": now, "jti": "onrtro:5b2f3c1e-bench",
        "iss": issuer, "aud": ["bench-api", "account"], "sub": "8c1f6d2e-0000-4000-8000-000000000001",
        "typ": "Bearer", "azp": "bench-api", "sid": "2f1e1b9c-bench", "acr": "1",
        "allowed-origins": ["http://127.0.0.1:3000"],
        "realm_access": {"roles": ["default-roles-bench", "offline_access", "uma_authorization"]},
        "resource_access": {"account": {"roles": ["manage-account", "manage-account-links", "view-profile"]},
                            "bench-api": {"roles": ["reader", "writer"]}},
        "scope": "openid profile email", "email_verified": true, "name": "Alice Bench",
        "preferred_username": "alice", "given_name": "Alice", "family_name": "Bench",
        "email": "alice@example.com",
    })
}

fn rate(f: &mut dyn FnMut()) -> f64 {
    let started = Instant::now();
    let mut count = 0u64;
    while started.elapsed() < Duration::from_secs(1) {
        for _ in 0..100 {
            f();
        }
        count += 100;
    }
    count as f64 / started.elapsed().as_secs_f64()
}

/// Where the RS256 time goes: the RSA operation with SHA-256 of the signing input (aws-lc-rs,
/// key parsed once, as the verifier's JWKS cache keeps it), SHA-256 alone, and decoding alone.
pub fn breakdown(token: &str, jwks: &Value) {
    let k = &jwks["keys"][0];
    let n = B64
        .decode(k["n"].as_str().expect("n"))
        .expect("n is base64url");
    let e = B64
        .decode(k["e"].as_str().expect("e"))
        .expect("e is base64url");
    let (input, sig) = token.rsplit_once('.').expect("a JWS");
    let sig = B64.decode(sig).expect("the signature is base64url");
    let key =
        signature::ParsedPublicKey::new(&signature::RSA_PKCS1_2048_8192_SHA256, pkcs1_der(&n, &e))
            .expect("an RSA key");
    let rows = [
        (
            "signature alone (aws-lc-rs RSA PKCS#1 v1.5 incl. SHA-256 of the signing input, parsed key)",
            rate(&mut || key.verify_sig(input.as_bytes(), &sig).expect("valid")),
        ),
        (
            "SHA-256 of the signing input alone",
            rate(&mut || {
                std::hint::black_box(aws_lc_rs::digest::digest(
                    &aws_lc_rs::digest::SHA256,
                    input.as_bytes(),
                ));
            }),
        ),
        (
            "token decode alone (base64url + header + claims, no signature)",
            rate(&mut || {
                std::hint::black_box(cloakroom::oidc::insecure_decode(token).expect("decodes"));
            }),
        ),
    ];
    for (what, r) in &rows {
        println!("{}", json!({"breakdown": what, "alg": "RS256", "rate": r}));
    }
    // The lines bench/verify/run.sh (the full run's RS256 rows) reads.
    println!(
        "cloakroom signature check alone ({}): {:.0} verifications/s",
        rows[0].0, rows[0].1
    );
    println!(
        "cloakroom token decode alone ({}): {:.0} decodes/s",
        rows[2].0, rows[2].1
    );
}

/// PKCS#1 `RSAPublicKey` DER from big-endian modulus and exponent (both shorter than 64 KiB).
fn pkcs1_der(n: &[u8], e: &[u8]) -> Vec<u8> {
    fn der_len(l: usize) -> Vec<u8> {
        match l {
            0..0x80 => vec![l as u8],
            0x80..0x100 => vec![0x81, l as u8],
            _ => vec![0x82, (l >> 8) as u8, l as u8],
        }
    }
    fn int(v: &[u8]) -> Vec<u8> {
        let pad = v[0] & 0x80 != 0;
        let mut out = vec![0x02];
        out.extend(der_len(v.len() + usize::from(pad)));
        if pad {
            out.push(0);
        }
        out.extend_from_slice(v);
        out
    }
    let body = [int(n), int(e)].concat();
    let mut out = vec![0x30];
    out.extend(der_len(body.len()));
    out.extend(body);
    out
}
