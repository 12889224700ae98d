//! Property tests over untrusted input: the generated models decoding arbitrary JSON and bytes,
//! and JWT parsing/verification of arbitrary strings and forged tokens. No Keycloak needed: the
//! verifier's JWKS is served by a stand-in with a key made here.
//!
//! Bounded so CI stays fast; `PROPTEST_CASES=100000 cargo test -p cloakroom --test fuzz` runs
//! longer on demand.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use aws_lc_rs::signature::{Ed25519KeyPair, KeyPair};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use cloakroom::generated::models::{
    ClientRepresentation, DecisionStrategy, GroupRepresentation, RealmRepresentation,
    RoleRepresentation, UserRepresentation,
};
use cloakroom::oidc::insecure_decode;
use cloakroom::{Client, Credentials, Error, JwtVerifier};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value, json};

fn cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

fn runner(n: u32) -> TestRunner {
    TestRunner::new(Config {
        cases: cases(n),
        // Failing inputs become explicit regression tests below, not files in the tree.
        failure_persistence: None,
        ..Config::default()
    })
}

/// Field names the models (and JWTs) really have, so objects hit real fields, not only unknown
/// keys that serde skips.
const KEYS: &[&str] = &[
    "id",
    "realm",
    "enabled",
    "displayName",
    "users",
    "clients",
    "roles",
    "groups",
    "client",
    "username",
    "email",
    "emailVerified",
    "firstName",
    "createdTimestamp",
    "attributes",
    "credentials",
    "requiredActions",
    "realmRoles",
    "clientRoles",
    "federatedIdentities",
    "access",
    "clientId",
    "secret",
    "publicClient",
    "redirectUris",
    "protocolMappers",
    "config",
    "authorizationSettings",
    "policies",
    "decisionStrategy",
    "policyEnforcementMode",
    "bruteForceProtected",
    "bruteForceStrategy",
    "accessTokenLifespan",
    "notBefore",
    "subGroups",
    "composite",
    "composites",
    "components",
    "identityProviders",
    "value",
    "type",
    "name",
    "path",
];

fn scalar() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("JSON has no NaN or infinity", |f| f.is_finite())
            .prop_map(Value::from),
        prop_oneof![
            Just("AFFIRMATIVE".to_owned()),
            Just("UNANIMOUS".to_owned()),
            Just("CONSENSUS".to_owned()),
            Just(String::new()),
            ".{0,12}",
        ]
        .prop_map(Value::String),
    ]
}

fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => proptest::sample::select(KEYS).prop_map(str::to_owned),
        1 => "[a-zA-Z]{0,8}",
    ]
}

