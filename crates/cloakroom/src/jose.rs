//! JOSE building blocks: base64url, JWT parsing, JWKs, signature verification and the signing
//! key used for `private_key_jwt` client authentication. All cryptography is `aws-lc-rs`'s;
//! public keys are parsed once per JWK and algorithm and kept with the cached JWKS.

use std::fmt;
use std::sync::{Arc, OnceLock};
use std::time::SystemTime;

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{self, KeyPair as _};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde_json::{Map, Value};

use crate::clock::unix_secs;
use crate::error::{Error, Result, VerifyError};

pub(crate) fn b64url(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

pub(crate) fn b64url_decode(s: &str) -> std::result::Result<Vec<u8>, base64::DecodeError> {
    URL_SAFE_NO_PAD.decode(s)
}

pub(crate) fn sha256(data: &[u8]) -> Vec<u8> {
    aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, data)
        .as_ref()
        .to_vec()
}

/// The signature algorithms cloakroom verifies. `none` and the HMAC algorithms are not among
/// them: a verifier holding public keys must never accept them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Algorithm {
    /// RSASSA-PKCS1-v1_5 with SHA-256.
    RS256,
    /// RSASSA-PKCS1-v1_5 with SHA-384.
    RS384,
    /// RSASSA-PKCS1-v1_5 with SHA-512.
    RS512,
    /// RSASSA-PSS with SHA-256.
    PS256,
    /// RSASSA-PSS with SHA-384.
    PS384,
    /// RSASSA-PSS with SHA-512.
    PS512,
    /// ECDSA P-256 with SHA-256.
    ES256,
    /// ECDSA P-384 with SHA-384.
    ES384,
    /// Ed25519.
    EdDSA,
}

impl Algorithm {
    /// Parses a JOSE `alg` name; `none`, `HS*` and unknown names are refused.
    pub fn parse(name: &str) -> std::result::Result<Self, VerifyError> {
        Ok(match name {
            "RS256" => Algorithm::RS256,
            "RS384" => Algorithm::RS384,
            "RS512" => Algorithm::RS512,
            "PS256" => Algorithm::PS256,
            "PS384" => Algorithm::PS384,
            "PS512" => Algorithm::PS512,
            "ES256" => Algorithm::ES256,
            "ES384" => Algorithm::ES384,
            "EdDSA" | "Ed25519" => Algorithm::EdDSA,
            n if n.eq_ignore_ascii_case("none") => {
                return Err(VerifyError::Algorithm("`none` (unsigned token)".into()));
            }
            n if n.starts_with("HS") => {
                return Err(VerifyError::Algorithm(format!(
                    "`{n}` (HMAC is never accepted with public keys)"
                )));
            }
            n => {
                return Err(VerifyError::Algorithm(format!(
                    "`{}` is not supported",
                    n.chars().take(32).collect::<String>()
                )));
            }
        })
    }

    /// The JOSE name.
    pub fn as_str(self) -> &'static str {
        match self {
            Algorithm::RS256 => "RS256",
            Algorithm::RS384 => "RS384",
            Algorithm::RS512 => "RS512",
            Algorithm::PS256 => "PS256",
            Algorithm::PS384 => "PS384",
            Algorithm::PS512 => "PS512",
            Algorithm::ES256 => "ES256",
            Algorithm::ES384 => "ES384",
            Algorithm::EdDSA => "EdDSA",
        }
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A JWT's protected header.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Header {
    /// `alg` as written in the token (checked only by verification).
    pub alg: String,
    /// `kid`: which key signed the token.
    pub kid: Option<String>,
    /// `typ` (Keycloak writes `JWT`).
    pub typ: Option<String>,
    /// Every header parameter.
    pub raw: Map<String, Value>,
}

/// A JWT split into its parts, nothing checked yet.
pub(crate) struct Parsed<'a> {
    pub header: Header,
    /// The payload's JSON bytes, not parsed yet.
    pub payload: Vec<u8>,
    pub signing_input: &'a [u8],
    pub signature: Vec<u8>,
}

fn malformed(m: impl Into<String>) -> VerifyError {
    VerifyError::Malformed(m.into())
}

