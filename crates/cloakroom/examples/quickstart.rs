//! The README's first command runs this against a local Keycloak (`cargo xtask demo`).
//!
//! It creates a demo realm with a few users, logs in as one of them, lists the users and prints
//! a summary. Configuration comes from the environment:
//! `CLOAKROOM_URL` (default `http://127.0.0.1:8080`), `CLOAKROOM_ADMIN_USER` /
//! `CLOAKROOM_ADMIN_PASSWORD` (default `admin`/`admin`), `CLOAKROOM_DEMO_REALM` (default `demo`).

use std::process::ExitCode;

use cloakroom::{Client, Credentials, Result};
use serde_json::{Value, json};

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
    let realm = env("CLOAKROOM_DEMO_REALM", "demo");
    let admin = Client::builder(&url)
        .credentials(Credentials::password(
            env("CLOAKROOM_ADMIN_USER", "admin"),
            env("CLOAKROOM_ADMIN_PASSWORD", "admin"),
        ))
        .build()?;

    // A fresh demo realm each run.
    match admin
        .raw()
        .delete(format!("/admin/realms/{realm}"))
        .send()
        .await
    {
        Ok(_) => println!("removed the previous `{realm}` realm"),
        Err(e) if e.is_not_found() => {}
        Err(e) => return Err(e),
    }
    admin
        .raw()
        .post("/admin/realms")
        .json(&json!({"realm": realm, "enabled": true, "displayName": "cloakroom demo"}))
        .send()
        .await?;
    println!("created realm `{realm}` on {url}");

    let people = [
        ("ada", "Ada", "Lovelace"),
        ("grace", "Grace", "Hopper"),
        ("alan", "Alan", "Turing"),
    ];
    for (username, first, last) in people {
        let id = admin
            .raw()
            .post(format!("/admin/realms/{realm}/users"))
            .json(&json!({
                "username": username, "enabled": true, "emailVerified": true,
                "email": format!("{username}@example.com"), "firstName": first, "lastName": last,
                "credentials": [{"type": "password", "value": format!("{username}-demo-pw"), "temporary": false}],
            }))
            .send()
            .await?
            .location_id()?;
        println!("  user {username:<6} id {id}");
    }

    // Log in as one of them with the password grant, in the demo realm itself.
    let ada = Client::builder(&url)
        .auth_realm(&realm)
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

    let users: Vec<Value> = admin
        .raw()
        .get(format!("/admin/realms/{realm}/users"))
        .query("briefRepresentation", true)
        .send_json()
        .await?;
    let count: u64 = admin
        .raw()
        .get(format!("/admin/realms/{realm}/users/count"))
        .send_json()
        .await?;
    println!("\n{count} users in `{realm}`:");
    println!("  {:<8} {:<20} EMAIL", "USERNAME", "NAME");
    for u in &users {
        let s = |k: &str| u[k].as_str().unwrap_or("").to_owned();
        println!(
            "  {:<8} {:<20} {}",
            s("username"),
            format!("{} {}", s("firstName"), s("lastName")),
            s("email")
        );
    }
    println!(
        "\ntoken requests made by the admin client: {}",
        admin.token_stats().token_requests
    );
    Ok(())
}
