//! The per-node caches (`storage::cache`) on two `Storage`s that share one
//! database and one clock, as two nodes do: each write bumps its counter in
//! its own transaction, so the other node serves its copy until
//! `CHANGE_BOUND` has passed (the clock is advanced, nothing sleeps) and the
//! change after it; the node that wrote sees it at once.

use crate::common::*;
use chrono::Duration;
use portico_core::{Clock, ManualClock};
use portico_directory::UserRepo;
use portico_directory::collaboration::{CollaborationPolicy, CollaborationRepo};
use portico_federation::{IdentityProvider, IdpRepo, MfaTrust};
use portico_oidc::conditional_access::{CaChange, ConditionalAccessStore};
use portico_oidc::store::{GrantStore, PolicyStore, SettingsChange};
use portico_policy::conditional_access::NamedLocation;
use portico_policy::{MfaScope, TenantSettings};
use portico_storage::Storage;
use portico_storage::cache::CHANGE_BOUND;
use serde_json::json;
use std::sync::Arc;
use uuid::Uuid;

/// Two nodes on `db` with one clock.
async fn two_nodes(db: &TestDb) -> (Storage, Storage, Arc<ManualClock>) {
    let clock = Arc::new(ManualClock::new(t0()));
    let a = db.storage.clone().with_clock(clock.clone());
    let b = db.connect_again().await.with_clock(clock.clone());
    (a, b, clock)
}

/// Saves on `node` a policy that asks everyone for MFA, and returns it.
async fn save_strict_policy(node: &Storage) -> TenantSettings {
    let strict = TenantSettings {
        require_mfa_for: MfaScope::Everyone,
        ..TenantSettings::default()
    };
    node.save_authentication_policy(&strict, &settings_change())
        .await
        .unwrap();
    strict
}

fn settings_change() -> SettingsChange {
    SettingsChange {
        at: t0(),
        actor_kind: "User",
        actor_id: "admin-1".into(),
        actor_name: "Ada Admin".into(),
        activity: "Update",
        before: json!(null),
        after: json!(null),
    }
}

fn ca_change(id: &str) -> CaChange {
    CaChange {
        change: settings_change(),
        target_kind: "NamedLocation",
        target_id: id.into(),
        target_name: "Office".into(),
    }
}

fn office(id: &str, range: &str) -> NamedLocation {
    let mut l = NamedLocation::from_graph_json(&json!({
        "@odata.type": "#microsoft.graph.ipNamedLocation",
        "id": id,
        "displayName": "Office",
        "isTrusted": true,
        "ipRanges": [{"@odata.type": "#microsoft.graph.iPv4CidrRange", "cidrAddress": range}],
    }))
    .unwrap();
    l.id = id.into();
    l
}

fn fabrikam() -> IdentityProvider {
    IdentityProvider {
        id: Uuid::now_v7(),
        display_name: "Fabrikam login".into(),
        issuer: "https://login.fabrikam.example".into(),
        client_id: "portico".into(),
        client_secret: "secret".into(),
        scopes: vec!["openid".into()],
        domains: vec!["fabrikam.example".into()],
        claims_mapping: Default::default(),
        enabled: true,
        mfa_trust: None,
        created_at: t0(),
        updated_at: t0(),
    }
}

async fn tenant_settings_reach_the_other_node_within_the_bound(db: &TestDb) {
    let (a, b, clock) = two_nodes(db).await;
    assert_eq!(
        b.authentication_policy().await.unwrap(),
        TenantSettings::default()
    );
    assert!(!b.guest_domain_blocked("eve@spam.example").await.unwrap());

    let strict = save_strict_policy(&a).await;
    let blocking = CollaborationPolicy {
        blocked_domains: vec!["spam.example".into()],
        ..CollaborationPolicy::default()
    };
    a.save_collaboration_policy(&blocking, &trust_audit())
        .await
        .unwrap();
    assert_eq!(
        a.authentication_policy().await.unwrap(),
        strict,
        "at once here"
    );
    assert!(a.guest_domain_blocked("eve@spam.example").await.unwrap());
    assert_eq!(
        b.authentication_policy().await.unwrap(),
        TenantSettings::default(),
        "the other node's copy, inside the bound"
    );

    clock.advance(CHANGE_BOUND);
    assert_eq!(b.authentication_policy().await.unwrap(), strict);
    assert!(b.guest_domain_blocked("eve@spam.example").await.unwrap());
}