/// Splits and decodes a compact JWS. Size must already have been checked by the caller.
pub(crate) fn parse_jwt(token: &str) -> std::result::Result<Parsed<'_>, VerifyError> {
    let mut parts = token.split('.');
    let (Some(h), Some(p), Some(s), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        let n = token.split('.').count();
        return Err(if n == 5 {
            malformed("encrypted tokens (JWE) are not supported")
        } else {
            malformed(format!("expected 3 dot-separated parts, found {n}"))
        });
    };
    let header_bytes = b64url_decode(h).map_err(|_| malformed("header is not base64url"))?;
    let raw: Map<String, Value> = serde_json::from_slice(&header_bytes)
        .map_err(|_| malformed("header is not a JSON object"))?;
    let alg = match raw.get("alg") {
        Some(Value::String(a)) => a.clone(),
        _ => return Err(malformed("header has no `alg`")),
    };
    let kid = match raw.get("kid") {
        None | Some(Value::Null) => None,
        Some(Value::String(k)) => Some(k.clone()),
        Some(_) => return Err(malformed("`kid` is not a string")),
    };
    let typ = raw.get("typ").and_then(Value::as_str).map(str::to_owned);
    let payload = b64url_decode(p).map_err(|_| malformed("payload is not base64url"))?;
    let signature = b64url_decode(s).map_err(|_| malformed("signature is not base64url"))?;
    Ok(Parsed {
        header: Header { alg, kid, typ, raw },
        payload,
        signing_input: &token.as_bytes()[..h.len() + 1 + p.len()],
        signature,
    })
}

/// Room for the decoded header and signature of [`split_fast`], on the caller's stack.
pub(crate) struct Scratch {
    header: [u8; 512],
    signature: [u8; 1024],
}

impl Scratch {
    pub(crate) fn new() -> Self {
        Scratch {
            header: [0; 512],
            signature: [0; 1024],
        }
    }
}

/// A compact JWS split for verification: the header members verification reads borrowed from
/// the decoded header, the signature decoded into the scratch space, the payload decoded.
pub(crate) struct FastJws<'t, 's> {
    pub alg: std::borrow::Cow<'s, str>,
    pub kid: Option<std::borrow::Cow<'s, str>>,
    pub payload: Vec<u8>,
    pub signing_input: &'t [u8],
    pub signature: &'s [u8],
}

/// Whether a member is present, whatever its value (`null` included).
#[derive(Default)]
struct Present(bool);

impl<'de> serde::Deserialize<'de> for Present {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        serde::de::IgnoredAny::deserialize(d)?;
        Ok(Present(true))
    }
}

/// The header members verification reads; every other member is skipped unbuilt.
#[derive(serde::Deserialize)]
struct HeaderView<'a> {
    #[serde(borrow)]
    alg: std::borrow::Cow<'a, str>,
    #[serde(borrow, default)]
    kid: Option<std::borrow::Cow<'a, str>>,
    #[serde(default)]
    crit: Present,
}

/// Splits `token` like [`parse_jwt`] without building the header object or allocating for the
/// header and signature. `None` whenever anything is unusual (a large header or signature, a
/// repeated or mistyped member, `crit`, bad base64 or JSON): [`parse_jwt`] then decides, with
/// its precise errors.
pub(crate) fn split_fast<'t, 's>(
    token: &'t str,
    scratch: &'s mut Scratch,
) -> Option<FastJws<'t, 's>> {
    let (h, rest) = token.split_once('.')?;
    let (p, sig) = rest.split_once('.')?;
    if sig.contains('.') {
        return None;
    }
    let Scratch { header, signature } = scratch;
    let n = URL_SAFE_NO_PAD.decode_slice(h, &mut header[..]).ok()?;
    let header: &'s [u8; 512] = header;
    // A struct also reads from a JSON array: only an object is a header.
    if header[..n].iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        return None;
    }
    let view: HeaderView<'s> = serde_json::from_slice(&header[..n]).ok()?;
    if view.crit.0 {
        return None;
    }
    let m = URL_SAFE_NO_PAD.decode_slice(sig, &mut signature[..]).ok()?;
    let signature: &'s [u8; 1024] = signature;
    let payload = b64url_decode(p).ok()?;
    Some(FastJws {
        alg: view.alg,
        kid: view.kid,
        payload,
        signing_input: &token.as_bytes()[..h.len() + 1 + p.len()],
        signature: &signature[..m],
    })
}

