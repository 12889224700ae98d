//! Organizations: lifecycle, members, invitations (really sent to a loopback SMTP sink),
//! identity providers and organization groups with their role mappings.

use std::time::Duration;

use cloakroom::generated::models::{
    GroupRepresentation, IdentityProviderRepresentation, OrganizationDomainRepresentation,
    OrganizationRepresentation,
};
use cloakroom::request::Method;
use serde_json::json;

use super::{create_client_with_role, create_realm_role, create_user, realm_with};
use crate::support::kc::{admin, delete_realm, unique};
use crate::support::served::served_or_refused;
use crate::support::smtp::SmtpSink;

const INVITATIONS: &str = "/admin/realms/{realm}/organizations/{org-id}/invitations";
const INVITATION: &str = "/admin/realms/{realm}/organizations/{org-id}/invitations/{id}";
const RESEND: &str = "/admin/realms/{realm}/organizations/{org-id}/invitations/{id}/resend";
const GROUPS: &str = "/admin/realms/{realm}/organizations/{org-id}/groups";

fn org(name: &str, domain: &str) -> OrganizationRepresentation {
    OrganizationRepresentation {
        name: Some(name.into()),
        alias: Some(name.into()),
        enabled: Some(true),
        description: Some("An organization made by the tests".into()),
        redirect_url: Some("https://app.example.com/welcome".into()),
        attributes: Some([("tier".to_owned(), vec!["gold".to_owned()])].into()),
        domains: Some(vec![OrganizationDomainRepresentation {
            name: Some(domain.into()),
            verified: Some(false),
            ..Default::default()
        }]),
        ..Default::default()
    }
}

