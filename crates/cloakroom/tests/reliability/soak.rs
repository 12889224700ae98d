//! A bounded soak: mixed reads and writes at concurrency 32 on one cloned client, with 60 s
//! access tokens, for `CLOAKROOM_SOAK_SECS` seconds (default 130, so the token is renewed
//! several times). Checks: no errors, token requests only for renewals, sockets and tasks back
//! to their level before the run, resident memory flat after warm-up.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use cloakroom::generated::models::UserRepresentation;
use cloakroom::{Client, Credentials};
use serde_json::json;

use crate::{admin_via, server::test_server, unique};

const CONCURRENCY: usize = 32;
const LIFESPAN_SECS: u64 = 60;

fn sockets() -> usize {
    std::fs::read_dir("/proc/self/fd")
        .map(|d| {
            d.filter_map(|e| std::fs::read_link(e.ok()?.path()).ok())
                .filter(|l| l.to_string_lossy().starts_with("socket:"))
                .count()
        })
        .unwrap_or(0)
}

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|t| {
            t.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

fn percentile(sorted: &[u64], p: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn soak_mixed_load_with_token_renewals() {
    let secs: u64 = std::env::var("CLOAKROOM_SOAK_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(130);
    let server = test_server();
    let admin = admin_via(&server.url).build().unwrap();
    let realm = unique("soak");
    admin
        .raw()
        .post("/admin/realms")
        .json(&json!({
            "realm": realm,
            "enabled": true,
            "accessTokenLifespan": LIFESPAN_SECS,
            "clients": [{"clientId": "soak", "publicClient": false, "serviceAccountsEnabled": true,
                         "secret": "soak-client-secret-1"}],
            "users": [{"username": "service-account-soak", "enabled": true,
                       "serviceAccountClientId": "soak",
                       "clientRoles": {"realm-management": ["realm-admin"]}}],
        }))
        .send()
        .await
        .unwrap();
    let kc = Client::builder(&server.url)
        .auth_realm(&realm)
        .credentials(Credentials::client_credentials(
            "soak",
            "soak-client-secret-1",
        ))
        .pool_idle_timeout(Duration::from_secs(2))
        .build()
        .unwrap();
    // Warm up: log in, one call, then let idle connections go.
    kc.realm(&realm).users().list().max(1).send().await.unwrap();
    tokio::time::sleep(Duration::from_secs(3)).await;
    let metrics = tokio::runtime::Handle::current().metrics();
    let (sockets_before, tasks_before) = (sockets(), metrics.num_alive_tasks());
    let stats_before = kc.token_stats();

    let ops = Arc::new(AtomicU64::new(0));
    let errors = Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let deadline = Instant::now() + Duration::from_secs(secs);
    let started = Instant::now();
    let mut workers = Vec::new();
    for w in 0..CONCURRENCY {
        let (kc, realm, ops, errors) = (kc.clone(), realm.clone(), ops.clone(), errors.clone());
        workers.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            let mut i = 0u64;
            while Instant::now() < deadline {
                i += 1;
                let name = format!("w{w}-u{i}");
                let users = kc.realm(&realm).users();
                let t = Instant::now();
                let step = async {
                    let u: UserRepresentation = serde_json::from_value(json!({
                        "username": name, "enabled": true, "firstName": "S", "lastName": "K",
                        "email": format!("{name}@example.com"),
                    }))
                    .unwrap();
                    let id = users.create(&u).send().await?;
                    let one = kc.realm(&realm).user(&id);
                    let mut got = one.get().send().await?;
                    got.first_name = Some("Soaked".into());
                    one.update(&got).send().await?;
                    users.list().max(20).send().await?;
                    one.delete().send().await?;
                    Ok::<(), cloakroom::Error>(())
                };
                match step.await {
                    Ok(()) => {
                        ops.fetch_add(5, Ordering::Relaxed);
                        lat.push(t.elapsed().as_micros() as u64 / 5);
                    }
                    Err(e) => errors.lock().unwrap().push(e.to_string()),
                }
            }
            lat
        }));
    }
    let mut rss = Vec::new();
    let sampler = async {
        while Instant::now() < deadline {
            rss.push((started.elapsed().as_secs(), rss_kib()));
            tokio::time::sleep(Duration::from_secs(10)).await;
        }
    };
    sampler.await;
    let mut lat: Vec<u64> = Vec::new();
    for w in workers {
        lat.extend(w.await.unwrap());
    }
    let elapsed = started.elapsed().as_secs_f64();
    rss.push((started.elapsed().as_secs(), rss_kib()));
    lat.sort_unstable();
    // Idle: pooled connections expire after 2 s.
    tokio::time::sleep(Duration::from_secs(5)).await;
    let (sockets_after, tasks_after) = (sockets(), metrics.num_alive_tasks());
    let stats = kc.token_stats();
    let token_requests = stats.token_requests - stats_before.token_requests;
    let n = ops.load(Ordering::Relaxed);
    println!(
        "soak: {secs} s, concurrency {CONCURRENCY}: {n} calls ({:.0}/s), per call p50 {} µs p99 {} µs; \
         token requests during the run {token_requests} (lifespan {LIFESPAN_SECS} s); sockets {sockets_before} -> {sockets_after}; \
         tasks {tasks_before} -> {tasks_after}; RSS KiB by second {rss:?}",
        n as f64 / elapsed,
        percentile(&lat, 0.5),
        percentile(&lat, 0.99),
    );
    let errors = errors.lock().unwrap();
    assert!(
        errors.is_empty(),
        "{} errors, first: {:?}",
        errors.len(),
        errors.first()
    );
    assert!(n > 0);
    // Renewals only: the token is renewed when less than half its life (30 s) is left, so
    // about one request per 30 s; never one per call.
    let most = secs / (LIFESPAN_SECS / 2) + 2;
    assert!(
        token_requests <= most,
        "{token_requests} token requests, expected at most {most}"
    );
    if secs >= LIFESPAN_SECS {
        assert!(token_requests >= 1, "the token was never renewed");
    }
    // Connections: back to the warm-up level (+1 for a connection the last calls left that
    // has not been reaped yet).
    assert!(
        sockets_after <= sockets_before + 1,
        "sockets {sockets_before} -> {sockets_after}"
    );
    assert!(
        tasks_after <= tasks_before,
        "tasks {tasks_before} -> {tasks_after}"
    );
    // Memory: the last sample within 1.5× (or 16 MiB) of the one after the first 30 s.
    if let Some(&(_, warm)) = rss.iter().find(|(t, _)| *t >= 30) {
        let last = rss.last().unwrap().1;
        assert!(
            last <= (warm * 3 / 2).max(warm + 16 * 1024),
            "RSS grew from {warm} KiB (at 30 s) to {last} KiB: {rss:?}"
        );
    }
}
