//! The twenty everyday chores of python-keycloak's documentation, as cloakroom writes them.
//!
//! Each chore is one function below; its body is what a user writes (`examples/README.md`
//! compares the lengths with python-keycloak's). `tests/it/chores.rs` runs every function
//! against the real Keycloak and checks the result through the Admin API.
//!
//! Run it yourself: `cargo run -p cloakroom --example chores` against `CLOAKROOM_URL`
//! (default `http://127.0.0.1:8080`) as `CLOAKROOM_ADMIN_USER`/`CLOAKROOM_ADMIN_PASSWORD`
//! (default `admin`/`admin`). It works in a realm `chores-demo` that it deletes afterwards.

#![allow(dead_code)] // The test suite calls each chore; `main` calls them in one sequence.

use std::process::ExitCode;

use cloakroom::generated::models::{
    ClientRepresentation, ProtocolMapperRepresentation, RealmRepresentation, RoleRepresentation,
    UserRepresentation,
};
use cloakroom::oidc::{Claims, Introspection, OidcClient, PasswordGrant, UserInfo};
use cloakroom::{Client, ClientAuth, Credentials, Result, Secret, TokenSet};
use futures_util::TryStreamExt;

// --- Administration ---------------------------------------------------------------------

/// 1. Create a realm (safe to repeat).
pub async fn create_realm(kc: &Client, realm: &str) -> Result<()> {
    kc.realms().ensure(&RealmRepresentation::new(realm)).await?;
    Ok(())
}

/// 2. Create a user with an email and a password; returns the new id.
pub async fn create_user(kc: &Client, realm: &str) -> Result<String> {
    let ada = UserRepresentation::new("ada")
        .with_email("ada@example.com", true)
        .with_name("Ada", "Lovelace")
        .with_password("correct horse", false);
    kc.realm(realm).users().create(&ada).send().await
}

/// 3. The id of a user, by username.
pub async fn user_id(kc: &Client, realm: &str, username: &str) -> Result<Option<String>> {
    Ok(kc.realm(realm).users().get_by_username(username).await?.id)
}

/// 4. Change one field of a user (everything else is kept).
pub async fn update_user(kc: &Client, realm: &str, id: &str) -> Result<()> {
    let user = kc.realm(realm).user(id);
    user.patch(|u| u.first_name = Some("Augusta".into()))
        .await
        .map(drop)
}

/// 5. Set a user's password (temporary: to be changed at the next login).
pub async fn set_password(kc: &Client, realm: &str, id: &str) -> Result<()> {
    let user = kc.realm(realm).user(id);
    user.set_password("battery staple", true).await
}

/// 6. Disable a user, and enable them again.
pub async fn disable_and_enable(kc: &Client, realm: &str, id: &str) -> Result<()> {
    kc.realm(realm).user(id).disable().await?;
    kc.realm(realm).user(id).enable().await
}

/// 7. Count the users of a realm.
pub async fn count_users(kc: &Client, realm: &str) -> Result<i32> {
    kc.realm(realm).users().count().send().await
}

/// 8. Every user of a realm, all pages (not Keycloak's default first 100).
pub async fn all_users(kc: &Client, realm: &str) -> Result<Vec<UserRepresentation>> {
    kc.realm(realm).users().list().stream().try_collect().await
}

/// 9. Create two realm roles and grant them to a user by name.
pub async fn grant_realm_roles(kc: &Client, realm: &str, id: &str) -> Result<()> {
    let acme = kc.realm(realm);
    for name in ["auditor", "viewer"] {
        acme.roles().ensure(&RoleRepresentation::new(name)).await?;
    }
    acme.user(id).add_realm_roles(["auditor", "viewer"]).await
}

/// 10. Create a confidential client; returns its UUID.
pub async fn create_client(kc: &Client, realm: &str) -> Result<String> {
    let billing = ClientRepresentation::confidential("billing").secret("billing-secret");
    Ok(kc.realm(realm).clients().ensure(&billing).await?.id)
}

/// 11. The UUID of a client, by its `clientId`.
pub async fn client_uuid(kc: &Client, realm: &str) -> Result<String> {
    kc.realm(realm).clients().uuid_of("billing").await
}

/// 12. Read a client's secret.
pub async fn client_secret(kc: &Client, realm: &str, uuid: &str) -> Result<Option<String>> {
    let secret = kc.realm(realm).client(uuid).client_secret().send().await?;
    Ok(secret.value)
}

/// 13. Create a client role and grant it to a user by name.
pub async fn grant_client_role(kc: &Client, realm: &str, uuid: &str, id: &str) -> Result<()> {
    let (acme, role) = (kc.realm(realm), "invoices:read");
    acme.client(uuid)
        .roles()
        .ensure(&RoleRepresentation::new(role))
        .await?;
    acme.user(id).add_client_roles("billing", [role]).await
}

/// 14. Create a group along its path and put a user in it; returns the group's id.
pub async fn join_group(kc: &Client, realm: &str, id: &str) -> Result<String> {
    let group = kc.realm(realm).ensure_group_path("/eng/platform").await?;
    let user = kc.realm(realm).user(id);
    user.join_group(&group.id).send().await.map(|()| group.id)
}

/// 15. A group by its path.
pub async fn group_by_path(kc: &Client, realm: &str) -> Result<Option<String>> {
    Ok(kc.realm(realm).get_group_by_path("/eng/platform").await?.id)
}