/// A public key from a JWKS, ready to verify with.
#[derive(Clone)]
pub(crate) enum PublicKey {
    Rsa { n: Vec<u8>, e: Vec<u8> },
    P256(Vec<u8>),
    P384(Vec<u8>),
    Ed25519(Vec<u8>),
}

impl PublicKey {
    fn fits(&self, alg: Algorithm) -> bool {
        use Algorithm::*;
        match self {
            PublicKey::Rsa { .. } => matches!(alg, RS256 | RS384 | RS512 | PS256 | PS384 | PS512),
            PublicKey::P256(_) => alg == ES256,
            PublicKey::P384(_) => alg == ES384,
            PublicKey::Ed25519(_) => alg == EdDSA,
        }
    }
}

/// One signing key of a realm, as published in its JWKS.
#[derive(Clone)]
pub(crate) struct Jwk {
    pub kid: Option<String>,
    /// The algorithm the key is published for; when set, tokens must use exactly this one.
    pub alg: Option<Algorithm>,
    pub key: PublicKey,
    /// The key parsed for each algorithm it has verified with (index: `alg_index`); parsing an
    /// RSA key costs about as much as one verification, so it is done once per JWKS fetch.
    parsed: Arc<[OnceLock<Option<signature::ParsedPublicKey>>; ALGORITHMS]>,
}

const ALGORITHMS: usize = 9;

fn alg_index(alg: Algorithm) -> usize {
    match alg {
        Algorithm::RS256 => 0,
        Algorithm::RS384 => 1,
        Algorithm::RS512 => 2,
        Algorithm::PS256 => 3,
        Algorithm::PS384 => 4,
        Algorithm::PS512 => 5,
        Algorithm::ES256 => 6,
        Algorithm::ES384 => 7,
        Algorithm::EdDSA => 8,
    }
}

/// DER of a PKCS#1 `RSAPublicKey` (SEQUENCE of two INTEGERs) from big-endian `n` and `e`.
fn rsa_public_key_der(n: &[u8], e: &[u8]) -> Vec<u8> {
    fn len(out: &mut Vec<u8>, l: usize) {
        if l < 0x80 {
            out.push(l as u8);
        } else {
            let bytes = l.to_be_bytes();
            let skip = bytes.iter().take_while(|b| **b == 0).count();
            out.push(0x80 | (bytes.len() - skip) as u8);
            out.extend_from_slice(&bytes[skip..]);
        }
    }
    fn integer(out: &mut Vec<u8>, v: &[u8]) {
        let pad = v.first().is_none_or(|b| b & 0x80 != 0);
        out.push(0x02);
        len(out, v.len() + usize::from(pad));
        if pad {
            out.push(0);
        }
        out.extend_from_slice(v);
    }
    let mut body = Vec::with_capacity(n.len() + e.len() + 16);
    integer(&mut body, n);
    integer(&mut body, e);
    let mut out = Vec::with_capacity(body.len() + 4);
    out.push(0x30);
    len(&mut out, body.len());
    out.extend_from_slice(&body);
    out
}

impl fmt::Debug for Jwk {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Jwk")
            .field("kid", &self.kid)
            .field("alg", &self.alg)
            .finish_non_exhaustive()
    }
}