/// The signing keys too: tokens signed at the same moment after the bound
/// share one read of the keys' counter, and a JWKS request waiting for it
/// gets the document it loaded.
async fn concurrent_signers_share_one_keys_counter_read(db: &TestDb) {
    use portico_oidc::keys::{KeyManager, SigningAlg};
    let (a, _, clock) = two_nodes(db).await;
    let keys = KeyManager::new();
    let config = portico_oidc::OidcConfig::new("https://id.contoso.example");
    keys.ensure_key(&a, &config, clock.now()).await.unwrap();
    let before = a.keys_counter_reads();
    clock.advance(CHANGE_BOUND);
    let now = clock.now();
    let signers = (0..16).map(|_| keys.signing_key(&a, now, SigningAlg::Rs256));
    let kids: Vec<String> = futures::future::join_all(signers)
        .await
        .into_iter()
        .map(|k| k.unwrap().meta.kid.clone())
        .collect();
    assert!(kids.iter().all(|k| *k == kids[0]), "{kids:?}");
    assert_eq!(a.keys_counter_reads() - before, 1);
    clock.advance(CHANGE_BOUND);
    let now = clock.now();
    let documents = (0..8).map(|_| keys.jwks_bytes(&a, now));
    for d in futures::future::join_all(documents).await {
        assert!(String::from_utf8_lossy(&d.unwrap()).contains(&kids[0]));
    }
    assert_eq!(a.keys_counter_reads() - before, 2);
}

/// Requests that find the counter due at the same moment share one read of
/// it (no herd of point reads once a second under load), and each of them
/// still sees a change made on another node before the bound.
async fn concurrent_requests_share_one_counter_read(db: &TestDb) {
    let (a, b, clock) = two_nodes(db).await;
    b.authentication_policy().await.unwrap();
    let before = b.settings_counter_reads();
    let strict = save_strict_policy(&a).await;
    clock.advance(CHANGE_BOUND);
    let reads = (0..32).map(|_| b.authentication_policy());
    for r in futures::future::join_all(reads).await {
        assert_eq!(r.unwrap(), strict);
    }
    assert_eq!(b.settings_counter_reads() - before, 1);
}

async fn conditional_access_reaches_the_other_node_within_the_bound(db: &TestDb) {
    let (a, b, clock) = two_nodes(db).await;
    let id = Uuid::now_v7().to_string();
    assert!(b.list_named_locations().await.unwrap().is_empty());

    a.save_named_location(&office(&id, "192.0.2.0/24"), &ca_change(&id))
        .await
        .unwrap();
    assert_eq!(
        a.list_named_locations().await.unwrap().len(),
        1,
        "at once here"
    );
    assert!(b.list_named_locations().await.unwrap().is_empty());
    clock.advance(CHANGE_BOUND);
    assert_eq!(
        b.list_named_locations().await.unwrap(),
        vec![office(&id, "192.0.2.0/24")]
    );

    a.save_named_location(&office(&id, "198.51.100.0/24"), &ca_change(&id))
        .await
        .unwrap();
    clock.advance(CHANGE_BOUND);
    assert_eq!(
        b.list_named_locations().await.unwrap(),
        vec![office(&id, "198.51.100.0/24")]
    );
    assert!(a.delete_named_location(&id, &ca_change(&id)).await.unwrap());
    clock.advance(CHANGE_BOUND);
    assert!(b.list_named_locations().await.unwrap().is_empty());
}