fn json_value() -> impl Strategy<Value = Value> {
    scalar().prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            proptest::collection::vec((key(), inner), 0..8)
                .prop_map(|kv| Value::Object(kv.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

fn json_object() -> impl Strategy<Value = Value> {
    proptest::collection::vec((key(), json_value()), 0..12)
        .prop_map(|kv| Value::Object(kv.into_iter().collect()))
}

/// Decodes `v` as `T`; if accepted, what it serializes to decodes to the same value.
fn round_trips<T>(v: &Value) -> Result<(), TestCaseError>
where
    T: DeserializeOwned + Serialize + PartialEq + std::fmt::Debug,
{
    let text = v.to_string();
    let from_text = serde_json::from_str::<T>(&text);
    let from_value = serde_json::from_value::<T>(v.clone());
    prop_assert_eq!(from_text.is_ok(), from_value.is_ok(), "{}", text);
    if let Ok(m) = from_text {
        let back = serde_json::to_string(&m).expect("an accepted model serializes");
        let again: T = serde_json::from_str(&back)
            .unwrap_or_else(|e| panic!("{back} does not decode again: {e}"));
        prop_assert_eq!(&again, &m, "{}", back);
    }
    Ok(())
}

#[test]
fn models_decode_arbitrary_json_and_round_trip_what_they_accept() {
    runner(512)
        .run(&json_object(), |v| {
            round_trips::<RealmRepresentation>(&v)?;
            round_trips::<UserRepresentation>(&v)?;
            round_trips::<ClientRepresentation>(&v)?;
            round_trips::<GroupRepresentation>(&v)?;
            round_trips::<RoleRepresentation>(&v)?;
            // Nested under the fields that hold them.
            for field in ["users", "clients", "groups", "roles"] {
                round_trips::<RealmRepresentation>(&json!({ "realm": "r", field: [v.clone()] }))?;
            }
            Ok(())
        })
        .unwrap();
}

#[test]
fn enums_decode_any_string_and_round_trip() {
    runner(512)
        .run(&json_value(), |v| {
            round_trips::<DecisionStrategy>(&v)?;
            if let Value::String(s) = &v {
                let d: DecisionStrategy = serde_json::from_value(v.clone()).unwrap();
                prop_assert_eq!(d.as_str(), s.as_str());
            }
            Ok(())
        })
        .unwrap();
}

#[test]
fn models_decode_arbitrary_bytes_without_panicking() {
    let bytes = prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..256),
        // Mutated JSON: valid documents with bytes flipped, cut or inserted.
        (json_object(), any::<u64>(), any::<u8>()).prop_map(|(v, at, b)| {
            let mut s = v.to_string().into_bytes();
            let i = (at as usize) % (s.len() + 1);
            match at % 3 {
                0 if i < s.len() => s[i] = b,
                1 => s.truncate(i),
                _ => s.insert(i, b),
            }
            s
        }),
    ];
    runner(1000)
        .run(&bytes, |b| {
            let _ = serde_json::from_slice::<RealmRepresentation>(&b);
            let _ = serde_json::from_slice::<UserRepresentation>(&b);
            let _ = serde_json::from_slice::<ClientRepresentation>(&b);
            let _ = serde_json::from_slice::<DecisionStrategy>(&b);
            Ok(())
        })
        .unwrap();
}

// ---- JWTs ----

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Strings shaped like JWTs to different depths: free text, dotted base64 of arbitrary bytes,
/// dotted base64 of arbitrary JSON.
fn token_like() -> impl Strategy<Value = String> {
    let segment = prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..64).prop_map(|b| b64(&b)),
        json_value().prop_map(|v| b64(v.to_string().as_bytes())),
        "[A-Za-z0-9_=+/-]{0,40}",
    ];
    prop_oneof![
        ".{0,80}",
        "[A-Za-z0-9_.=-]{0,120}",
        proptest::collection::vec(segment, 0..6).prop_map(|s| s.join(".")),
    ]
}

#[test]
fn insecure_decode_never_panics_and_errors_are_typed() {
    runner(1000)
        .run(&token_like(), |t| {
            match insecure_decode(&t) {
                Ok(_) => {}
                Err(Error::Verify(_)) => {}
                Err(other) => prop_assert!(false, "untyped error for {t:?}: {other:?}"),
            }
            Ok(())
        })
        .unwrap();
}

struct Fixture {
    rt: tokio::runtime::Runtime,
    _server: wiremock::MockServer,
    verifier: JwtVerifier,
    key: Arc<Ed25519KeyPair>,
}