impl Jwk {
    /// Reads one JWK. Keys that cannot verify signatures (`use: enc`, unknown types or curves,
    /// encryption algorithms) give `None`.
    pub(crate) fn from_json(v: &Value) -> Option<Jwk> {
        let s = |k: &str| v.get(k).and_then(Value::as_str);
        if s("use").is_some_and(|u| u != "sig") {
            return None;
        }
        let alg = match s("alg") {
            None => None,
            Some(a) => Some(Algorithm::parse(a).ok()?),
        };
        let bytes = |k: &str| s(k).and_then(|x| b64url_decode(x.trim_end_matches('=')).ok());
        let key = match (s("kty")?, s("crv")) {
            ("RSA", _) => PublicKey::Rsa {
                n: strip_zeros(bytes("n")?),
                e: strip_zeros(bytes("e")?),
            },
            ("EC", Some(crv)) => {
                let (x, y) = (bytes("x")?, bytes("y")?);
                let len = match crv {
                    "P-256" => 32,
                    "P-384" => 48,
                    _ => return None,
                };
                if x.len() != len || y.len() != len {
                    return None;
                }
                let mut point = Vec::with_capacity(1 + 2 * len);
                point.push(4);
                point.extend_from_slice(&x);
                point.extend_from_slice(&y);
                if len == 32 {
                    PublicKey::P256(point)
                } else {
                    PublicKey::P384(point)
                }
            }
            ("OKP", Some("Ed25519")) => PublicKey::Ed25519(bytes("x")?),
            _ => return None,
        };
        if let Some(a) = alg {
            if !key.fits(a) {
                return None;
            }
        }
        Some(Jwk::new(s("kid").map(str::to_owned), alg, key))
    }

    /// Whether a token with `alg` may be checked against this key (the algorithm is pinned to
    /// the key: RS/PS for RSA, the curve's ES for EC, EdDSA for OKP, exactly `alg` when set).
    pub(crate) fn accepts(&self, alg: Algorithm) -> bool {
        self.alg.is_none_or(|a| a == alg) && self.key.fits(alg)
    }

    pub(crate) fn verify(&self, alg: Algorithm, msg: &[u8], sig: &[u8]) -> bool {
        self.parsed[alg_index(alg)]
            .get_or_init(|| self.parse(alg))
            .as_ref()
            .is_some_and(|k| k.verify_sig(msg, sig).is_ok())
    }

    /// The key parsed for `alg`, or `None` when the two do not fit or the key is malformed.
    fn parse(&self, alg: Algorithm) -> Option<signature::ParsedPublicKey> {
        use Algorithm::*;
        let params: &'static dyn signature::VerificationAlgorithm = match (&self.key, alg) {
            (PublicKey::Rsa { .. }, RS256) => &signature::RSA_PKCS1_2048_8192_SHA256,
            (PublicKey::Rsa { .. }, RS384) => &signature::RSA_PKCS1_2048_8192_SHA384,
            (PublicKey::Rsa { .. }, RS512) => &signature::RSA_PKCS1_2048_8192_SHA512,
            (PublicKey::Rsa { .. }, PS256) => &signature::RSA_PSS_2048_8192_SHA256,
            (PublicKey::Rsa { .. }, PS384) => &signature::RSA_PSS_2048_8192_SHA384,
            (PublicKey::Rsa { .. }, PS512) => &signature::RSA_PSS_2048_8192_SHA512,
            (PublicKey::P256(_), ES256) => &signature::ECDSA_P256_SHA256_FIXED,
            (PublicKey::P384(_), ES384) => &signature::ECDSA_P384_SHA384_FIXED,
            (PublicKey::Ed25519(_), EdDSA) => &signature::ED25519,
            _ => return None,
        };
        let bytes = match &self.key {
            PublicKey::Rsa { n, e } => rsa_public_key_der(n, e),
            PublicKey::P256(p) | PublicKey::P384(p) | PublicKey::Ed25519(p) => p.clone(),
        };
        signature::ParsedPublicKey::new(params, bytes).ok()
    }

    pub(crate) fn new(kid: Option<String>, alg: Option<Algorithm>, key: PublicKey) -> Jwk {
        Jwk {
            kid,
            alg,
            key,
            parsed: Arc::new(std::array::from_fn(|_| OnceLock::new())),
        }
    }
}

fn strip_zeros(mut v: Vec<u8>) -> Vec<u8> {
    let zeros = v.iter().take_while(|b| **b == 0).count();
    v.drain(..zeros.min(v.len().saturating_sub(1)));
    v
}

