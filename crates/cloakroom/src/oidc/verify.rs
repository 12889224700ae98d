//! Offline JWT verification against a realm's JWKS.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, RwLock};
use std::time::{Duration, SystemTime};

use serde_json::Value;

use super::{Claims, Oidc, T_CERTS, TimeFn, unix_secs};
use crate::error::{Error, Result, VerifyError};
use crate::jose::{self, Algorithm, Header, Jwk};
use crate::request::Method;

const DEFAULT_MAX_TOKEN: usize = 64 * 1024;
const MAX_KID: usize = 256;

/// Configures a [`JwtVerifier`]. Strict by default: signature, issuer, audience, `exp`/`nbf`/
/// `iat` with 30 s leeway.
#[must_use]
pub struct VerifierBuilder {
    oidc: Oidc,
    issuer: Option<String>,
    audience: Option<String>,
    azp: Option<String>,
    any_audience: bool,
    leeway: Duration,
    refetch_interval: Duration,
    max_age: Duration,
    max_token_bytes: usize,
    required: Vec<String>,
    typ: Option<String>,
    algorithms: Option<Vec<Algorithm>>,
    clock: Option<TimeFn>,
    require_exp: bool,
}

impl fmt::Debug for VerifierBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VerifierBuilder")
            .field("realm", &self.oidc.realm())
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .field("azp", &self.azp)
            .field("leeway", &self.leeway)
            .finish_non_exhaustive()
    }
}

impl VerifierBuilder {
    pub(crate) fn new(oidc: Oidc) -> Self {
        Self {
            oidc,
            issuer: None,
            audience: None,
            azp: None,
            any_audience: false,
            leeway: Duration::from_secs(30),
            refetch_interval: Duration::from_secs(10),
            max_age: Duration::from_secs(3600),
            max_token_bytes: DEFAULT_MAX_TOKEN,
            required: Vec::new(),
            typ: None,
            algorithms: None,
            clock: None,
            require_exp: true,
        }
    }

    /// The expected `iss` (default: the discovery document's issuer, fetched once).
    pub fn issuer(mut self, iss: impl Into<String>) -> Self {
        self.issuer = Some(iss.into());
        self
    }

    /// Tokens must list `aud` in their `aud` claim.
    pub fn audience(mut self, aud: impl Into<String>) -> Self {
        self.audience = Some(aud.into());
        self
    }

    /// Tokens must have been issued to this client (`azp`). Keycloak access tokens carry the
    /// requesting client here, and often only `account` in `aud`.
    pub fn authorized_party(mut self, client_id: impl Into<String>) -> Self {
        self.azp = Some(client_id.into());
        self
    }

    /// Accepts tokens for any audience.
    ///
    /// # Security warning
    /// A token issued to any other client of the realm then passes; only use this when the
    /// caller checks the audience itself.
    pub fn insecure_any_audience(mut self) -> Self {
        self.any_audience = true;
        self
    }

    /// Allowed clock difference for `exp`, `nbf` and `iat` (default 30 s).
    pub fn leeway(mut self, d: Duration) -> Self {
        self.leeway = d;
        self
    }

    /// A token with an unknown `kid` refetches the JWKS at most once per this interval
    /// (default 10 s), however many such tokens arrive.
    pub fn refetch_interval(mut self, d: Duration) -> Self {
        self.refetch_interval = d;
        self
    }

    /// Keys older than this are refetched on the next verification (default 1 h), so removed
    /// keys stop being trusted.
    pub fn jwks_max_age(mut self, d: Duration) -> Self {
        self.max_age = d;
        self
    }

    /// Longer tokens are refused before any parsing (default 64 KiB).
    pub fn max_token_bytes(mut self, n: usize) -> Self {
        self.max_token_bytes = n;
        self
    }

    /// A claim that must be present.
    pub fn require_claim(mut self, name: impl Into<String>) -> Self {
        self.required.push(name.into());
        self
    }

    /// The Keycloak `typ` claim must be this (`Bearer` for access tokens, `ID` for ID tokens).
    pub fn token_type(mut self, typ: impl Into<String>) -> Self {
        self.typ = Some(typ.into());
        self
    }

    /// Restricts the accepted algorithms further (the key's own algorithm always applies).
    pub fn algorithms(mut self, algs: impl IntoIterator<Item = Algorithm>) -> Self {
        self.algorithms = Some(algs.into_iter().collect());
        self
    }

    /// Signed UserInfo answers carry no `exp`.
    pub(crate) fn allow_missing_exp(mut self) -> Self {
        self.require_exp = false;
        self
    }