fn fixture() -> Fixture {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let pkcs8 = Ed25519KeyPair::generate_pkcs8(&aws_lc_rs::rand::SystemRandom::new()).unwrap();
    let key = Arc::new(Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).unwrap());
    let jwks = json!({"keys": [
        {"kid": "k1", "kty": "OKP", "crv": "Ed25519", "alg": "EdDSA", "use": "sig",
         "x": b64(key.public_key().as_ref())},
        // A key the library does not support sits next to it.
        {"kid": "k2", "kty": "RSA", "use": "enc", "alg": "RSA-OAEP", "n": "AQAB", "e": "AQAB"},
    ]});
    let (server, verifier) = rt.block_on(async {
        let server = wiremock::MockServer::start().await;
        wiremock::Mock::given(wiremock::matchers::path(
            "/realms/fuzz/protocol/openid-connect/certs",
        ))
        .respond_with(wiremock::ResponseTemplate::new(200).set_body_json(jwks))
        .mount(&server)
        .await;
        let client = Client::builder(server.uri())
            .credentials(Credentials::token("unused"))
            .build()
            .unwrap();
        let verifier = client
            .oidc("fuzz")
            .verifier()
            .issuer("https://issuer.example/realms/fuzz")
            .audience("api")
            .refetch_interval(Duration::from_secs(3600))
            .build()
            .unwrap();
        (server, verifier)
    });
    Fixture {
        rt,
        _server: server,
        verifier,
        key,
    }
}

/// Claims built around valid ones, so the checks after the signature see arbitrary values.
fn claims() -> impl Strategy<Value = Value> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let field = |good: Value| {
        prop_oneof![
            2 => Just(Some(good)),
            1 => Just(None),
            1 => scalar().prop_map(Some),
            1 => json_value().prop_map(Some),
        ]
    };
    (
        field(json!("https://issuer.example/realms/fuzz")),
        field(json!(["api", "other"])),
        field(json!(now + 300)),
        field(json!(now - 10)),
        field(json!(now - 10)),
        field(json!("api")),
        field(json!("Bearer")),
        json_object(),
    )
        .prop_map(|(iss, aud, exp, nbf, iat, azp, typ, extra)| {
            let mut m = extra.as_object().cloned().unwrap_or_default();
            for (k, v) in [
                ("iss", iss),
                ("aud", aud),
                ("exp", exp),
                ("nbf", nbf),
                ("iat", iat),
                ("azp", azp),
                ("typ", typ),
            ] {
                match v {
                    Some(v) => m.insert(k.into(), v),
                    None => m.remove(k),
                };
            }
            Value::Object(m)
        })
}

fn header() -> impl Strategy<Value = Value> {
    (
        prop_oneof![
            3 => Just(json!("EdDSA")),
            1 => proptest::sample::select(&["none", "HS256", "RS256", "ES256", "PS512", "eddsa", ""][..])
                .prop_map(Value::from),
            1 => scalar(),
        ],
        prop_oneof![
            3 => Just(Some(json!("k1"))),
            1 => Just(Some(json!("k2"))),
            1 => Just(None),
            1 => scalar().prop_map(Some),
        ],
        json_object(),
    )
        .prop_map(|(alg, kid, extra)| {
            let mut m = extra.as_object().cloned().unwrap_or_default();
            m.insert("alg".into(), alg);
            match kid {
                Some(k) => m.insert("kid".into(), k),
                None => m.remove("kid"),
            };
            Value::Object(m)
        })
}