/// Decodes PEM (the first block) or passes DER through.
fn pem_or_der(input: &[u8]) -> Result<Vec<u8>> {
    let Ok(text) = std::str::from_utf8(input) else {
        return Ok(input.to_vec());
    };
    if !text.contains("-----BEGIN") {
        return Ok(input.to_vec());
    }
    let mut body = String::new();
    let mut inside = false;
    let mut label = String::new();
    for line in text.lines() {
        let line = line.trim();
        if let Some(rest) = line.strip_prefix("-----BEGIN ") {
            inside = true;
            label = rest.trim_end_matches('-').to_owned();
            continue;
        }
        if line.starts_with("-----END ") {
            break;
        }
        if inside {
            body.push_str(line);
        }
    }
    if label != "PRIVATE KEY" {
        return Err(Error::invalid_input(format!(
            "expected a PKCS#8 `PRIVATE KEY` PEM block, found `{label}` \
             (convert with `openssl pkcs8 -topk8 -nocrypt`)"
        )));
    }
    STANDARD
        .decode(body)
        .map_err(|_| Error::invalid_input("the PEM block is not valid base64"))
}

enum SigningKind {
    Rsa(signature::RsaKeyPair),
    P256(signature::EcdsaKeyPair),
}

struct SigningInner {
    kind: SigningKind,
    rng: SystemRandom,
}

/// A private key for `private_key_jwt` client authentication (RS256 or ES256), supplied by the
/// caller as PKCS#8 PEM or DER. `Debug` shows only the algorithm and key id.
#[derive(Clone)]
pub struct SigningKey {
    inner: Arc<SigningInner>,
    kid: Arc<str>,
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SigningKey({}, kid={})", self.algorithm(), self.kid)
    }
}

impl SigningKey {
    /// Reads a PKCS#8 private key (PEM `-----BEGIN PRIVATE KEY-----` or DER): an RSA key signs
    /// with RS256, a P-256 key with ES256. The key id defaults to the RFC 7638 thumbprint.
    pub fn from_pkcs8(pem_or_der_bytes: impl AsRef<[u8]>) -> Result<Self> {
        let der = pem_or_der(pem_or_der_bytes.as_ref())?;
        let rng = SystemRandom::new();
        let kind = if let Ok(k) = signature::RsaKeyPair::from_pkcs8(&der) {
            SigningKind::Rsa(k)
        } else if let Ok(k) =
            signature::EcdsaKeyPair::from_pkcs8(&signature::ECDSA_P256_SHA256_FIXED_SIGNING, &der)
        {
            SigningKind::P256(k)
        } else {
            return Err(Error::invalid_input(
                "unreadable private key: expected PKCS#8 RSA (2048 bits or more) or EC P-256",
            ));
        };
        let kid = thumbprint(&public_members(&kind));
        Ok(SigningKey {
            inner: Arc::new(SigningInner { kind, rng }),
            kid: kid.into(),
        })
    }

    /// Uses another key id (the `kid` Keycloak knows the key by).
    pub fn with_kid(mut self, kid: impl Into<String>) -> Self {
        self.kid = kid.into().into();
        self
    }

    /// The JOSE algorithm this key signs with.
    pub fn algorithm(&self) -> Algorithm {
        match self.inner.kind {
            SigningKind::Rsa(_) => Algorithm::RS256,
            SigningKind::P256(_) => Algorithm::ES256,
        }
    }

    /// The key id put in the assertion header.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The public half as a JWK (with `kid`, `alg` and `use: sig`), for registering the key
    /// with Keycloak (`jwks.string` client attribute or a JWKS URL).
    pub fn public_jwk(&self) -> Value {
        let mut m = public_members(&self.inner.kind);
        m.insert("kid".into(), Value::String(self.kid.to_string()));
        m.insert("alg".into(), Value::String(self.algorithm().to_string()));
        m.insert("use".into(), Value::String("sig".into()));
        Value::Object(m)
    }

