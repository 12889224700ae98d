//! The README's first command runs this against a local Keycloak (`cargo xtask demo`).
//!
//! It creates a demo realm with a few users, logs in as one of them, lists the users and prints
//! a summary. Configuration comes from the environment:
//! `CLOAKROOM_URL` (default `http://127.0.0.1:8080`), `CLOAKROOM_ADMIN_USER` /
//! `CLOAKROOM_ADMIN_PASSWORD` (default `admin`/`admin`), `CLOAKROOM_DEMO_REALM` (default `demo`).

use std::process::ExitCode;

use cloakroom::generated::models::{
    CredentialRepresentation, RealmRepresentation, UserRepresentation,
};
use cloakroom::{Client, Credentials, Result};
use futures_util::TryStreamExt;

fn env(name: &str, default: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| default.to_owned())
}

#[tokio::main]
async fn main() -> ExitCode {
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("quickstart failed: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<()> {
    let url = env("CLOAKROOM_URL", "http://127.0.0.1:8080");
    let realm_name = env("CLOAKROOM_DEMO_REALM", "demo");
    let admin = Client::builder(&url)
        .credentials(Credentials::password(
            env("CLOAKROOM_ADMIN_USER", "admin"),
            env("CLOAKROOM_ADMIN_PASSWORD", "admin"),
        ))
        .build()?;

    // A fresh demo realm each run.
    let realm = admin.realm(&realm_name);
    match realm.delete().send().await {
        Ok(()) => println!("removed the previous `{realm_name}` realm"),
        Err(e) if e.is_not_found() => {}
        Err(e) => return Err(e),
    }
    admin
        .realms()
        .create(&RealmRepresentation {
            realm: Some(realm_name.clone()),
            enabled: Some(true),
            display_name: Some("cloakroom demo".into()),
            ..Default::default()
        })
        .send()
        .await?;
    println!("created realm `{realm_name}` on {url}");

    let people = [
        ("ada", "Ada", "Lovelace"),
        ("grace", "Grace", "Hopper"),
        ("alan", "Alan", "Turing"),
    ];
    for (username, first, last) in people {
        let user = UserRepresentation {
            username: Some(username.into()),
            enabled: Some(true),
            email: Some(format!("{username}@example.com")),
            email_verified: Some(true),
            first_name: Some(first.into()),
            last_name: Some(last.into()),
            credentials: Some(vec![CredentialRepresentation {
                r#type: Some("password".into()),
                value: Some(format!("{username}-demo-pw")),
                temporary: Some(false),
                ..Default::default()
            }]),
            ..Default::default()
        };
        // `ensure` creates the user, or returns the existing one's id: safe to run twice.
        let id = realm.users().ensure(&user).await?.id;
        println!("  user {username:<6} id {id}");
    }

    // Log in as one of them with the password grant, in the demo realm itself.
    let ada = Client::builder(&url)
        .auth_realm(&realm_name)
        .credentials(Credentials::password("ada", "ada-demo-pw"))
        .build()?;
    let token = ada.token_set().await?;
    let lifetime = token
        .expires_at
        .and_then(|e| e.duration_since(token.issued_at).ok())
        .map(|d| d.as_secs())
        .unwrap_or(0);
    println!(
        "ada logged in: {} token valid for {lifetime} s",
        token.token_type
    );

    // Every page of users (a plain list stops at Keycloak's default of 100).
    let users: Vec<UserRepresentation> = realm
        .users()
        .list()
        .brief_representation(true)
        .stream()
        .try_collect()
        .await?;
    let count = realm.users().count().send().await?;
    println!("\n{count} users in `{realm_name}`:");
    println!("  {:<8} {:<20} EMAIL", "USERNAME", "NAME");
    for u in &users {
        let s = |v: &Option<String>| v.clone().unwrap_or_default();
        println!(
            "  {:<8} {:<20} {}",
            s(&u.username),
            format!("{} {}", s(&u.first_name), s(&u.last_name)),
            s(&u.email)
        );
    }
    println!(
        "\ntoken requests made by the admin client: {}",
        admin.token_stats().token_requests
    );
    Ok(())
}
