//! `cloakroom-bench <contender> <op> URL REALM N CONCURRENCY`
//!
//! contender: `baseline` (a bare reqwest loop with one admin token, re-fetched only if it is about
//! to expire), `cloakroom` (the async library), `cloakroom-blocking` (`cloakroom::blocking`, std
//! threads for concurrency) or `keycloak-crate` (the `keycloak` crate from crates.io, its
//! `KeycloakAdmin` with the `KeycloakAdminToken` its README acquires). op: `create` (N users `user-0..`, CONCURRENCY in
//! flight) or `list` (every user of REALM, pages of 100). Setup ops, baseline only: `reset`
//! (delete and recreate REALM) and `seed` (make REALM hold exactly N users `seed-0..`).
//! `getput` (every contender): GET then PUT the first N users of REALM. `stampede` (every contender): log in to REALM as its `stamp-admin`, make one call, sleep N + 1
//! seconds (N = the realm's access-token lifespan), then make CONCURRENCY calls at once; count =
//! calls that succeeded. Setup ops for it, baseline only: `stampede-setup` (recreate REALM with an
//! N-second token lifespan, login events and `stamp-admin`), `events-clear`, `events-count`
//! (token-endpoint events recorded by the server: the token requests made).
//! Admin account from `BENCH_ADMIN_USER` / `BENCH_ADMIN_PASSWORD`. Prints one JSON line:
//! `{"seconds": <time of the op after login>, "count": <users created or listed>}`.

use std::time::{Duration, Instant};

use futures_util::{StreamExt, TryStreamExt};
use serde_json::{Value, json};

type Res<T> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

fn user_json(prefix: &str, i: usize) -> Value {
    json!({
        "username": format!("{prefix}{i}"),
        "enabled": true,
        "email": format!("{prefix}{i}@example.com"),
        "firstName": "Bench",
        "lastName": format!("User{i}"),
    })
}

fn main() {
    let a: Vec<String> = std::env::args().skip(1).collect();
    if a.len() < 5 {
        eprintln!(
            "usage: cloakroom-bench <baseline|cloakroom|cloakroom-blocking|keycloak-crate> <op> URL REALM N [CONCURRENCY]"
        );
        std::process::exit(2);
    }
    let n: usize = a[4].parse().expect("N");
    let c: usize = a
        .get(5)
        .map(|s| s.parse().expect("CONCURRENCY"))
        .unwrap_or(1);
    // The blocking facade refuses to run inside a Tokio runtime, so only the async contenders
    // get one (the multi-threaded runtime `#[tokio::main]` builds).
    let r = match a[0].as_str() {
        "cloakroom-blocking" => blocking_run(&a[1], &a[2], &a[3], n, c),
        contender => tokio::runtime::Runtime::new()
            .map_err(Into::into)
            .and_then(|rt| {
                rt.block_on(async {
                    match contender {
                        "baseline" => baseline(&a[1], &a[2], &a[3], n, c).await,
                        "cloakroom" => cloakroom_run(&a[1], &a[2], &a[3], n, c).await,
                        "keycloak-crate" => keycloak_crate(&a[1], &a[2], &a[3], n, c).await,
                        other => Err(format!("unknown contender {other}").into()),
                    }
                })
            }),
    };
    match r {
        Ok((seconds, count)) => {
            let (cpu, allocs) = since_mark();
            println!(
                "{}",
                json!({"seconds": seconds, "count": count, "peak_rss_kib": peak_rss_kib(),
                       "cpu_seconds": cpu, "allocations": allocs})
            )
        }
        Err(e) => {
            eprintln!("cloakroom-bench: {e}");
            std::process::exit(1);
        }
    }
}

/// Counts every allocation of this process (the stub rows report allocations per call).
struct Counting;

static ALLOCATIONS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