    /// Signs `claims` as a compact JWS with this key (header: `alg`, `typ: JWT`, `kid`).
    /// Used for client assertions; also handy for test tokens and benchmarks.
    pub fn sign_claims(&self, claims: &Value) -> Result<String> {
        let header = serde_json::json!({
            "alg": self.algorithm().as_str(),
            "typ": "JWT",
            "kid": &*self.kid,
        });
        let input = format!(
            "{}.{}",
            b64url(header.to_string().as_bytes()),
            b64url(claims.to_string().as_bytes())
        );
        let failed = || Error::config("signing the client assertion failed");
        let sig = match &self.inner.kind {
            SigningKind::Rsa(k) => {
                let mut sig = vec![0u8; k.public_modulus_len()];
                k.sign(
                    &signature::RSA_PKCS1_SHA256,
                    &self.inner.rng,
                    input.as_bytes(),
                    &mut sig,
                )
                .map_err(|_| failed())?;
                sig
            }
            SigningKind::P256(k) => k
                .sign(&self.inner.rng, input.as_bytes())
                .map_err(|_| failed())?
                .as_ref()
                .to_vec(),
        };
        Ok(format!("{input}.{}", b64url(&sig)))
    }
}

/// The RFC 7638 required members, in lexicographic order.
fn public_members(kind: &SigningKind) -> Map<String, Value> {
    let mut m = Map::new();
    match kind {
        SigningKind::Rsa(k) => {
            let c: signature::RsaPublicKeyComponents<Vec<u8>> = k.public_key().into();
            m.insert("e".into(), Value::String(b64url(&c.e)));
            m.insert("kty".into(), Value::String("RSA".into()));
            m.insert("n".into(), Value::String(b64url(&c.n)));
        }
        SigningKind::P256(k) => {
            let p = k.public_key().as_ref();
            m.insert("crv".into(), Value::String("P-256".into()));
            m.insert("kty".into(), Value::String("EC".into()));
            m.insert("x".into(), Value::String(b64url(&p[1..33])));
            m.insert("y".into(), Value::String(b64url(&p[33..65])));
        }
    }
    m
}

fn thumbprint(members: &Map<String, Value>) -> String {
    // serde_json keeps insertion order (preserve_order); members were inserted sorted.
    let json = Value::Object(members.clone()).to_string();
    b64url(&sha256(json.as_bytes()))
}

/// Signs a `private_key_jwt` client assertion for `client_id` with `audience` (the issuer).
pub(crate) fn client_assertion(
    key: &SigningKey,
    client_id: &str,
    audience: &str,
    now: SystemTime,
) -> Result<String> {
    let now = unix_secs(now);
    let jti = random_token(16);
    key.sign_claims(&serde_json::json!({
        "iss": client_id,
        "sub": client_id,
        "aud": audience,
        "jti": jti,
        "iat": now,
        "exp": now + 60,
    }))
}

