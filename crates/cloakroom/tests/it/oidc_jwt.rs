//! Offline JWT verification against the real server's keys: key rotation through the Admin API,
//! a burst of unknown-kid tokens, and attack tokens each refused with a typed error.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, SystemTime};

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use cloakroom::error::VerifyError;
use cloakroom::oidc::insecure_decode;
use cloakroom::{ClientAuth, Error};
use serde_json::{Value, json};

use crate::oidc_util::*;

const SECRET: &str = "api-secret";

fn verify_error(r: cloakroom::Result<cloakroom::oidc::Claims>) -> VerifyError {
    match r {
        Err(Error::Verify(v)) => *v,
        Err(other) => panic!("expected a verification error, got {other}"),
        Ok(c) => panic!("token accepted: {c:?}"),
    }
}

/// A clock that starts at the real time and can be moved by the test.
fn movable_clock() -> (
    Arc<AtomicI64>,
    impl Fn() -> SystemTime + Send + Sync + Clone + 'static,
) {
    let offset = Arc::new(AtomicI64::new(0));
    let o = offset.clone();
    let clock = move || {
        let off = o.load(Ordering::SeqCst);
        if off >= 0 {
            SystemTime::now() + Duration::from_secs(off as u64)
        } else {
            SystemTime::now() - Duration::from_secs((-off) as u64)
        }
    };
    (offset, clock)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn key_rotation_refetches_once_and_a_burst_fetches_once_per_interval() {
    let admin = admin();
    let realm = create_realm(
        &admin,
        "oidc-rotate",
        json!({"clients": [confidential("api", SECRET)]}),
    )
    .await;
    let _cleanup = cleanup(&realm);
    let (kc, fetches) = counting_client();
    let (offset, clock) = movable_clock();
    let oidc = kc.oidc(&realm);
    let api = oidc.client("api", ClientAuth::SecretBasic(SECRET.into()));
    let verifier = oidc
        .verifier()
        .authorized_party("api")
        .refetch_interval(Duration::from_secs(60))
        .clock(clock)
        .build()
        .unwrap();

    let old = api.client_credentials().await.unwrap().access_token;
    let c = verifier.verify(old.expose_secret()).await.unwrap();
    assert_eq!(c.azp.as_deref(), Some("api"));
    assert_eq!(
        fetches.load(Ordering::SeqCst),
        1,
        "first use fetches the JWKS"
    );
    for _ in 0..50 {
        verifier.verify(old.expose_secret()).await.unwrap();
    }
    assert_eq!(fetches.load(Ordering::SeqCst), 1, "warm cache: no fetch");

    // Rotate: a new active RS256 key with a higher priority signs every new token.
    let realm_id = admin
        .raw()
        .get(format!("/admin/realms/{realm}"))
        .send_json::<Value>()
        .await
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    post_id(
        &admin,
        format!("/admin/realms/{realm}/components"),
        json!({
            "name": "rotated-rsa",
            "providerId": "rsa-generated",
            "providerType": "org.keycloak.keys.KeyProvider",
            "parentId": realm_id,
            "config": {
                "priority": ["500"], "enabled": ["true"], "active": ["true"],
                "keySize": ["2048"], "algorithm": ["RS256"],
            },
        }),
    )
    .await;
    let new = api.client_credentials().await.unwrap().access_token;
    let (old_h, _) = insecure_decode(old.expose_secret()).unwrap();
    let (new_h, _) = insecure_decode(new.expose_secret()).unwrap();
    assert_ne!(old_h.kid, new_h.kid, "the new key signs new tokens");

    // Within the refetch interval an unknown kid is not fetched again…
    let e = verify_error(verifier.verify(new.expose_secret()).await);
    assert!(matches!(e, VerifyError::UnknownKey(_)), "{e:?}");
    assert_eq!(fetches.load(Ordering::SeqCst), 1);
    // …after it, exactly one refetch finds the new key, and the old key still verifies.
    offset.store(61, Ordering::SeqCst);
    verifier.verify(new.expose_secret()).await.unwrap();
    assert_eq!(
        fetches.load(Ordering::SeqCst),
        2,
        "one refetch on the new kid"
    );
    verifier.verify(old.expose_secret()).await.unwrap();
    verifier.verify(new.expose_secret()).await.unwrap();
    assert_eq!(fetches.load(Ordering::SeqCst), 2);

    // A burst of 1,000 concurrent tokens with an unknown kid: one fetch per interval.
    let (mut h, p, s) = split(new.expose_secret());
    h["kid"] = json!("kid-that-does-not-exist");
    let forged = join(&h, &p, &s);
    offset.store(122, Ordering::SeqCst);
    let burst = |n: usize| {
        let tasks: Vec<_> = (0..n)
            .map(|_| {
                let v = verifier.clone();
                let t = forged.clone();
                tokio::spawn(async move { v.verify(&t).await })
            })
            .collect();
        async move {
            for t in tasks {
                let e = verify_error(t.await.unwrap());
                assert!(matches!(e, VerifyError::UnknownKey(_)), "{e:?}");
            }
        }
    };
    burst(1000).await;
    assert_eq!(
        fetches.load(Ordering::SeqCst),
        3,
        "1,000 unknown-kid tokens cause one fetch"
    );
    burst(1000).await;
    assert_eq!(
        fetches.load(Ordering::SeqCst),
        3,
        "no fetch within the interval"
    );
    offset.store(183, Ordering::SeqCst);
    burst(1000).await;
    assert_eq!(
        fetches.load(Ordering::SeqCst),
        4,
        "next interval: one more fetch"
    );

    delete_realm(&admin, &realm).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn attack_tokens_are_refused_with_typed_errors() {
    let admin = admin();
    let realm = create_realm(
        &admin,
        "oidc-attack",
        json!({"clients": [confidential("api", SECRET)]}),
    )
    .await;
    let _cleanup = cleanup(&realm);
    let (kc, fetches) = counting_client();
    let oidc = kc.oidc(&realm);
    let api = oidc.client("api", ClientAuth::SecretPost(SECRET.into()));
    let token = api.client_credentials().await.unwrap().access_token;
    let token = token.expose_secret();
    let verifier = oidc.verifier().authorized_party("api").build().unwrap();
    let good = verifier.verify(token).await.unwrap();
    assert_eq!(good.typ.as_deref(), Some("Bearer"));
    assert_eq!(fetches.load(Ordering::SeqCst), 1);
    let (h, p, s) = split(token);

    // alg: none, with and without a signature.
    let mut none = h.clone();
    none["alg"] = json!("none");
    for t in [join(&none, &p, ""), join(&none, &p, &s)] {
        let e = verify_error(verifier.verify(&t).await);
        assert!(matches!(e, VerifyError::Algorithm(_)), "{e:?}");
    }

    // HS256 signed with the realm's RSA public key (the classic key-confusion attack).
    let jwks: Value = kc
        .raw()
        .get(format!("/realms/{realm}/protocol/openid-connect/certs"))
        .send_json()
        .await
        .unwrap();
    let jwk = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kid"] == h["kid"])
        .unwrap()
        .clone();
    let cert_der = STANDARD.decode(jwk["x5c"][0].as_str().unwrap()).unwrap();
    let pem = format!(
        "-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n",
        STANDARD.encode(&cert_der)
    );
    let mut hs = h.clone();
    hs["alg"] = json!("HS256");
    let unsigned = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(hs.to_string()),
        URL_SAFE_NO_PAD.encode(p.to_string())
    );
    for key in [
        pem.as_bytes(),
        &cert_der[..],
        jwk["n"].as_str().unwrap().as_bytes(),
    ] {
        let k = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, key);
        let tag = aws_lc_rs::hmac::sign(&k, unsigned.as_bytes());
        let t = format!("{unsigned}.{}", URL_SAFE_NO_PAD.encode(tag.as_ref()));
        let e = verify_error(verifier.verify(&t).await);
        assert!(matches!(e, VerifyError::Algorithm(_)), "{e:?}");
    }

    // An RSA algorithm other than the one the key is published for.
    let mut ps = h.clone();
    ps["alg"] = json!("PS256");
    let e = verify_error(verifier.verify(&join(&ps, &p, &s)).await);
    assert!(matches!(e, VerifyError::Algorithm(_)), "{e:?}");

    // Wrong issuer, wrong audience / azp.
    let e = verify_error(
        oidc.verifier()
            .authorized_party("api")
            .issuer("http://evil.example/realms/x")
            .build()
            .unwrap()
            .verify(token)
            .await,
    );
    assert!(matches!(e, VerifyError::Issuer { .. }), "{e:?}");
    for v in [
        oidc.verifier().audience("other-api").build().unwrap(),
        oidc.verifier()
            .authorized_party("other-api")
            .build()
            .unwrap(),
    ] {
        let e = verify_error(v.verify(token).await);
        assert!(matches!(e, VerifyError::Audience { .. }), "{e:?}");
    }

    // Expired and not yet valid, judged by an injected clock (leeway 30 s).
    let later = oidc
        .verifier()
        .authorized_party("api")
        .clock(|| SystemTime::now() + Duration::from_secs(86_400))
        .build()
        .unwrap();
    assert_eq!(
        verify_error(later.verify(token).await),
        VerifyError::Expired
    );
    let earlier = oidc
        .verifier()
        .authorized_party("api")
        .clock(|| SystemTime::now() - Duration::from_secs(3_600))
        .build()
        .unwrap();
    assert_eq!(
        verify_error(earlier.verify(token).await),
        VerifyError::NotYetValid
    );
    // Leeway is configurable: 20 s of clock skew passes with the default 30 s leeway.
    let skewed = oidc
        .verifier()
        .authorized_party("api")
        .clock(|| SystemTime::now() - Duration::from_secs(20))
        .build()
        .unwrap();
    skewed.verify(token).await.unwrap();

    // Tampered payload (privilege escalation), original signature kept.
    let mut evil = p.clone();
    evil["realm_access"] = json!({"roles": ["admin"]});
    assert_eq!(
        verify_error(verifier.verify(&join(&h, &evil, &s)).await),
        VerifyError::Signature
    );
    // A flipped signature bit.
    let mut sig = URL_SAFE_NO_PAD.decode(&s).unwrap();
    sig[10] ^= 0x40;
    assert_eq!(
        verify_error(
            verifier
                .verify(&join(&h, &p, &URL_SAFE_NO_PAD.encode(&sig)))
                .await
        ),
        VerifyError::Signature
    );

    // Unknown kid: refused after one refetch of the JWKS (interval 0 here, so the miss
    // refetches at once).
    let eager = oidc
        .verifier()
        .authorized_party("api")
        .refetch_interval(Duration::ZERO)
        .build()
        .unwrap();
    eager.verify(token).await.unwrap();
    let before = fetches.load(Ordering::SeqCst);
    let mut unknown = h.clone();
    unknown["kid"] = json!("no-such-key");
    let e = verify_error(eager.verify(&join(&unknown, &p, &s)).await);
    assert_eq!(e, VerifyError::UnknownKey("no-such-key".into()));
    assert_eq!(fetches.load(Ordering::SeqCst), before + 1, "one refetch");
    // With the default interval (10 s) the same miss right after a fetch is refused without
    // another one.
    let before = fetches.load(Ordering::SeqCst);
    let e = verify_error(verifier.verify(&join(&unknown, &p, &s)).await);
    assert_eq!(e, VerifyError::UnknownKey("no-such-key".into()));
    // kid with path and SQL-like content: looked up, never used in a URL or query.
    for kid in [
        "../../../../etc/passwd",
        "x' OR '1'='1'; DROP TABLE keys; --",
        "%2e%2e%2fcerts?x=1",
    ] {
        let mut bad = h.clone();
        bad["kid"] = json!(kid);
        let e = verify_error(verifier.verify(&join(&bad, &p, &s)).await);
        assert!(matches!(e, VerifyError::UnknownKey(_)), "{e:?}");
    }
    let mut long = h.clone();
    long["kid"] = json!("k".repeat(10_000));
    let e = verify_error(verifier.verify(&join(&long, &p, &s)).await);
    assert!(matches!(e, VerifyError::Malformed(_)), "{e:?}");
    assert!(
        fetches.load(Ordering::SeqCst) - before <= 1,
        "unknown kids refetch at most once per interval"
    );

    // Oversized token: refused before parsing or fetching.
    let before = fetches.load(Ordering::SeqCst);
    let mut fat = p.clone();
    fat["pad"] = json!("A".repeat(100_000));
    let e = verify_error(verifier.verify(&join(&h, &fat, &s)).await);
    assert!(
        matches!(e, VerifyError::Malformed(ref m) if m.contains("limit")),
        "{e:?}"
    );
    let e = verify_error(verifier.verify(&"a".repeat(1 << 20)).await);
    assert!(matches!(e, VerifyError::Malformed(_)), "{e:?}");
    // Structurally broken tokens.
    for t in ["", "abc", "a.b", "a.b.c.d.e", "!!!.???.***"] {
        let e = verify_error(verifier.verify(t).await);
        assert!(matches!(e, VerifyError::Malformed(_)), "{t}: {e:?}");
    }
    assert_eq!(fetches.load(Ordering::SeqCst), before);

    // The untouched token still passes: nothing above poisoned the cache.
    verifier.verify(token).await.unwrap();
    delete_realm(&admin, &realm).await;
}