// SAFETY: every call is passed to the system allocator unchanged; only a counter is added.
unsafe impl std::alloc::GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: std::alloc::Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        unsafe { std::alloc::System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: std::alloc::Layout) {
        unsafe { std::alloc::System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: std::alloc::Layout, size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        unsafe { std::alloc::System.realloc(ptr, layout, size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// CPU seconds and allocation count when the measured operation started.
static MARK: std::sync::Mutex<(f64, u64)> = std::sync::Mutex::new((0.0, 0));

/// Starts the clock of the measured operation: wall time, CPU time and allocations.
fn mark() -> Instant {
    *MARK.lock().unwrap_or_else(|p| p.into_inner()) = (
        cpu_seconds(),
        ALLOCATIONS.load(std::sync::atomic::Ordering::Relaxed),
    );
    Instant::now()
}

/// CPU seconds (user + system, every thread) and allocations since [`mark`].
fn since_mark() -> (f64, u64) {
    let (cpu, allocs) = *MARK.lock().unwrap_or_else(|p| p.into_inner());
    (
        cpu_seconds() - cpu,
        ALLOCATIONS.load(std::sync::atomic::Ordering::Relaxed) - allocs,
    )
}

/// `cpu_seconds()`: user + system CPU time of this process, shared with the stub server.
#[path = "../../stub/src/cpu.rs"]
mod cpu;
use cpu::cpu_seconds;

/// Peak resident set size of this process (`VmHWM`), KiB; 0 where /proc is missing.
fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|t| {
            t.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

fn admin() -> (String, String) {
    (
        std::env::var("BENCH_ADMIN_USER").unwrap_or_else(|_| "admin".into()),
        std::env::var("BENCH_ADMIN_PASSWORD").unwrap_or_else(|_| "admin".into()),
    )
}

// ---- baseline ---------------------------------------------------------------------------------

struct Bare {
    http: reqwest::Client,
    url: String,
    token: tokio::sync::RwLock<(String, Instant, u64)>,
}

/// The account the stampede scenario logs in with, in the scenario's own realm.
const STAMP_USER: (&str, &str) = ("stamp-admin", "stamp-admin-password");

impl Bare {
    async fn login(http: &reqwest::Client, url: &str) -> Res<(String, Instant, u64)> {
        let (u, p) = admin();
        Self::login_as(http, url, "master", &u, &p).await
    }

    async fn login_as(
        http: &reqwest::Client,
        url: &str,
        realm: &str,
        u: &str,
        p: &str,
    ) -> Res<(String, Instant, u64)> {
        let v: Value = http
            .post(format!(
                "{url}/realms/{realm}/protocol/openid-connect/token"
            ))
            .form(&[
                ("grant_type", "password"),
                ("client_id", "admin-cli"),
                ("username", u),
                ("password", p),
            ])
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        let tok = v["access_token"]
            .as_str()
            .ok_or("no access_token")?
            .to_owned();
        Ok((tok, Instant::now(), v["expires_in"].as_u64().unwrap_or(60)))
    }

    /// The one token; fetched again only when fewer than 10 s of its life are left, so runs
    /// longer than the master realm's 60 s token lifespan still work.
    async fn token(&self) -> Res<String> {
        {
            let t = self.token.read().await;
            if t.1.elapsed() + Duration::from_secs(10) < Duration::from_secs(t.2) {
                return Ok(t.0.clone());
            }
        }
        let mut t = self.token.write().await;
        if t.1.elapsed() + Duration::from_secs(10) >= Duration::from_secs(t.2) {
            *t = Self::login(&self.http, &self.url).await?;
        }
        Ok(t.0.clone())
    }
}

async fn baseline(op: &str, url: &str, realm: &str, n: usize, c: usize) -> Res<(f64, usize)> {
    let http = reqwest::Client::new();
    let first = Bare::login(&http, url).await?;
    let b = Bare {
        http,
        url: url.to_owned(),
        token: tokio::sync::RwLock::new(first),
    };
    let started = mark();
    let count = match op {
        "create" => bare_create(&b, realm, "user-", 0..n, c).await?,
        // `c` listings of the whole realm at once, each paging on its own.
        "list" => futures_util::future::try_join_all((0..c.max(1)).map(|_| bare_list(&b, realm)))
            .await?
            .iter()
            .map(Vec::len)
            .sum(),
        "reset" => {
            let t = b.token().await?;
            let r = b
                .http
                .delete(format!("{url}/admin/realms/{realm}"))
                .bearer_auth(&t)
                .send()
                .await?;
            if r.status() != 404 {
                r.error_for_status()?;
            }
            b.http
                .post(format!("{url}/admin/realms"))
                .bearer_auth(&t)
                .json(&json!({"realm": realm, "enabled": true}))
                .send()
                .await?
                .error_for_status()?;
            0
        }
        "seed" => {
            let t = b.token().await?;
            let r = b
                .http
                .get(format!("{url}/admin/realms/{realm}"))
                .bearer_auth(&t)
                .send()
                .await?;
            if r.status() == 404 {
                b.http
                    .post(format!("{url}/admin/realms"))
                    .bearer_auth(&t)
                    .json(&json!({"realm": realm, "enabled": true}))
                    .send()
                    .await?
                    .error_for_status()?;
            }
            let have: usize = b
                .http
                .get(format!("{url}/admin/realms/{realm}/users/count"))
                .bearer_auth(&t)
                .send()
                .await?
                .error_for_status()?
                .json()
                .await?;
            if have > n {
                return Err(
                    format!("realm {realm} already holds {have} > {n} users; reset it").into(),
                );
            }
            if have == n {
                // Seeded by an earlier run (seeding only ever adds seed-* users): no listing,
                // which costs over 20 minutes at 100,000 users on this server.
                return Ok((0.0, n));
            }
            // Users are seed-0..seed-{n-1}; a partial earlier seed leaves a prefix of them.
            let existing: std::collections::HashSet<String> = bare_list(&b, realm)
                .await?
                .into_iter()
                .filter_map(|u| u["username"].as_str().map(str::to_owned))
                .collect();
            let missing: Vec<usize> = (0..n)
                .filter(|i| !existing.contains(&format!("seed-{i}")))
                .collect();
            bare_create(&b, realm, "seed-", missing, 8).await?;
            n
        }
        "get" => {
            let id = first_ids(&b, realm, 1)
                .await?
                .pop()
                .ok_or("the realm has no user")?;
            let u = format!("{url}/admin/realms/{realm}/users/{id}");
            let started = mark();
            let done: Vec<()> = futures_util::stream::iter(0..n)
                .map(|_| {
                    let (b, u) = (&b, &u);
                    async move {
                        let t = b.token().await?;
                        std::hint::black_box(get_json(b, u, &t).await?);
                        Res::Ok(())
                    }
                })
                .buffer_unordered(c.max(1))
                .try_collect()
                .await?;
            return Ok((started.elapsed().as_secs_f64(), done.len()));
        }
        "getput" => {
            let ids = first_ids(&b, realm, n).await?;
            let started = mark();
            let done: Vec<()> = futures_util::stream::iter(ids)
                .map(|id| {
                    let b = &b;
                    async move {
                        let t = b.token().await?;
                        let u = format!("{url}/admin/realms/{realm}/users/{id}");
                        let mut user = get_json(b, &u, &t).await?;
                        user["firstName"] =
                            json!(format!("Put{}", started.elapsed().as_nanos() % 1000));
                        b.http
                            .put(&u)
                            .bearer_auth(&t)
                            .json(&user)
                            .send()
                            .await?
                            .error_for_status()?;
                        Res::Ok(())
                    }
                })
                .buffer_unordered(c.max(1))
                .try_collect()
                .await?;
            return Ok((started.elapsed().as_secs_f64(), done.len()));
        }
        "stampede-setup" => {
            stampede_setup(&b, realm, n).await?;
            0
        }
        "events-clear" => {
            let t = b.token().await?;
            b.http
                .delete(format!("{url}/admin/realms/{realm}/events"))
                .bearer_auth(&t)
                .send()
                .await?
                .error_for_status()?;
            0
        }
        "events-count" => {
            // Token endpoint calls of every kind, failed ones included.
            let t = b.token().await?;
            let events: Vec<Value> = b
                .http
                .get(format!("{url}/admin/realms/{realm}/events"))
                .query(&[("max", "10000")])
                .bearer_auth(&t)
                .send()
                .await?
                .error_for_status()?
                .json()
                .await?;
            events
                .iter()
                .filter(|e| TOKEN_EVENTS.contains(&e["type"].as_str().unwrap_or("")))
                .count()
        }
        "stampede" => {
            // The baseline's own token handling: one lock, one re-login when expired.
            let bare = Bare {
                http: b.http.clone(),
                url: url.to_owned(),
                token: tokio::sync::RwLock::new(
                    Bare::login_as(&b.http, url, realm, STAMP_USER.0, STAMP_USER.1).await?,
                ),
            };
            let lifespan = Duration::from_secs(n as u64);
            let get = |t: String| {
                let http = bare.http.clone();
                let u = format!("{url}/admin/realms/{realm}/users");
                async move {
                    http.get(u)
                        .query(&[("max", "1")])
                        .bearer_auth(t)
                        .send()
                        .await
                        .map(|r| r.status().is_success())
                        .unwrap_or(false)
                }
            };
            get(bare.token.read().await.0.clone()).await;
            tokio::time::sleep(lifespan + Duration::from_secs(1)).await;
            let started = mark();
            let ok = futures_util::stream::iter(0..c)
                .map(|_| async {
                    let t = {
                        let cur = bare.token.read().await;
                        if cur.1.elapsed() < Duration::from_secs(cur.2) {
                            Some(cur.0.clone())
                        } else {
                            None
                        }
                    };
                    let t = match t {
                        Some(t) => t,
                        None => {
                            let mut w = bare.token.write().await;
                            if w.1.elapsed() >= Duration::from_secs(w.2)
                                && let Ok(fresh) = Bare::login_as(
                                    &bare.http,
                                    url,
                                    realm,
                                    STAMP_USER.0,
                                    STAMP_USER.1,
                                )
                                .await
                            {
                                *w = fresh;
                            }
                            w.0.clone()
                        }
                    };
                    get(t).await
                })
                .buffer_unordered(c.max(1))
                .filter(|ok| futures_util::future::ready(*ok))
                .count()
                .await;
            return Ok((started.elapsed().as_secs_f64(), ok));
        }
        other => return Err(format!("unknown op {other}").into()),
    };
    Ok((started.elapsed().as_secs_f64(), count))
}

/// GET `url` with the token, as JSON.
async fn get_json(b: &Bare, url: &str, token: &str) -> Res<Value> {
    Ok(b.http
        .get(url)
        .bearer_auth(token)
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?)
}

/// The ids of the first `n` users of `realm` (one request, before any clock starts).
async fn first_ids(b: &Bare, realm: &str, n: usize) -> Res<Vec<String>> {
    let t = b.token().await?;
    let page: Vec<Value> = b
        .http
        .get(format!("{}/admin/realms/{realm}/users", b.url))
        .query(&[
            ("first", "0".to_owned()),
            ("max", n.to_string()),
            ("briefRepresentation", "true".into()),
        ])
        .bearer_auth(&t)
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    Ok(page
        .iter()
        .filter_map(|u| u["id"].as_str().map(str::to_owned))
        .collect())
}

/// Event types written for calls to the token endpoint.
const TOKEN_EVENTS: &[&str] = &[
    "LOGIN",
    "LOGIN_ERROR",
    "REFRESH_TOKEN",
    "REFRESH_TOKEN_ERROR",
    "CLIENT_LOGIN",
    "CLIENT_LOGIN_ERROR",
];

/// (Re)creates `realm` with an access-token lifespan of `lifespan` seconds, login events on,
/// and `STAMP_USER` holding realm-management's realm-admin role.
async fn stampede_setup(b: &Bare, realm: &str, lifespan: usize) -> Res<()> {
    let url = &b.url;
    let t = b.token().await?;
    let r = b
        .http
        .delete(format!("{url}/admin/realms/{realm}"))
        .bearer_auth(&t)
        .send()
        .await?;
    if r.status() != 404 {
        r.error_for_status()?;
    }
    b.http
        .post(format!("{url}/admin/realms"))
        .bearer_auth(&t)
        .json(&json!({
            "realm": realm,
            "enabled": true,
            "accessTokenLifespan": lifespan,
            "ssoSessionIdleTimeout": 3600,
            "eventsEnabled": true,
            "eventsExpiration": 3600,
            "enabledEventTypes": TOKEN_EVENTS,
            "users": [{
                "username": STAMP_USER.0,
                "enabled": true,
                "email": "stamp-admin@example.com",
                "firstName": "Stamp",
                "lastName": "Admin",
                "credentials": [{"type": "password", "value": STAMP_USER.1, "temporary": false}],
                "clientRoles": {"realm-management": ["realm-admin"]},
            }],
        }))
        .send()
        .await?
        .error_for_status()?;
    Ok(())
}

async fn bare_create(
    b: &Bare,
    realm: &str,
    prefix: &str,
    ids: impl IntoIterator<Item = usize>,
    c: usize,
) -> Res<usize> {
    let endpoint = format!("{}/admin/realms/{realm}/users", b.url);
    let done: Vec<()> = futures_util::stream::iter(ids)
        .map(|i| {
            let endpoint = &endpoint;
            async move {
                let t = b.token().await?;
                let r = b
                    .http
                    .post(endpoint)
                    .bearer_auth(&t)
                    .json(&user_json(prefix, i))
                    .send()
                    .await?;
                if r.status() != 201 {
                    return Err(format!("create {prefix}{i}: HTTP {}", r.status()).into());
                }
                Res::Ok(())
            }
        })
        .buffer_unordered(c.max(1))
        .try_collect()
        .await?;
    Ok(done.len())
}

/// Users per page of the `list` op (`BENCH_PAGE`, default 100: what every peer uses).
fn page_size() -> usize {
    std::env::var("BENCH_PAGE")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|&n| n > 0)
        .unwrap_or(100)
}

/// `BENCH_BRIEF=1`: list brief user representations (the memory rows at 100,000 users).
fn brief() -> bool {
    std::env::var("BENCH_BRIEF").is_ok_and(|v| v == "1")
}

async fn bare_list(b: &Bare, realm: &str) -> Res<Vec<Value>> {
    let mut all = Vec::new();
    let mut first = 0;
    let size = page_size();
    loop {
        let t = b.token().await?;
        let page: Vec<Value> = b
            .http
            .get(format!("{}/admin/realms/{realm}/users", b.url))
            .query(&[("first", first), ("max", size)])
            .query(&[("briefRepresentation", brief())])
            .bearer_auth(&t)
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        let len = page.len();
        all.extend(page);
        if len < size {
            return Ok(all);
        }
        first += size;
    }
}

// ---- cloakroom --------------------------------------------------------------------------------

async fn cloakroom_run(op: &str, url: &str, realm: &str, n: usize, c: usize) -> Res<(f64, usize)> {
    use cloakroom::generated::models::UserRepresentation;
    use cloakroom::{Client, Credentials};
    if op == "stampede" {
        let kc = Client::builder(url)
            .auth_realm(realm)
            .credentials(Credentials::password(STAMP_USER.0, STAMP_USER.1))
            .build()?;
        let users = kc.realm(realm).users();
        users.list().max(1).send().await?;
        tokio::time::sleep(Duration::from_secs(n as u64 + 1)).await;
        let started = mark();
        let ok = futures_util::stream::iter(0..c)
            .map(|_| {
                let users = &users;
                async move { users.list().max(1).send().await.is_ok() }
            })
            .buffer_unordered(c.max(1))
            .filter(|ok| futures_util::future::ready(*ok))
            .count()
            .await;
        return Ok((started.elapsed().as_secs_f64(), ok));
    }
    let (u, p) = admin();
    let kc = Client::builder(url)
        .credentials(Credentials::password(u, p))
        .build()?;
    kc.access_token().await?; // log in before the clock starts, like every contender
    let users = kc.realm(realm).users();
    // getput and get: the ids are read before the clock starts, like the baseline does.
    let ids: Vec<String> = if op == "getput" || op == "get" {
        users
            .list()
            .first(0)
            .max(if op == "get" { 1 } else { n as i32 })
            .brief_representation(true)
            .send()
            .await?
            .into_iter()
            .filter_map(|u| u.id)
            .collect()
    } else {
        Vec::new()
    };
    let started = mark();
    let count = match op {
        "get" => {
            let user = kc
                .realm(realm)
                .user(ids.first().ok_or("the realm has no user")?.clone());
            let done: Vec<()> = futures_util::stream::iter(0..n)
                .map(|_| {
                    let user = &user;
                    async move {
                        std::hint::black_box(user.get().send().await?);
                        Res::Ok(())
                    }
                })
                .buffer_unordered(c.max(1))
                .try_collect()
                .await?;
            done.len()
        }
        "getput" => {
            let realm_api = kc.realm(realm);
            let done: Vec<()> = futures_util::stream::iter(ids)
                .map(|id| {
                    let user = realm_api.user(id);
                    async move {
                        let mut u = user.get().send().await?;
                        u.first_name = Some(format!("Put{}", started.elapsed().as_nanos() % 1000));
                        user.update(&u).send().await?;
                        Res::Ok(())
                    }
                })
                .buffer_unordered(c.max(1))
                .try_collect()
                .await?;
            done.len()
        }
        "create" => {
            let done: Vec<String> = futures_util::stream::iter(0..n)
                .map(|i| {
                    let users = &users;
                    async move {
                        let user: UserRepresentation =
                            serde_json::from_value(user_json("user-", i))?;
                        Res::Ok(users.create(&user).send().await?)
                    }
                })
                .buffer_unordered(c.max(1))
                .try_collect()
                .await?;
            done.len()
        }
        "list" => {
            // The streaming path: every page is fetched and each user decoded, none kept; `c`
            // such listings at once.
            let one = || {
                users
                    .list()
                    .brief_representation(brief())
                    .stream_pages(page_size() as u32)
                    .try_fold(
                        0usize,
                        |n, _user: UserRepresentation| async move { Ok(n + 1) },
                    )
            };
            futures_util::future::try_join_all((0..c.max(1)).map(|_| one()))
                .await?
                .into_iter()
                .sum()
        }
        other => return Err(format!("unknown op {other}").into()),
    };
    Ok((started.elapsed().as_secs_f64(), count))
}

// ---- cloakroom::blocking ----------------------------------------------------------------------

fn blocking_run(op: &str, url: &str, realm: &str, n: usize, c: usize) -> Res<(f64, usize)> {
    use cloakroom::generated::models::UserRepresentation;
    use cloakroom::{Client, Credentials, blocking};
    use std::sync::atomic::{AtomicUsize, Ordering};
    if op == "stampede" {
        let kc = blocking::Client::new(
            Client::builder(url)
                .auth_realm(realm)
                .credentials(Credentials::password(STAMP_USER.0, STAMP_USER.1)),
        )?;
        let users = kc.realm(realm).users();
        kc.wait(users.list().max(1).send())?;
        std::thread::sleep(Duration::from_secs(n as u64 + 1));
        // One std thread per call, released together.
        let gate = std::sync::Barrier::new(c.max(1));
        let ok = AtomicUsize::new(0);
        let started = mark();
        std::thread::scope(|s| {
            for _ in 0..c.max(1) {
                let (kc, gate, ok) = (kc.clone(), &gate, &ok);
                s.spawn(move || {
                    let users = kc.realm(realm).users();
                    gate.wait();
                    if kc.wait(users.list().max(1).send()).is_ok() {
                        ok.fetch_add(1, Ordering::Relaxed);
                    }
                });
            }
        });
        return Ok((started.elapsed().as_secs_f64(), ok.into_inner()));
    }
    let (u, p) = admin();
    let kc = blocking::Client::new(Client::builder(url).credentials(Credentials::password(u, p)))?;
    kc.wait(kc.access_token())?; // log in before the clock starts, like every contender
    let users = kc.realm(realm).users();
    let ids: Vec<String> = if op == "getput" || op == "get" {
        kc.wait(
            users
                .list()
                .first(0)
                .max(if op == "get" { 1 } else { n as i32 })
                .brief_representation(true)
                .send(),
        )?
        .into_iter()
        .filter_map(|u| u.id)
        .collect()
    } else {
        Vec::new()
    };
    // `c` std threads, each with its own clone of the client, taking the next item in turn.
    let on_threads =
        |items: usize, each: &(dyn Fn(&blocking::Client, usize) -> Res<()> + Sync)| -> Res<usize> {
            if c <= 1 {
                for i in 0..items {
                    each(&kc, i)?;
                }
                return Ok(items);
            }
            let next = AtomicUsize::new(0);
            std::thread::scope(|s| {
                let workers: Vec<_> = (0..c)
                    .map(|_| {
                        let (kc, next) = (kc.clone(), &next);
                        s.spawn(move || -> Res<usize> {
                            let mut done = 0;
                            loop {
                                let i = next.fetch_add(1, Ordering::Relaxed);
                                if i >= items {
                                    return Ok(done);
                                }
                                each(&kc, i)?;
                                done += 1;
                            }
                        })
                    })
                    .collect();
                workers
                    .into_iter()
                    .map(|w| w.join().map_err(|_| "worker thread panicked")?)
                    .sum()
            })
        };
    let started = mark();
    let count = match op {
        "create" => on_threads(n, &|kc, i| {
            let user: UserRepresentation = serde_json::from_value(user_json("user-", i))?;
            kc.wait(kc.realm(realm).users().create(&user).send())?;
            Ok(())
        })?,
        "get" => {
            let id = ids.first().ok_or("the realm has no user")?;
            on_threads(n, &|kc, _| {
                std::hint::black_box(kc.wait(kc.realm(realm).user(id.clone()).get().send())?);
                Ok(())
            })?
        }
        "getput" => on_threads(ids.len(), &|kc, i| {
            let user = kc.realm(realm).user(ids[i].clone());
            let mut u = kc.wait(user.get().send())?;
            u.first_name = Some(format!("Put{}", started.elapsed().as_nanos() % 1000));
            kc.wait(user.update(&u).send())?;
            Ok(())
        })?,
        "list" => {
            // `c` threads, each listing the whole realm.
            let listed = AtomicUsize::new(0);
            on_threads(c.max(1), &|kc, _| {
                let n = kc.wait(kc.realm(realm).users().list().stream().try_fold(
                    0usize,
                    |n, _user: UserRepresentation| async move { Ok(n + 1) },
                ))?;
                listed.fetch_add(n, Ordering::Relaxed);
                Ok(())
            })?;
            listed.into_inner()
        }
        other => return Err(format!("unknown op {other}").into()),
    };
    Ok((started.elapsed().as_secs_f64(), count))
}

// ---- the keycloak crate -----------------------------------------------------------------------

/// The `keycloak` crate (crates.io) as its README uses it: a `KeycloakAdminToken` acquired once
/// (a plain token with no refresh of its own) handed to `KeycloakAdmin::new`.
async fn keycloak_crate(op: &str, url: &str, realm: &str, n: usize, c: usize) -> Res<(f64, usize)> {
    use keycloak::prelude::reqwest;
    use keycloak::types::UserRepresentation;
    use keycloak::{KeycloakAdmin, KeycloakAdminToken};
    let client = reqwest::Client::new();
    if op == "stampede" {
        let token = KeycloakAdminToken::acquire_custom_realm(
            url,
            STAMP_USER.0,
            STAMP_USER.1,
            realm,
            "admin-cli",
            "password",
            &client,
        )
        .await?;
        let admin = KeycloakAdmin::new(url, token, client);
        let r = admin.realm(realm);
        r.users_get().max(1).await?;
        tokio::time::sleep(Duration::from_secs(n as u64 + 1)).await;
        let started = mark();
        // The token it holds has expired; the crate sends it as it is.
        let ok = futures_util::stream::iter(0..c)
            .map(|_| {
                let r = &r;
                async move { r.users_get().max(1).await.is_ok() }
            })
            .buffer_unordered(c.max(1))
            .filter(|ok| futures_util::future::ready(*ok))
            .count()
            .await;
        return Ok((started.elapsed().as_secs_f64(), ok));
    }
    let (u, p) = admin();
    let token = KeycloakAdminToken::acquire(url, &u, &p, &client).await?;
    let admin = KeycloakAdmin::new(url, token, client);
    let r = admin.realm(realm);
    let ids: Vec<String> = if op == "getput" || op == "get" {
        r.users_get()
            .first(0)
            .max(if op == "get" { 1 } else { n as i32 })
            .brief_representation(true)
            .await?
            .into_iter()
            .filter_map(|u| u.id.map(|id| id.to_string()))
            .collect()
    } else {
        Vec::new()
    };
    let started = mark();
    let count = match op {
        "create" => {
            let done: Vec<()> = futures_util::stream::iter(0..n)
                .map(|i| {
                    let r = &r;
                    async move {
                        let user: UserRepresentation =
                            serde_json::from_value(user_json("user-", i))?;
                        r.users_post(user).await?;
                        Res::Ok(())
                    }
                })
                .buffer_unordered(c.max(1))
                .try_collect()
                .await?;
            done.len()
        }
        "get" => {
            let id = ids.first().ok_or("the realm has no user")?;
            let done: Vec<()> = futures_util::stream::iter(0..n)
                .map(|_| {
                    let r = &r;
                    async move {
                        std::hint::black_box(r.users_with_user_id_get(id).await?);
                        Res::Ok(())
                    }
                })
                .buffer_unordered(c.max(1))
                .try_collect()
                .await?;
            done.len()
        }
        "getput" => {
            let done: Vec<()> = futures_util::stream::iter(ids)
                .map(|id| {
                    let r = &r;
                    async move {
                        let mut u = r.users_with_user_id_get(&id).await?;
                        u.first_name =
                            Some(format!("Put{}", started.elapsed().as_nanos() % 1000).into());
                        r.users_with_user_id_put(&id, u).await?;
                        Res::Ok(())
                    }
                })
                .buffer_unordered(c.max(1))
                .try_collect()
                .await?;
            done.len()
        }
        "list" => {
            // users_get() returns one page (the server's default 100); the crate has no paging
            // helper, so this is the first/max loop its users write, collecting every user; `c`
            // such listings at once.
            let one = || async {
                let mut all: Vec<UserRepresentation> = Vec::new();
                loop {
                    let page = r.users_get().first(all.len() as i32).max(100).await?;
                    let len = page.len();
                    all.extend(page);
                    if len < 100 {
                        return Ok::<_, keycloak::KeycloakError>(all.len());
                    }
                }
            };
            futures_util::future::try_join_all((0..c.max(1)).map(|_| one()))
                .await?
                .into_iter()
                .sum()
        }
        other => return Err(format!("unknown op {other}").into()),
    };
    Ok((started.elapsed().as_secs_f64(), count))
}
