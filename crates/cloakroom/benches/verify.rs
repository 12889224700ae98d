//! Offline JWT verification throughput with a warm JWKS cache (not a test).
//!
//! Run by `cargo xtask bench --only verify`, which interleaves it with `openssl speed rsa2048 /
//! ecdsap256 / ed25519` (1 process and `-multi 2`). Alone: `cargo bench -p cloakroom --bench
//! verify`. Keycloak-shaped access tokens (about 1 KB of claims) signed RS256 (RSA-2048), ES256
//! and EdDSA; one verifier whose JWKS holds the three keys. Per repetition and algorithm it prints
//! one JSON line `{"alg", "threads", "rate"}` for 1 thread and for 2
//! threads (two OS threads sharing the verifier), then with `BENCH_BREAKDOWN=1` where the RS256
//! time goes (signature alone, decoding alone).
//!
//! Environment: `BENCH_SECONDS` per measurement (default 1), `BENCH_REPS` (default 1), `BENCH_ALG`
//! (one algorithm only),
//! `BENCH_KEY_PEM` (PKCS#8 RSA key; default: made with the `openssl` CLI), `BENCH_OUT` (directory
//! where the RS256 token and JWKS are written for other measurements).

mod verify_support;

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use cloakroom::Client;
use cloakroom::oidc::JwtVerifier;
use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

fn main() {
    // `cargo bench` passes `--bench`; nothing else is read from the command line.
    let seconds = env_u64("BENCH_SECONDS", 1);
    let reps = env_u64("BENCH_REPS", 1);
    let keys = verify_support::Keys::new();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let server = rt.block_on(MockServer::start());
    let issuer = format!("{}/realms/bench", server.uri());
    let jwks = keys.jwks();
    rt.block_on(
        Mock::given(method("GET"))
            .and(path("/realms/bench/protocol/openid-connect/certs"))
            .respond_with(ResponseTemplate::new(200).set_body_json(&jwks))
            .mount(&server),
    );
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("a clock after 1970")
        .as_secs();
    let claims = verify_support::keycloak_claims(&issuer, now);
    let tokens = keys.sign_all(&claims);
    if let Ok(dir) = std::env::var("BENCH_OUT") {
        let write = |name: &str, text: &str| {
            std::fs::write(format!("{dir}/{name}"), text).expect("BENCH_OUT is writable")
        };
        write("token.jwt", &tokens[0].1);
        write("jwks.json", &jwks.to_string());
        write("issuer.txt", &issuer);
    }
    let kc = Client::builder(server.uri()).build().expect("a client");
    let verifier = kc
        .oidc("bench")
        .verifier()
        .issuer(issuer)
        .audience("bench-api")
        .build()
        .expect("a verifier");
    // Warm the cache (the one JWKS fetch) and check every token passes.
    for (alg, token) in &tokens {
        rt.block_on(verifier.verify(token))
            .unwrap_or_else(|e| panic!("the {alg} token verifies: {e}"));
    }
    let budget = Duration::from_secs(seconds);
    // `BENCH_ALG=RS256` measures one algorithm only (for a profile).
    let only = std::env::var("BENCH_ALG").ok();
    for _ in 0..reps {
        for (alg, token) in &tokens {
            if only.as_deref().is_some_and(|o| o != *alg) {
                continue;
            }
            for threads in [1usize, 2] {
                let (rate, rate_cpu) = measure(&verifier, token, threads, budget);
                println!(
                    "{}",
                    json!({"alg": alg, "threads": threads, "rate": rate, "rate_cpu": rate_cpu})
                );
                if *alg == "RS256" && threads == 1 {
                    // The line bench/verify/run.sh (the full run's RS256 rows) reads.
                    println!(
                        "cloakroom JwtVerifier::verify (RS256, warm JWKS, 1 thread): {rate:.0} verifications/s"
                    );
                }
            }
        }
    }
    if std::env::var_os("BENCH_BREAKDOWN").is_some() {
        verify_support::breakdown(&tokens[0].1, &jwks);
    }
    let fetches = rt
        .block_on(server.received_requests())
        .map_or(0, |r| r.len());
    println!("{}", json!({"jwks_fetches": fetches}));
}

/// CPU time of the calling thread so far (`/proc/thread-self/schedstat`, nanoseconds), if known.
fn thread_cpu_ns() -> Option<u64> {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// Verifications of `token` on `threads` OS threads (each with its own current-thread runtime,
/// all sharing `verifier`): per wall-clock second, and per CPU second of each thread summed over
/// the threads (how `openssl speed` counts: its divisor is CPU time, and `-multi` sums the
/// processes), which a machine shared with other jobs disturbs far less.
fn measure(verifier: &JwtVerifier, token: &str, threads: usize, budget: Duration) -> (f64, f64) {
    let started = Instant::now();
    let per_thread: Vec<(u64, f64)> = std::thread::scope(|s| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                let v = verifier.clone();
                s.spawn(move || {
                    let rt = tokio::runtime::Builder::new_current_thread()
                        .build()
                        .expect("a runtime");
                    let cpu0 = thread_cpu_ns();
                    let n = rt.block_on(async {
                        let mut n = 0u64;
                        while started.elapsed() < budget {
                            for _ in 0..100 {
                                let c = v.verify(token).await.expect("the token verifies");
                                std::hint::black_box(c);
                            }
                            n += 100;
                        }
                        n
                    });
                    let cpu = match (cpu0, thread_cpu_ns()) {
                        (Some(a), Some(b)) if b > a => (b - a) as f64 / 1e9,
                        _ => f64::NAN,
                    };
                    (n, n as f64 / cpu)
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|w| w.join().expect("a bench thread"))
            .collect()
    });
    let total: u64 = per_thread.iter().map(|t| t.0).sum();
    (
        total as f64 / started.elapsed().as_secs_f64(),
        per_thread.iter().map(|t| t.1).sum(),
    )
}