    /// Replaces the clock (tests).
    pub fn clock(mut self, f: impl Fn() -> SystemTime + Send + Sync + 'static) -> Self {
        self.clock = Some(Arc::new(f));
        self
    }

    /// Builds the verifier. No network I/O happens here.
    pub fn build(self) -> Result<JwtVerifier> {
        if self.audience.is_none() && self.azp.is_none() && !self.any_audience {
            return Err(Error::config(
                "a verifier needs an audience (`audience` or `authorized_party`); \
                 `insecure_any_audience` turns the check off",
            ));
        }
        let clock = self.clock.unwrap_or_else(|| self.oidc.inner.clock.clone());
        Ok(JwtVerifier {
            inner: Arc::new(Inner {
                oidc: self.oidc,
                issuer: tokio::sync::OnceCell::new_with(self.issuer),
                audience: self.audience,
                azp: self.azp,
                leeway: self.leeway.as_secs() as i64,
                refetch_interval: self.refetch_interval,
                max_age: self.max_age,
                max_token_bytes: self.max_token_bytes,
                required: self.required,
                typ: self.typ,
                algorithms: self.algorithms,
                require_exp: self.require_exp,
                clock,
                keys: RwLock::new(KeySet::default()),
                fetching: tokio::sync::Mutex::new(()),
            }),
        })
    }
}

#[derive(Default)]
struct KeySet {
    by_kid: HashMap<String, Arc<Jwk>>,
    without_kid: Vec<Arc<Jwk>>,
    fetched_at: Option<SystemTime>,
}

/// Verifies tokens of one realm offline, with the realm's JWKS cached by `kid`. Cheap to
/// clone; clones share the cache.
#[derive(Clone)]
pub struct JwtVerifier {
    inner: Arc<Inner>,
}

struct Inner {
    oidc: Oidc,
    issuer: tokio::sync::OnceCell<String>,
    audience: Option<String>,
    azp: Option<String>,
    leeway: i64,
    refetch_interval: Duration,
    max_age: Duration,
    max_token_bytes: usize,
    required: Vec<String>,
    typ: Option<String>,
    algorithms: Option<Vec<Algorithm>>,
    require_exp: bool,
    clock: TimeFn,
    keys: RwLock<KeySet>,
    // The single flight for JWKS fetches.
    fetching: tokio::sync::Mutex<()>,
}

impl fmt::Debug for JwtVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JwtVerifier")
            .field("realm", &self.inner.oidc.realm())
            .field("audience", &self.inner.audience)
            .field("azp", &self.inner.azp)
            .finish_non_exhaustive()
    }
}

enum Lookup {
    Found(Arc<Jwk>),
    Missing,
}

impl JwtVerifier {
    /// Verifies `token` and returns its claims: size, structure, algorithm (pinned to the key),
    /// signature, issuer, audience/azp, `exp`/`nbf`/`iat`, required claims, `typ`.
    pub async fn verify(&self, token: &str) -> Result<Claims> {
        let i = &*self.inner;
        if token.len() > i.max_token_bytes {
            return Err(VerifyError::Malformed(format!(
                "token is {} bytes, more than the {}-byte limit",
                token.len(),
                i.max_token_bytes
            ))
            .into());
        }
        // The usual token takes the path without a header object or buffers for the header and
        // signature; anything unusual goes the general way, which gives the precise error.
        let mut scratch = jose::Scratch::new();
        if let Some(jws) = jose::split_fast(token, &mut scratch) {
            return self
                .verify_parts(
                    &jws.alg,
                    jws.kid.as_deref(),
                    jws.signing_input,
                    jws.signature,
                    jws.payload,
                )
                .await;
        }
        let parsed = jose::parse_jwt(token)?;
        if let Some(crit) = parsed.header.raw.get("crit") {
            // Checked after the algorithm, as always.
            self.allowed(Algorithm::parse(&parsed.header.alg)?)?;
            return Err(
                VerifyError::Malformed(format!("unsupported critical header {crit}")).into(),
            );
        }
        self.verify_parts(
            &parsed.header.alg,
            parsed.header.kid.as_deref(),
            parsed.signing_input,
            &parsed.signature,
            parsed.payload,
        )
        .await
    }

    /// `alg`, unless the builder's algorithms leave it out.
    fn allowed(&self, alg: Algorithm) -> Result<Algorithm> {
        match &self.inner.algorithms {
            Some(allowed) if !allowed.contains(&alg) => {
                Err(VerifyError::Algorithm(format!("`{alg}` is not allowed here")).into())
            }
            _ => Ok(alg),
        }
    }

