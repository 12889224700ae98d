//! A client's key pair and certificate under an attribute prefix (`jwt.credential`, the one
//! private_key_jwt client authentication reads): generate, read, download a keystore, upload a
//! keystore and a PEM certificate (multipart), generate and download.

use cloakroom::generated::models::KeyStoreConfig;
use serde_json::json;

use super::{TestRealm, confidential, create_client};
use crate::support::kc::admin;

fn keystore(format: &str) -> KeyStoreConfig {
    KeyStoreConfig {
        format: Some(format.into()),
        key_alias: Some("signing".into()),
        key_password: Some("key-pass".into()),
        store_password: Some("store-pass".into()),
        realm_certificate: Some(false),
        ..Default::default()
    }
}

#[tokio::test]
async fn client_certificate_generate_get_download_upload() {
    let kc = admin();
    let realm = TestRealm::new(&kc, "cl-cert", json!({})).await;
    let mut rep = confidential("signer", "signer-secret");
    rep.client_authenticator_type = Some("client-jwt".into());
    let id = create_client(&kc, &realm.name, rep).await;
    let cert = kc
        .realm(&realm.name)
        .client(&id)
        .certificate("jwt.credential");

    let generated = cert.generate().send().await.unwrap();
    let pem = generated.certificate.clone().unwrap();
    assert!(pem.len() > 500, "a base64 DER certificate: {pem}");
    assert!(generated.private_key.is_some());
    let got = cert.get().send().await.unwrap();
    assert_eq!(got.certificate.as_deref(), Some(pem.as_str()));

    // A PKCS#12 keystore with the key pair, uploaded again as it is.
    let p12 = cert.download(&keystore("PKCS12")).send().await.unwrap();
    assert!(p12.len() > 1000, "{} bytes", p12.len());
    assert_eq!(p12[0], 0x30, "DER (an ASN.1 SEQUENCE)");
    let other = cert.generate().send().await.unwrap();
    assert_ne!(other.certificate.as_deref(), Some(pem.as_str()));
    let uploaded = cert
        .upload("PKCS12", p12.clone())
        .key_alias("signing")
        .key_password("key-pass")
        .store_password("store-pass")
        .send()
        .await
        .unwrap();
    assert_eq!(uploaded.certificate.as_deref(), Some(pem.as_str()));
    assert!(uploaded.private_key.is_some());
    assert_eq!(
        cert.get().send().await.unwrap().certificate.as_deref(),
        Some(pem.as_str())
    );

    // A new pair; only its certificate stays on the server, the private key is in the keystore.
    let jks = cert
        .generate_and_download(&keystore("JKS"))
        .send()
        .await
        .unwrap();
    assert_eq!(&jks[..4], &[0xfe, 0xed, 0xfe, 0xed], "a JKS magic number");
    let after = cert.get().send().await.unwrap();
    let new_pem = after.certificate.unwrap();
    assert_ne!(new_pem, pem);

    // Back to the first certificate, as a PEM file.
    let file = format!("-----BEGIN CERTIFICATE-----\n{pem}\n-----END CERTIFICATE-----\n");
    let only_cert = cert
        .upload_certificate("Certificate PEM", file.into_bytes())
        .send()
        .await
        .unwrap();
    assert_eq!(only_cert.certificate.as_deref(), Some(pem.as_str()));
    assert_eq!(
        cert.get().send().await.unwrap().certificate.as_deref(),
        Some(pem.as_str())
    );
    realm.finish(&kc).await;
}