#[tokio::test]
async fn organization_lifecycle_and_members() {
    let kc = admin();
    let realm = realm_with(&kc, "org", json!({"organizationsEnabled": true})).await;
    let r = kc.realm(&realm);

    let name = unique("acme");
    let domain = format!("{name}.example.com");
    let org_id = r
        .organizations()
        .create(&org(&name, &domain))
        .send()
        .await
        .unwrap();
    let other_id = r
        .organizations()
        .create(&org(&unique("globex"), "globex.example.org"))
        .send()
        .await
        .unwrap();

    let listed = r
        .organizations()
        .list()
        .search(name.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(
        listed.len(),
        1,
        "search finds exactly the organization: {listed:?}"
    );
    assert_eq!(listed[0].id.as_deref(), Some(org_id.as_str()));
    let all = r
        .organizations()
        .list()
        .brief_representation(false)
        .send()
        .await
        .unwrap();
    assert_eq!(all.len(), 2);
    assert_eq!(r.organizations().count().send().await.unwrap(), 2);
    assert_eq!(
        r.organizations()
            .count()
            .search(name.clone())
            .exact(true)
            .send()
            .await
            .unwrap(),
        1
    );

    let o = r.organization(&org_id);
    let mut got = o.get().send().await.unwrap();
    assert_eq!(got.name.as_deref(), Some(name.as_str()));
    assert_eq!(
        got.domains.as_ref().unwrap()[0].name.as_deref(),
        Some(domain.as_str())
    );
    assert_eq!(
        got.attributes.as_ref().unwrap()["tier"],
        vec!["gold".to_owned()]
    );
    got.description = Some("Renamed by the update test".into());
    got.attributes = Some([("tier".to_owned(), vec!["platinum".to_owned()])].into());
    o.update(&got).send().await.unwrap();
    let again = o.get().send().await.unwrap();
    assert_eq!(
        again.description.as_deref(),
        Some("Renamed by the update test")
    );
    assert_eq!(
        again.attributes.unwrap()["tier"],
        vec!["platinum".to_owned()]
    );

    // Members: an existing user joins (the id may be sent as a JSON string).
    let alice = create_user(&kc, &realm, &unique("alice")).await;
    let bob = create_user(&kc, &realm, &unique("bob")).await;
    o.add_member(alice.clone()).send().await.unwrap();
    o.add_member(bob.clone()).send().await.unwrap();
    let err = o.add_member(alice.clone()).send().await.unwrap_err();
    assert!(
        err.is_conflict(),
        "adding a member twice is a conflict: {err}"
    );
    r.organization(&other_id)
        .add_member(alice.clone())
        .send()
        .await
        .unwrap();

    let members = o
        .members()
        .brief_representation(false)
        .send()
        .await
        .unwrap();
    let mut ids: Vec<_> = members.iter().filter_map(|m| m.id.clone()).collect();
    ids.sort();
    let mut want = vec![alice.clone(), bob.clone()];
    want.sort();
    assert_eq!(ids, want);
    assert!(
        members.iter().all(|m| m.membership_type.is_some()),
        "{members:?}"
    );
    assert_eq!(o.members_count().send().await.unwrap(), 2);
    let member = o.member(&alice).send().await.unwrap();
    assert_eq!(member.id.as_deref(), Some(alice.as_str()));
    assert!(member.username.unwrap().starts_with("alice-"));

    let mut of_alice: Vec<_> = r
        .organizations()
        .member_organizations(&alice)
        .brief_representation(false)
        .send()
        .await
        .unwrap()
        .into_iter()
        .filter_map(|o| o.id)
        .collect();
    of_alice.sort();
    let mut want = vec![org_id.clone(), other_id.clone()];
    want.sort();
    assert_eq!(of_alice, want);
    let via_org = o.member_organizations(&bob).send().await.unwrap();
    assert_eq!(via_org.len(), 1);
    assert_eq!(via_org[0].id.as_deref(), Some(org_id.as_str()));
    if let Some(groups) = served_or_refused(
        Method::Get,
        "/admin/realms/{realm}/organizations/{org-id}/members/{member-id}/groups",
        o.member_groups(&bob).send().await,
    ) {
        assert!(groups.is_empty());
    }

    o.remove_member(&bob).send().await.unwrap();
    assert_eq!(o.members_count().send().await.unwrap(), 1);
    assert!(o.member(&bob).send().await.unwrap_err().is_not_found());
    // The user was not managed by the organization, so removing the membership keeps the user.
    kc.realm(&realm).user(&bob).get().send().await.unwrap();

    o.delete().send().await.unwrap();
    assert!(o.get().send().await.unwrap_err().is_not_found());
    assert_eq!(r.organizations().count().send().await.unwrap(), 1);
    delete_realm(&kc, &realm).await;
}

#[tokio::test]
async fn organization_invitations_are_sent() {
    let kc = admin();
    let sink = SmtpSink::start().await;
    let realm = realm_with(
        &kc,
        "orginv",
        json!({"organizationsEnabled": true, "smtpServer": sink.realm_config()}),
    )
    .await;
    let r = kc.realm(&realm);
    let name = unique("initech");
    let domain = format!("{name}.example.com");
    let org_id = r
        .organizations()
        .create(&org(&name, &domain))
        .send()
        .await
        .unwrap();
    let o = r.organization(&org_id);

    // A new user gets a registration link.
    let email = format!("newcomer@{domain}");
    o.invite_user(email.clone())
        .first_name("New")
        .last_name("Comer")
        .send()
        .await
        .unwrap();
    let mails = sink.wait_for(1, Duration::from_secs(20)).await;
    assert_eq!(mails.len(), 1, "one invitation mail");
    assert!(
        mails[0].to.iter().any(|t| t.contains(&email)),
        "{:?}",
        mails[0].to
    );

    let listed = o.invitations().send().await;
    let Some(invitations) = served_or_refused(Method::Get, INVITATIONS, listed) else {
        // 26.4.7 sends invitations but has no invitation management: each of its calls is
        // refused before sending (the census), and inviting an existing user still works.
        let id = "no-such-invitation";
        served_or_refused(Method::Get, INVITATION, o.invitation(id).send().await);
        let resent = o.resend_invitation(id).send().await;
        served_or_refused(Method::Post, RESEND, resent);
        let deleted = o.delete_invitation(id).send().await;
        served_or_refused(Method::Delete, INVITATION, deleted);
        let carol = create_user(&kc, &realm, &unique("carol")).await;
        o.invite_existing_user(carol).send().await.unwrap();
        assert_eq!(sink.wait_for(2, Duration::from_secs(20)).await.len(), 2);
        delete_realm(&kc, &realm).await;
        return;
    };
    assert_eq!(invitations.len(), 1, "{invitations:?}");
    let inv = &invitations[0];
    assert_eq!(inv.email.as_deref(), Some(email.as_str()));
    assert_eq!(inv.first_name.as_deref(), Some("New"));
    assert_eq!(inv.organization_id.as_deref(), Some(org_id.as_str()));
    let inv_id = inv.id.clone().unwrap();
    let one = o.invitation(&inv_id).send().await.unwrap();
    assert_eq!(one.id.as_deref(), Some(inv_id.as_str()));
    assert_eq!(one.email.as_deref(), Some(email.as_str()));
    assert!(
        one.expires_at.unwrap() > one.sent_date.unwrap(),
        "an invitation expires after it was sent: {one:?}"
    );
    let filtered = o.invitations().email(email.clone()).send().await.unwrap();
    assert_eq!(filtered.len(), 1);

    o.resend_invitation(&inv_id).send().await.unwrap();
    let mails = sink.wait_for(2, Duration::from_secs(20)).await;
    assert_eq!(mails.len(), 2, "the resent invitation arrives too");
    assert!(mails[1].to.iter().any(|t| t.contains(&email)));
    // Resending replaces the invitation with a fresh one for the same address.
    let after = o.invitations().email(email.clone()).send().await.unwrap();
    assert_eq!(after.len(), 1, "{after:?}");
    let fresh = after[0].id.clone().unwrap();
    assert_ne!(fresh, inv_id, "a resent invitation gets a new id");
    assert!(
        o.invitation(&inv_id)
            .send()
            .await
            .unwrap_err()
            .is_not_found()
    );
    let inv_id = fresh;

    // An existing user gets an invitation link.
    let carol_name = unique("carol");
    let carol = create_user(&kc, &realm, &carol_name).await;
    o.invite_existing_user(carol.clone()).send().await.unwrap();
    let mails = sink.wait_for(3, Duration::from_secs(20)).await;
    assert_eq!(mails.len(), 3);
    assert!(
        mails[2].to.iter().any(|t| t.contains(&carol_name)),
        "{:?}",
        mails[2].to
    );

    o.delete_invitation(&inv_id).send().await.unwrap();
    assert!(
        o.invitation(&inv_id)
            .send()
            .await
            .unwrap_err()
            .is_not_found()
    );
    let left = o.invitations().send().await.unwrap();
    assert!(
        left.iter()
            .all(|i| i.id.as_deref() != Some(inv_id.as_str())),
        "{left:?}"
    );

    delete_realm(&kc, &realm).await;
}

#[tokio::test]
async fn organization_identity_providers() {
    let kc = admin();
    let realm = realm_with(&kc, "orgidp", json!({"organizationsEnabled": true})).await;
    let r = kc.realm(&realm);
    let name = unique("umbrella");
    let domain = format!("{name}.example.com");
    let org_id = r
        .organizations()
        .create(&org(&name, &domain))
        .send()
        .await
        .unwrap();
    let o = r.organization(&org_id);

    let alias = unique("corp-sso");
    r.identity_providers()
        .create(&IdentityProviderRepresentation {
            alias: Some(alias.clone()),
            provider_id: Some("oidc".into()),
            enabled: Some(true),
            config: Some(
                [
                    ("clientId", "broker"),
                    ("clientSecret", "secret"),
                    ("authorizationUrl", "https://idp.example.com/auth"),
                    ("tokenUrl", "https://idp.example.com/token"),
                    ("kc.org.domain", domain.as_str()),
                ]
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect(),
            ),
            ..Default::default()
        })
        .send()
        .await
        .unwrap();

    o.add_identity_provider(alias.clone()).send().await.unwrap();
    let idps = o.identity_providers().send().await.unwrap();
    assert_eq!(idps.len(), 1);
    assert_eq!(idps[0].alias.as_deref(), Some(alias.as_str()));
    let idp = o.identity_provider(&alias).send().await.unwrap();
    assert_eq!(idp.alias.as_deref(), Some(alias.as_str()));
    assert_eq!(idp.organization_id.as_deref(), Some(org_id.as_str()));

    // Groups of the organization are offered to the provider's mappers (organization groups
    // are served since 26.7).
    let made = o
        .create_group(&GroupRepresentation {
            name: Some("partners".into()),
            ..Default::default()
        })
        .send()
        .await;
    if let Some(group_id) = served_or_refused(
        Method::Post,
        "/admin/realms/{realm}/organizations/{org-id}/groups",
        made,
    ) {
        let group_id = group_id.expect("the new group's id");
        let groups = o.identity_provider_groups(&alias).send().await.unwrap();
        assert!(
            groups
                .iter()
                .any(|g| g.id.as_deref() == Some(group_id.as_str())),
            "{groups:?}"
        );
    }

    o.remove_identity_provider(&alias).send().await.unwrap();
    assert!(o.identity_providers().send().await.unwrap().is_empty());
    assert!(
        o.identity_provider(&alias)
            .send()
            .await
            .unwrap_err()
            .is_not_found()
    );
    // The provider itself stays in the realm.
    r.identity_provider(&alias).get().send().await.unwrap();

    delete_realm(&kc, &realm).await;
}

#[tokio::test]
async fn organization_groups_members_and_role_mappings() {
    let kc = admin();
    let realm = realm_with(&kc, "orggrp", json!({"organizationsEnabled": true})).await;
    let r = kc.realm(&realm);
    let name = unique("cyberdyne");
    let org_id = r
        .organizations()
        .create(&org(&name, &format!("{name}.example.com")))
        .send()
        .await
        .unwrap();
    let o = r.organization(&org_id);

    let created = o
        .create_group(&GroupRepresentation {
            name: Some("engineering".into()),
            description: Some("Builds things".into()),
            attributes: Some([("floor".to_owned(), vec!["3".to_owned()])].into()),
            ..Default::default()
        })
        .send()
        .await;
    let Some(eng) = served_or_refused(Method::Post, GROUPS, created) else {
        // Organization groups arrived in 26.7.3: older servers' clients refuse them.
        served_or_refused(Method::Get, GROUPS, o.groups().send().await);
        delete_realm(&kc, &realm).await;
        return;
    };
    let eng = eng.expect("the new group's id");
    let top = o.groups().send().await.unwrap();
    assert_eq!(top.len(), 1);
    assert_eq!(top[0].id.as_deref(), Some(eng.as_str()));
    let found = o
        .groups()
        .search("engin")
        .sub_groups_count(true)
        .send()
        .await
        .unwrap();
    assert_eq!(found.len(), 1);

    let g = o.group(&eng);
    let mut got = g.get().send().await.unwrap();
    assert_eq!(got.name.as_deref(), Some("engineering"));
    assert_eq!(got.path.as_deref(), Some("/engineering"));
    got.description = Some("Builds better things".into());
    g.update(&got).send().await.unwrap();
    assert_eq!(
        g.get().send().await.unwrap().description.as_deref(),
        Some("Builds better things")
    );

    let backend = g
        .create_child(&GroupRepresentation {
            name: Some("backend".into()),
            ..Default::default()
        })
        .send()
        .await
        .unwrap()
        .expect("the child's id");
    let children = g.children().send().await.unwrap();
    assert_eq!(children.len(), 1);
    assert_eq!(children[0].id.as_deref(), Some(backend.as_str()));
    let by_path = o
        .group_by_path("/engineering/backend")
        .send()
        .await
        .unwrap();
    assert_eq!(by_path.id.as_deref(), Some(backend.as_str()));
    assert_eq!(by_path.path.as_deref(), Some("/engineering/backend"));

    // Members of the organization can join its groups.
    let dave = create_user(&kc, &realm, &unique("dave")).await;
    o.add_member(dave.clone()).send().await.unwrap();
    g.add_member(&dave).send().await.unwrap();
    let members = g.members().send().await.unwrap();
    assert_eq!(members.len(), 1);
    assert_eq!(members[0].id.as_deref(), Some(dave.as_str()));
    let dave_groups = o.member_groups(&dave).send().await.unwrap();
    assert_eq!(dave_groups.len(), 1);
    assert_eq!(dave_groups[0].id.as_deref(), Some(eng.as_str()));
    g.remove_member(&dave).send().await.unwrap();
    assert!(g.members().send().await.unwrap().is_empty());
    assert!(o.member_groups(&dave).send().await.unwrap().is_empty());

    // Realm role mappings.
    let viewer = create_realm_role(&kc, &realm, "viewer").await;
    let available = g.role_mappings_realm_available().send().await.unwrap();
    assert!(
        available
            .iter()
            .any(|ro| ro.name.as_deref() == Some("viewer"))
    );
    g.role_mappings_realm_add(std::slice::from_ref(&viewer))
        .send()
        .await
        .unwrap();
    let realm_roles = g.role_mappings_realm().send().await.unwrap();
    assert_eq!(realm_roles.len(), 1);
    assert_eq!(realm_roles[0].id, viewer.id);
    let effective = g.role_mappings_realm_composite().send().await.unwrap();
    assert!(effective.iter().any(|ro| ro.id == viewer.id));

    // Client role mappings.
    let (client_uuid, editor) = create_client_with_role(&kc, &realm, "portal", "editor").await;
    let available = g
        .role_mappings_client_available(&client_uuid)
        .send()
        .await
        .unwrap();
    assert!(
        available.iter().any(|ro| ro.id == editor.id),
        "{available:?}"
    );
    g.role_mappings_client_add(&client_uuid, std::slice::from_ref(&editor))
        .send()
        .await
        .unwrap();
    let client_roles = g.role_mappings_client(&client_uuid).send().await.unwrap();
    assert_eq!(client_roles.len(), 1);
    assert_eq!(client_roles[0].id, editor.id);
    let effective = g
        .role_mappings_client_composite(&client_uuid)
        .send()
        .await
        .unwrap();
    assert!(effective.iter().any(|ro| ro.id == editor.id));

    let all = g.role_mappings().send().await.unwrap();
    assert_eq!(all.realm_mappings.as_ref().unwrap().len(), 1);
    let by_client = all.client_mappings.unwrap();
    assert_eq!(
        by_client["portal"].mappings.as_ref().unwrap()[0].id,
        editor.id
    );

    g.role_mappings_client_remove(&client_uuid, std::slice::from_ref(&editor))
        .send()
        .await
        .unwrap();
    assert!(
        g.role_mappings_client(&client_uuid)
            .send()
            .await
            .unwrap()
            .is_empty()
    );
    g.role_mappings_realm_remove(std::slice::from_ref(&viewer))
        .send()
        .await
        .unwrap();
    assert!(g.role_mappings_realm().send().await.unwrap().is_empty());

    g.delete().send().await.unwrap();
    assert!(g.get().send().await.unwrap_err().is_not_found());
    assert!(o.groups().send().await.unwrap().is_empty());
    delete_realm(&kc, &realm).await;
}