    /// Everything after the split: algorithm, key, signature, claims.
    async fn verify_parts(
        &self,
        alg: &str,
        kid: Option<&str>,
        signing_input: &[u8],
        signature: &[u8],
        payload: Vec<u8>,
    ) -> Result<Claims> {
        let alg = self.allowed(Algorithm::parse(alg)?)?;
        if kid.is_some_and(|k| k.len() > MAX_KID) {
            return Err(VerifyError::Malformed("`kid` is too long".into()).into());
        }
        let key = self.key_for(kid, alg).await?;
        if !key.accepts(alg) {
            return Err(VerifyError::Algorithm(format!(
                "`{alg}` does not match the key `{}`",
                key.kid.as_deref().unwrap_or("")
            ))
            .into());
        }
        if !key.verify(alg, signing_input, signature) {
            return Err(VerifyError::Signature.into());
        }
        let claims = Claims::from_payload(payload)
            .map_err(|_| VerifyError::Malformed("payload is not a JSON object".into()))?;
        self.check_claims(&claims).await?;
        Ok(claims)
    }

    /// Verifies an ID token: everything [`verify`](Self::verify) checks, plus `nonce` when given,
    /// and `azp` when the token has several audiences.
    pub async fn verify_id_token(&self, token: &str, nonce: Option<&str>) -> Result<Claims> {
        let claims = self.verify(token).await?;
        if let Some(n) = nonce {
            if claims.nonce.as_deref() != Some(n) {
                return Err(VerifyError::Nonce.into());
            }
        }
        if claims.aud.len() > 1 {
            if let Some(aud) = &self.inner.audience {
                if claims.azp.as_deref() != Some(aud) {
                    return Err(VerifyError::Claim(
                        "ID token with several audiences must name the client in `azp`".into(),
                    )
                    .into());
                }
            }
        }
        Ok(claims)
    }

    /// How many keys are cached.
    pub fn cached_keys(&self) -> usize {
        let k = self.inner.keys.read().unwrap_or_else(|p| p.into_inner());
        k.by_kid.len() + k.without_kid.len()
    }

    /// Fetches the JWKS now (for example at start-up, so the first request is fast).
    pub async fn refresh_keys(&self) -> Result<()> {
        let _flight = self.inner.fetching.lock().await;
        self.fetch().await
    }

    async fn check_claims(&self, c: &Claims) -> Result<()> {
        let i = &*self.inner;
        let issuer = i
            .issuer
            .get_or_try_init(|| async { Ok::<_, Error>(i.oidc.discovery().await?.issuer.clone()) })
            .await?;
        if c.iss.as_deref() != Some(issuer.as_str()) {
            return Err(VerifyError::Issuer {
                expected: issuer.clone(),
                found: c.iss.clone(),
            }
            .into());
        }
        if let Some(aud) = &i.audience {
            if !c.aud.iter().any(|a| a == aud) {
                return Err(VerifyError::Audience {
                    expected: aud.clone(),
                }
                .into());
            }
        }
        if let Some(azp) = &i.azp {
            if c.azp.as_deref() != Some(azp.as_str()) {
                return Err(VerifyError::Audience {
                    expected: azp.clone(),
                }
                .into());
            }
        }
        let now = unix_secs((i.clock)());
        match c.exp {
            None if i.require_exp => {
                return Err(VerifyError::Claim("`exp` is missing".into()).into());
            }
            None => {}
            Some(exp) if now - i.leeway >= exp => return Err(VerifyError::Expired.into()),
            Some(_) => {}
        }
        if c.nbf.is_some_and(|nbf| now + i.leeway < nbf) {
            return Err(VerifyError::NotYetValid.into());
        }
        if c.iat.is_some_and(|iat| now + i.leeway < iat) {
            return Err(VerifyError::NotYetValid.into());
        }
        for name in &i.required {
            if c.get(name).is_none_or(Value::is_null) {
                return Err(VerifyError::Claim(format!("`{name}` is missing")).into());
            }
        }
        if let Some(typ) = &i.typ {
            if c.typ.as_deref() != Some(typ.as_str()) {
                return Err(VerifyError::Claim(format!(
                    "`typ` is {:?}, expected `{typ}`",
                    c.typ.as_deref().unwrap_or("missing")
                ))
                .into());
            }
        }
        Ok(())
    }