/// `n` random bytes, base64url.
pub(crate) fn random_token(n: usize) -> String {
    use rand::RngCore;
    let mut buf = vec![0u8; n];
    rand::rng().fill_bytes(&mut buf);
    b64url(&buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_none_and_hmac() {
        assert!(matches!(
            Algorithm::parse("none"),
            Err(VerifyError::Algorithm(_))
        ));
        assert!(matches!(
            Algorithm::parse("NONE"),
            Err(VerifyError::Algorithm(_))
        ));
        assert!(matches!(
            Algorithm::parse("HS256"),
            Err(VerifyError::Algorithm(_))
        ));
        assert_eq!(Algorithm::parse("PS384").unwrap(), Algorithm::PS384);
    }

    #[test]
    fn es256_key_signs_and_verifies() {
        let rng = SystemRandom::new();
        let pkcs8 = signature::EcdsaKeyPair::generate_pkcs8(
            &signature::ECDSA_P256_SHA256_FIXED_SIGNING,
            &rng,
        )
        .unwrap();
        let key = SigningKey::from_pkcs8(pkcs8.as_ref()).unwrap();
        assert_eq!(key.algorithm(), Algorithm::ES256);
        let jwt = key.sign_claims(&serde_json::json!({"sub": "x"})).unwrap();
        let jwk = Jwk::from_json(&key.public_jwk()).unwrap();
        let parsed = parse_jwt(&jwt).unwrap();
        assert_eq!(parsed.header.kid.as_deref(), Some(key.kid()));
        assert!(jwk.verify(Algorithm::ES256, parsed.signing_input, &parsed.signature));
        assert!(!jwk.accepts(Algorithm::RS256));
        let mut bad = parsed.signature.clone();
        bad[0] ^= 1;
        assert!(!jwk.verify(Algorithm::ES256, parsed.signing_input, &bad));
    }

    #[test]
    fn rs256_key_from_jwk_components_verifies_and_is_parsed_once() {
        use aws_lc_rs::encoding::{AsDer, Pkcs8V1Der};
        let pair = signature::RsaKeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048).unwrap();
        let pkcs8: Pkcs8V1Der<'static> = pair.as_der().unwrap();
        let c: signature::RsaPublicKeyComponents<Vec<u8>> = pair.public_key().into();
        // Our DER of (n, e) is the same as the library's own.
        assert_eq!(
            rsa_public_key_der(&strip_zeros(c.n.clone()), &c.e),
            pair.public_key().as_ref()
        );
        let key = SigningKey::from_pkcs8(pkcs8.as_ref()).unwrap();
        let jwt = key.sign_claims(&serde_json::json!({"sub": "x"})).unwrap();
        let jwk = Jwk::from_json(&key.public_jwk()).unwrap();
        let parsed = parse_jwt(&jwt).unwrap();
        for _ in 0..3 {
            assert!(jwk.verify(Algorithm::RS256, parsed.signing_input, &parsed.signature));
        }
        assert!(jwk.parsed[alg_index(Algorithm::RS256)].get().is_some());
        assert!(jwk.parsed[alg_index(Algorithm::PS256)].get().is_none());
        // Wrong algorithm for the signature, and a flipped bit, both fail.
        assert!(!jwk.verify(Algorithm::PS256, parsed.signing_input, &parsed.signature));
        let mut bad = parsed.signature.clone();
        bad[7] ^= 1;
        assert!(!jwk.verify(Algorithm::RS256, parsed.signing_input, &bad));
        // A clone shares the parsed keys.
        assert!(
            jwk.clone().parsed[alg_index(Algorithm::RS256)]
                .get()
                .is_some()
        );
    }

    #[test]
    fn der_lengths_and_sign_padding() {
        assert_eq!(rsa_public_key_der(&[1], &[3]), [0x30, 6, 2, 1, 1, 2, 1, 3]);
        assert_eq!(
            rsa_public_key_der(&[0x80], &[1, 0, 1]),
            [0x30, 9, 2, 2, 0, 0x80, 2, 3, 1, 0, 1]
        );
        let long = rsa_public_key_der(&[0x7f; 300], &[1]);
        assert_eq!(&long[..4], &[0x30, 0x82, 0x01, 0x33]);
        assert_eq!(&long[4..8], &[2, 0x82, 0x01, 0x2c]);
    }

    #[test]
    fn jwe_and_garbage_are_malformed() {
        assert!(matches!(
            parse_jwt("a.b.c.d.e"),
            Err(VerifyError::Malformed(m)) if m.contains("JWE")
        ));
        assert!(matches!(parse_jwt("abc"), Err(VerifyError::Malformed(_))));
        assert!(matches!(parse_jwt("!.!.!"), Err(VerifyError::Malformed(_))));
    }

    #[test]
    fn enc_keys_are_skipped() {
        let v = serde_json::json!({"kty":"RSA","use":"enc","alg":"RSA-OAEP","n":"AQAB","e":"AQAB"});
        assert!(Jwk::from_json(&v).is_none());
    }

    #[test]
    fn debug_hides_key() {
        let rng = SystemRandom::new();
        let pkcs8 = signature::EcdsaKeyPair::generate_pkcs8(
            &signature::ECDSA_P256_SHA256_FIXED_SIGNING,
            &rng,
        )
        .unwrap();
        let key = SigningKey::from_pkcs8(pkcs8.as_ref()).unwrap();
        assert!(format!("{key:?}").starts_with("SigningKey(ES256"));
    }
}
