//! Offline RS256 verification throughput with a warm JWKS cache (not a test).
//!
//! Run through `bench/verify/run.sh`, which also measures `openssl speed rsa2048` and
//! python-keycloak's `decode_token` on the same token and key. Alone:
//! `cargo bench -p cloakroom --bench verify` (makes its own key with the `openssl` CLI).
//!
//! Environment: `BENCH_KEY_PEM` (PKCS#8 RSA key file), `BENCH_OUT` (directory where the token
//! and JWKS are written for the other measurements), `BENCH_SECONDS` (default 3).

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use cloakroom::{Client, SigningKey};
use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn main() {
    // `cargo bench` passes `--bench`; nothing else is read from the command line.
    let seconds: u64 = std::env::var("BENCH_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(3);
    let pem = match std::env::var("BENCH_KEY_PEM") {
        Ok(p) => std::fs::read(p).expect("BENCH_KEY_PEM is readable"),
        Err(_) => {
            let out = std::process::Command::new("openssl")
                .args([
                    "genpkey",
                    "-algorithm",
                    "RSA",
                    "-pkeyopt",
                    "rsa_keygen_bits:2048",
                ])
                .output()
                .expect("the openssl CLI makes the benchmark key");
            out.stdout
        }
    };
    let key = SigningKey::from_pkcs8(&pem).expect("an RSA PKCS#8 key");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async move {
        let server = MockServer::start().await;
        let issuer = format!("{}/realms/bench", server.uri());
        let jwks = json!({"keys": [key.public_jwk()]});
        Mock::given(method("GET"))
            .and(path("/realms/bench/protocol/openid-connect/certs"))
            .respond_with(ResponseTemplate::new(200).set_body_json(&jwks))
            .mount(&server)
            .await;
        let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs();
        // A Keycloak-shaped access token (about 1 KB).
        let token = key
            .sign_claims(&json!({
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
            }))
            .unwrap();
        if let Ok(dir) = std::env::var("BENCH_OUT") {
            std::fs::write(format!("{dir}/token.jwt"), &token).unwrap();
            std::fs::write(format!("{dir}/jwks.json"), jwks.to_string()).unwrap();
            std::fs::write(format!("{dir}/issuer.txt"), &issuer).unwrap();
        }
        let kc = Client::builder(server.uri()).build().unwrap();
        let verifier = kc
            .oidc("bench")
            .verifier()
            .issuer(issuer)
            .audience("bench-api")
            .build()
            .unwrap();
        // Warm the cache (the one JWKS fetch), then measure verification alone.
        verifier.verify(&token).await.unwrap();
        let budget = Duration::from_secs(seconds);
        let started = Instant::now();
        let mut n: u64 = 0;
        while started.elapsed() < budget {
            for _ in 0..100 {
                let c = verifier.verify(&token).await.unwrap();
                std::hint::black_box(c);
            }
            n += 100;
        }
        let per_s = n as f64 / started.elapsed().as_secs_f64();
        if std::env::var_os("BENCH_BREAKDOWN").is_some() {
            breakdown(&token, &jwks);
        }
        let fetches = server.received_requests().await.map_or(0, |r| r.len());
        println!("cloakroom JwtVerifier::verify (RS256, warm JWKS, 1 thread): {per_s:.0} verifications/s ({n} in {seconds} s, {fetches} JWKS fetch)");
    });
}

/// Where the time goes: the RSA operation alone (aws-lc-rs, key parsed once, as the verifier's
/// JWKS cache keeps it) and decoding alone.
fn breakdown(token: &str, jwks: &serde_json::Value) {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let k = &jwks["keys"][0];
    let n = b64.decode(k["n"].as_str().unwrap()).unwrap();
    let e = b64.decode(k["e"].as_str().unwrap()).unwrap();
    let (input, sig) = token.rsplit_once('.').unwrap();
    let sig = b64.decode(sig).unwrap();
    let rate = |f: &mut dyn FnMut()| {
        let started = Instant::now();
        let mut count = 0u64;
        while started.elapsed() < Duration::from_secs(1) {
            for _ in 0..100 {
                f();
            }
            count += 100;
        }
        count as f64 / started.elapsed().as_secs_f64()
    };
    let key = aws_lc_rs::signature::ParsedPublicKey::new(
        &aws_lc_rs::signature::RSA_PKCS1_2048_8192_SHA256,
        pkcs1_der(&n, &e),
    )
    .unwrap();
    let rsa = rate(&mut || key.verify_sig(input.as_bytes(), &sig).unwrap());
    let decode = rate(&mut || {
        std::hint::black_box(cloakroom::oidc::insecure_decode(token).unwrap());
    });
    println!(
        "cloakroom signature check alone (aws-lc-rs RSA PKCS#1 v1.5 + SHA-256 of the signing input, parsed key): {rsa:.0} verifications/s"
    );
    println!(
        "cloakroom token decode alone (base64url + header + claims, no signature): {decode:.0} decodes/s"
    );
}

/// PKCS#1 `RSAPublicKey` DER from big-endian modulus and exponent (both shorter than 64 KiB).
fn pkcs1_der(n: &[u8], e: &[u8]) -> Vec<u8> {
    fn int(v: &[u8]) -> Vec<u8> {
        let pad = v[0] & 0x80 != 0;
        let l = v.len() + usize::from(pad);
        let mut out = vec![0x02];
        out.extend(der_len(l));
        if pad {
            out.push(0);
        }
        out.extend_from_slice(v);
        out
    }
    fn der_len(l: usize) -> Vec<u8> {
        match l {
            0..0x80 => vec![l as u8],
            0x80..0x100 => vec![0x81, l as u8],
            _ => vec![0x82, (l >> 8) as u8, l as u8],
        }
    }
    let body = [int(n), int(e)].concat();
    let mut out = vec![0x30];
    out.extend(der_len(body.len()));
    out.extend(body);
    out
}