/// 16. Delete a user.
pub async fn delete_user(kc: &Client, realm: &str, id: &str) -> Result<()> {
    kc.realm(realm).user(id).delete().send().await
}

// --- OpenID Connect -----------------------------------------------------------------------

/// What chore 18 finds out about a token.
pub type Checked = (UserInfo, Introspection);

/// The confidential client `portal` of chores 17–20 (python-keycloak's `KeycloakOpenID`).
pub fn portal(kc: &Client, realm: &str) -> OidcClient {
    let secret = ClientAuth::SecretPost("portal-secret".into());
    kc.oidc(realm).client("portal", secret)
}

/// 17. Log in with a password, then refresh.
pub async fn login_and_refresh(kc: &Client, realm: &str) -> Result<TokenSet> {
    let grant = PasswordGrant::new("grace", "hopper").scope("openid");
    let tokens = portal(kc, realm).password(grant).await?;
    let refresh = tokens.refresh_token.expect("a password grant issues one");
    portal(kc, realm).refresh(&refresh).await
}

/// 18. Userinfo and introspection of an access token.
pub async fn userinfo_and_introspect(kc: &Client, realm: &str, t: &TokenSet) -> Result<Checked> {
    let portal = portal(kc, realm);
    let info = portal.userinfo(&t.access_token).await?;
    Ok((info, portal.introspect(&t.access_token).await?))
}

/// 19. Verify an access token offline against the realm's published keys.
pub async fn verify_token(kc: &Client, realm: &str, tokens: &TokenSet) -> Result<Claims> {
    let verifier = kc.oidc(realm).verifier().audience("portal").build()?;
    verifier.verify(tokens.access_token.expose_secret()).await
}

/// 20. Log out (ends the session the refresh token belongs to).
pub async fn logout(kc: &Client, realm: &str, refresh_token: &Secret) -> Result<()> {
    portal(kc, realm).logout(refresh_token).await
}

// --- Running them in sequence --------------------------------------------------------------

/// The client and user that chores 17–20 log in with: `portal` allows the password grant and
/// puts itself in the token's audience (Keycloak lets only an audience introspect a token).
pub async fn login_fixture(kc: &Client, realm: &str) -> Result<()> {
    let mut portal = ClientRepresentation::confidential("portal").secret("portal-secret");
    portal.direct_access_grants_enabled = Some(true);
    portal.protocol_mappers = Some(vec![ProtocolMapperRepresentation::audience(
        "self", "portal",
    )]);
    kc.realm(realm).clients().ensure(&portal).await?;
    let grace = UserRepresentation::new("grace")
        .with_email("grace@example.com", true)
        .with_name("Grace", "Hopper")
        .with_password("hopper", false);
    kc.realm(realm).users().ensure(&grace).await?;
    Ok(())
}

async fn run(kc: &Client, realm: &str) -> Result<()> {
    create_realm(kc, realm).await?;
    let id = create_user(kc, realm).await?;
    println!(
        "created ada: {id} (found again: {:?})",
        user_id(kc, realm, "ada").await?
    );
    update_user(kc, realm, &id).await?;
    set_password(kc, realm, &id).await?;
    disable_and_enable(kc, realm, &id).await?;
    grant_realm_roles(kc, realm, &id).await?;
    let uuid = create_client(kc, realm).await?;
    println!(
        "billing is {uuid} ({})",
        client_uuid(kc, realm).await? == uuid
    );
    println!(
        "billing's secret is set: {}",
        client_secret(kc, realm, &uuid).await?.is_some()
    );
    grant_client_role(kc, realm, &uuid, &id).await?;
    join_group(kc, realm, &id).await?;
    println!("group /eng/platform: {:?}", group_by_path(kc, realm).await?);
    let listed = all_users(kc, realm).await?.len();
    println!("{} users ({listed} listed)", count_users(kc, realm).await?);
    login_fixture(kc, realm).await?;
    let tokens = login_and_refresh(kc, realm).await?;
    let (info, introspection) = userinfo_and_introspect(kc, realm, &tokens).await?;
    let who = info.claims.preferred_username;
    println!(
        "userinfo of {who:?}, token active: {}",
        introspection.active
    );
    let claims = verify_token(kc, realm, &tokens).await?;
    println!("verified a token of {:?}", claims.preferred_username);
    logout(kc, realm, tokens.refresh_token.as_ref().expect("issued")).await?;
    delete_user(kc, realm, &id).await
}

#[tokio::main]
async fn main() -> ExitCode {
    let env = |name: &str, default: &str| std::env::var(name).unwrap_or_else(|_| default.into());
    let admin = Credentials::password(
        env("CLOAKROOM_ADMIN_USER", "admin"),
        env("CLOAKROOM_ADMIN_PASSWORD", "admin"),
    );
    let result = match Client::builder(env("CLOAKROOM_URL", "http://127.0.0.1:8080"))
        .credentials(admin)
        .build()
    {
        Ok(kc) => {
            let outcome = run(&kc, "chores-demo").await;
            let _ = kc.realm("chores-demo").delete().send().await;
            outcome
        }
        Err(e) => Err(e),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("chores failed: {e}");
            ExitCode::FAILURE
        }
    }
}