#[test]
fn verifier_never_panics_on_arbitrary_tokens_and_errors_are_typed() {
    let f = fixture();
    let check = |r: cloakroom::Result<cloakroom::oidc::Claims>, t: &str| match r {
        Ok(_) => Ok(()),
        Err(Error::Verify(_)) => Ok(()),
        Err(other) => Err(TestCaseError::fail(format!(
            "untyped error for {t:?}: {other:?}"
        ))),
    };
    runner(1000)
        .run(&token_like(), |t| {
            check(f.rt.block_on(f.verifier.verify(&t)), &t)?;
            check(f.rt.block_on(f.verifier.verify_id_token(&t, Some("n"))), &t)
        })
        .unwrap();

    // Well-signed tokens with arbitrary headers and claims: the checks after the signature.
    let accepted = AtomicU32::new(0);
    let runs = AtomicU32::new(0);
    runner(500)
        .run(&(header(), claims()), |(h, c)| {
            let signing_input = format!(
                "{}.{}",
                b64(h.to_string().as_bytes()),
                b64(c.to_string().as_bytes())
            );
            let sig = f.key.sign(signing_input.as_bytes());
            let t = format!("{signing_input}.{}", b64(sig.as_ref()));
            runs.fetch_add(1, Ordering::Relaxed);
            let r = f.rt.block_on(f.verifier.verify(&t));
            if let Ok(claims) = &r {
                accepted.fetch_add(1, Ordering::Relaxed);
                // Accepted only what a valid token says.
                prop_assert_eq!(&h["alg"], &json!("EdDSA"));
                // With no `kid` (absent or null), the keys that fit the algorithm are tried;
                // the signature still has to verify.
                prop_assert!(h["kid"].is_null() || h["kid"] == json!("k1"), "{}", h);
                prop_assert_eq!(
                    claims.iss.as_deref(),
                    Some("https://issuer.example/realms/fuzz")
                );
            }
            check(r, &t)?;
            // The same token with its signature damaged is always refused.
            let mut bad = t.clone().into_bytes();
            let last = bad.len() - 2;
            bad[last] = if bad[last] == b'A' { b'B' } else { b'A' };
            let bad = String::from_utf8(bad).unwrap();
            prop_assert!(f.rt.block_on(f.verifier.verify(&bad)).is_err());
            Ok(())
        })
        .unwrap();
    // The generator reaches the accepting path too, not only early rejections.
    let (accepted, runs) = (accepted.into_inner(), runs.into_inner());
    assert!(
        accepted > 0,
        "no generated token was accepted in {runs} runs"
    );
    eprintln!("signed tokens: {accepted} of {runs} accepted");
}

/// Found by the round-trip property: without serde_json's `float_roundtrip`, an unknown field
/// holding this number came back one ULP off, so a read-modify-write changed data it never touched.
#[test]
fn regression_unknown_float_fields_round_trip_exactly() {
    let v = json!({"realm": {"id": [2.017549161362368e248_f64]}});
    round_trips::<UserRepresentation>(&v).unwrap();
    let u: UserRepresentation = serde_json::from_str(&v.to_string()).unwrap();
    assert_eq!(serde_json::to_value(&u).unwrap(), v);
}

/// Found by the signed-token property (PROPTEST_CASES=20000): `"kid": null` is treated as no
/// `kid`, so the token is checked against the keys that fit its algorithm: accepted only with a
/// good signature. A `kid` of another type is malformed.
#[test]
fn regression_null_kid_is_treated_as_absent() {
    let f = fixture();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let claims = json!({"iss": "https://issuer.example/realms/fuzz", "aud": ["api", "other"],
        "exp": now + 300, "nbf": now - 10, "iat": now - 10, "azp": "api", "typ": "Bearer"});
    let pkcs8 = Ed25519KeyPair::generate_pkcs8(&aws_lc_rs::rand::SystemRandom::new()).unwrap();
    let stranger = Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).unwrap();
    for kid in [Value::Null, json!(5), json!(["k1"])] {
        let h = json!({"alg": "EdDSA", "kid": kid});
        let input = format!(
            "{}.{}",
            b64(h.to_string().as_bytes()),
            b64(claims.to_string().as_bytes())
        );
        let good = format!("{input}.{}", b64(f.key.sign(input.as_bytes()).as_ref()));
        let r = f.rt.block_on(f.verifier.verify(&good));
        if kid.is_null() {
            assert_eq!(
                r.unwrap().iss.as_deref(),
                Some("https://issuer.example/realms/fuzz")
            );
        } else {
            assert!(
                matches!(&r, Err(Error::Verify(v)) if matches!(**v, cloakroom::error::VerifyError::Malformed(_))),
                "{r:?}"
            );
        }
        let forged = format!("{input}.{}", b64(stranger.sign(input.as_bytes()).as_ref()));
        match f.rt.block_on(f.verifier.verify(&forged)) {
            Err(Error::Verify(_)) => {}
            other => panic!("forged token with kid {h}: {other:?}"),
        }
    }
}