    fn lookup(&self, kid: Option<&str>, alg: Algorithm) -> (Lookup, Option<SystemTime>) {
        let keys = self.inner.keys.read().unwrap_or_else(|p| p.into_inner());
        let found = match kid {
            Some(kid) => keys.by_kid.get(kid).cloned(),
            None => {
                // Without a kid, accept only an unambiguous key for this algorithm.
                let mut fitting = keys
                    .by_kid
                    .values()
                    .chain(keys.without_kid.iter())
                    .filter(|k| k.accepts(alg));
                match (fitting.next(), fitting.next()) {
                    (Some(k), None) => Some(k.clone()),
                    _ => None,
                }
            }
        };
        (
            found.map_or(Lookup::Missing, Lookup::Found),
            keys.fetched_at,
        )
    }

    async fn key_for(&self, kid: Option<&str>, alg: Algorithm) -> Result<Arc<Jwk>> {
        let i = &*self.inner;
        let now = (i.clock)();
        let age = |at: Option<SystemTime>| at.map(|t| now.duration_since(t).unwrap_or_default());
        let (found, fetched_at) = self.lookup(kid, alg);
        match (found, age(fetched_at)) {
            (Lookup::Found(k), Some(a)) if a < i.max_age => return Ok(k),
            (Lookup::Found(k), _) => {
                // Stale cache: refresh once (single flight); keep the old keys if that fails.
                let _flight = i.fetching.lock().await;
                let (_, at) = self.lookup(kid, alg);
                if age(at).is_none_or(|a| a >= i.max_age) {
                    if let Err(e) = self.fetch().await {
                        tracing::warn!(error = %e, "JWKS refresh failed; keeping cached keys");
                        return Ok(k);
                    }
                }
                if let (Lookup::Found(k2), _) = self.lookup(kid, alg) {
                    return Ok(k2);
                }
                return Err(unknown(kid));
            }
            (Lookup::Missing, _) => {}
        }
        // Unknown kid: refetch at most once per interval, one fetch for all waiting callers.
        let _flight = i.fetching.lock().await;
        let (found, at) = self.lookup(kid, alg);
        if let Lookup::Found(k) = found {
            return Ok(k);
        }
        if age(at).is_some_and(|a| a < i.refetch_interval) {
            // Fetched recently (maybe by a caller we just waited for): the key is unknown.
            return Err(unknown(kid));
        }
        self.fetch().await?;
        match self.lookup(kid, alg).0 {
            Lookup::Found(k) => Ok(k),
            Lookup::Missing => Err(unknown(kid)),
        }
    }

    /// Fetches the JWKS; the caller holds the flight lock.
    async fn fetch(&self) -> Result<()> {
        let i = &*self.inner;
        let req = i
            .oidc
            .public_request(Method::Get, "/protocol/openid-connect/certs", T_CERTS);
        // Record the attempt first: a failing endpoint must not be hammered either.
        {
            let mut k = i.keys.write().unwrap_or_else(|p| p.into_inner());
            k.fetched_at = Some((i.clock)());
        }
        let resp = i.oidc.inner.client.send(req).await?;
        let doc: Value = resp.json()?;
        let mut set = KeySet {
            fetched_at: Some((i.clock)()),
            ..KeySet::default()
        };
        for jwk in doc
            .get("keys")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Jwk::from_json)
        {
            match jwk.kid.clone() {
                Some(kid) => {
                    set.by_kid.insert(kid, Arc::new(jwk));
                }
                None => set.without_kid.push(Arc::new(jwk)),
            }
        }
        tracing::debug!(realm = %i.oidc.realm(), keys = set.by_kid.len(), "JWKS fetched");
        *i.keys.write().unwrap_or_else(|p| p.into_inner()) = set;
        Ok(())
    }
}

fn unknown(kid: Option<&str>) -> Error {
    // The kid is attacker-controlled: show a bounded, printable excerpt only.
    let kid: String = kid
        .unwrap_or("(none)")
        .chars()
        .take(64)
        .map(|c| if c.is_control() { '?' } else { c })
        .collect();
    VerifyError::UnknownKey(kid).into()
}

/// Decodes a JWT's header and claims **without verifying anything**.
///
/// # Security warning
/// The signature, issuer, audience and expiry are not checked: anyone can forge a token this
/// function accepts. Use it to look at a token (debugging, a CLI `decode`), never to decide
/// access; use [`JwtVerifier::verify`] for that.
pub fn insecure_decode(token: &str) -> Result<(Header, Claims)> {
    if token.len() > DEFAULT_MAX_TOKEN {
        return Err(VerifyError::Malformed("token is too large".into()).into());
    }
    let p = jose::parse_jwt(token)?;
    let claims = Claims::from_payload(p.payload)
        .map_err(|_| VerifyError::Malformed("payload is not a JSON object".into()))?;
    Ok((p.header, claims))
}