async fn trusted_idps_reach_the_other_node_within_the_bound(db: &TestDb) {
    let (a, b, clock) = two_nodes(db).await;
    let domain = "fabrikam.example";
    assert_eq!(b.idp_for_domain(domain).await.unwrap(), None);

    let mut idp = fabrikam();
    a.create_idp(&idp, &trust_audit()).await.unwrap();
    assert_eq!(
        a.idp_for_domain(domain).await.unwrap(),
        Some(idp.id.to_string())
    );
    clock.advance(CHANGE_BOUND);
    assert_eq!(
        b.idp_for_domain(domain).await.unwrap(),
        Some(idp.id.to_string())
    );
    let found = b.find_idp_by_domain(domain).await.unwrap().expect("found");
    assert_eq!((found.id, found.client_secret.as_str()), (idp.id, "secret"));
    assert_eq!(b.mfa_trust(&idp.issuer).await.unwrap(), None);

    // Disabled, its mfaTrust set: out of discovery, the trust known.
    idp.enabled = false;
    idp.mfa_trust = Some(MfaTrust {
        amr_values: vec!["mfa".into()],
        acr_values: vec![],
        max_age_minutes: 60,
    });
    assert!(a.update_idp(&idp, &trust_audit()).await.unwrap());
    assert_eq!(
        a.idp_for_domain(domain).await.unwrap(),
        None,
        "at once here"
    );
    clock.advance(CHANGE_BOUND);
    assert_eq!(b.idp_for_domain(domain).await.unwrap(), None);
    assert!(!b.find_idp_by_domain(domain).await.unwrap().unwrap().enabled);
    assert!(b.mfa_trust(&idp.issuer).await.unwrap().is_some());

    assert!(a.delete_idp(idp.id, &trust_audit()).await.unwrap());
    clock.advance(CHANGE_BOUND);
    assert!(b.find_idp_by_domain(domain).await.unwrap().is_none());
    assert_eq!(b.mfa_trust(&idp.issuer).await.unwrap(), None);
}

/// A user's token check (grant and account) is kept 1 s per node; a grant
/// revoked or a user disabled on one node is seen there at once and on the
/// other once the bound has passed; an access that expires ends at its
/// instant even when the answer is cached.
async fn grant_and_account_checks_last_the_bound_at_most(db: &TestDb) {
    let (a, b, clock) = two_nodes(db).await;
    let live = |s: Storage, g: Uuid| async move {
        let (grant, account) = s.find_grant_with_account(g).await.unwrap().unwrap();
        grant.revoked_at.is_none() && account.is_some_and(|a| a.enabled)
    };
    let (_, g1) = seed_user_with_grant(&a, "ann@contoso.example").await;
    assert!(live(a.clone(), g1).await);
    assert!(live(b.clone(), g1).await);
    a.revoke_grant(g1, t0()).await.unwrap();
    assert!(!live(a.clone(), g1).await, "at once here");
    assert!(
        live(b.clone(), g1).await,
        "the other node's answer, inside the bound"
    );
    clock.advance(CHANGE_BOUND);
    assert!(!live(b.clone(), g1).await);

    let (user_id, g2) = seed_user_with_grant(&a, "ben@contoso.example").await;
    assert!(live(a.clone(), g2).await);
    assert!(live(b.clone(), g2).await);
    let mut ben = a.find_user(user_id).await.unwrap().unwrap();
    ben.account_enabled = false;
    ben.updated_at = t0();
    a.update_user(&ben, &audit("Disable", user_id))
        .await
        .unwrap();
    assert!(!live(a.clone(), g2).await, "at once here");
    clock.advance(CHANGE_BOUND);
    assert!(!live(b.clone(), g2).await);

    // An access that ends while the answer is cached ends with it.
    let (user_id, g3) = seed_user_with_grant(&a, "cat@contoso.example").await;
    let ends = clock_now(&clock) + Duration::milliseconds(500);
    let mut cat = a.find_user(user_id).await.unwrap().unwrap();
    cat.access_expires_at = Some(ends);
    a.update_user(&cat, &audit("Expire", user_id))
        .await
        .unwrap();
    assert!(live(b.clone(), g3).await);
    clock.advance(Duration::milliseconds(500));
    assert!(!live(b.clone(), g3).await, "cached, and still ended");
}

fn clock_now(clock: &ManualClock) -> chrono::DateTime<chrono::Utc> {
    use portico_core::Clock;
    clock.now()
}

both_backends_db!(
    tenant_settings_reach_the_other_node_within_the_bound,
    conditional_access_reaches_the_other_node_within_the_bound,
    trusted_idps_reach_the_other_node_within_the_bound,
    grant_and_account_checks_last_the_bound_at_most,
    concurrent_requests_share_one_counter_read,
    concurrent_signers_share_one_keys_counter_read,
);
