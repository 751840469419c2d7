//! Federation: identity providers with their domains, sign-in flows through
//! them, and the `idp` of sessions and grants, on SQLite and PostgreSQL.

use crate::common::*;
use chrono::{DateTime, Duration, Utc};
use portico_federation::{
    ClaimsMapping, FederationFlow, FlowPurpose, FlowRepo, FlowStatus, Forwarded, IdentityProvider,
    IdpRepo, MfaTrust, StoreError, UpstreamIdentity,
};
use portico_oidc::model::{Authentication, Session};
use portico_oidc::store::{GrantStore, PolicyStore, SessionStore};
use portico_storage::Storage;
use uuid::Uuid;

const FABRIKAM: &str = "https://login.fabrikam.example";

/// An IdP called `name` at `https://login.<name>.example`, serving `domains`.
fn idp(name: &str, domains: &[&str]) -> IdentityProvider {
    IdentityProvider {
        id: Uuid::now_v7(),
        display_name: format!("{name} login"),
        issuer: format!("https://login.{name}.example"),
        client_id: format!("portico-at-{name}"),
        client_secret: format!("secret-{name}"),
        scopes: vec!["openid".into(), "email".into()],
        domains: domains.iter().map(|d| d.to_string()).collect(),
        claims_mapping: ClaimsMapping::default(),
        enabled: true,
        mfa_trust: None,
        created_at: t0(),
        updated_at: t0(),
    }
}

fn unwrap_idp(found: Option<IdentityProvider>) -> IdentityProvider {
    found.expect("the identity provider is stored")
}

fn flow(idp_id: Uuid, state_hash: &str, expires_at: DateTime<Utc>) -> FederationFlow {
    FederationFlow {
        id: Uuid::now_v7(),
        state_hash: state_hash.into(),
        idp_id,
        purpose: FlowPurpose::Redeem {
            invitation_id: Uuid::now_v7(),
            link_generation: 3,
        },
        binding_hash: "binding-hash".into(),
        nonce: "n-0S6_WzA2Mj".into(),
        pkce_verifier: "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk".into(),
        status: FlowStatus::Pending,
        result: None,
        created_at: t0(),
        expires_at,
    }
}

fn identity(idp: &IdentityProvider) -> UpstreamIdentity {
    UpstreamIdentity {
        idp_id: idp.id,
        idp_name: idp.display_name.clone(),
        issuer: idp.issuer.clone(),
        subject: "248289761001".into(),
        email: Some("ann@fabrikam.example".into()),
        email_verified: true,
        display_name: Some("Ann Fabrikam".into()),
        amr: vec!["pwd".into(), "mfa".into()],
        acr: None,
        auth_time: Some(t0() - Duration::minutes(2)),
    }
}

/// `FederationFlow` has no `PartialEq`: every field, one by one.
fn assert_same_flow(got: &FederationFlow, want: &FederationFlow) {
    assert_eq!(got.id, want.id);
    assert_eq!(got.state_hash, want.state_hash);
    assert_eq!(got.idp_id, want.idp_id);
    assert_eq!(got.purpose, want.purpose);
    assert_eq!(got.binding_hash, want.binding_hash);
    assert_eq!(got.nonce, want.nonce);
    assert_eq!(got.pkce_verifier, want.pkce_verifier);
    assert_eq!(got.status, want.status);
    assert_eq!(got.result, want.result);
    assert_eq!(got.created_at, want.created_at);
    assert_eq!(got.expires_at, want.expires_at);
}

async fn find_flow(s: &Storage, id: Uuid) -> FederationFlow {
    s.find_flow(id).await.unwrap().expect("the flow is stored")
}

fn expect_taken<T: std::fmt::Debug>(r: Result<T, StoreError>, domain: &str) {
    match r {
        Err(StoreError::DomainTaken(d)) => assert_eq!(d, domain),
        other => panic!("expected DomainTaken({domain}), got {other:?}"),
    }
}

async fn idps_round_trip(s: &Storage) {
    assert!(s.list_idps().await.unwrap().is_empty());
    let mut a = idp("fabrikam", &["fabrikam.example", "sub.fabrikam.example"]);
    a.scopes = vec![
        "openid".into(),
        "profile".into(),
        "email".into(),
        "offline_access".into(),
    ];
    a.claims_mapping = ClaimsMapping {
        email: "upn".into(),
        email_verified: "xms_edov".into(),
        display_name: "given_name".into(),
    };
    a.enabled = false;
    s.create_idp(&a, &trust_audit()).await.unwrap();
    assert_eq!(unwrap_idp(s.find_idp(a.id).await.unwrap()), a);

    // Listed oldest first, then by id.
    let mut older = idp("northwind", &[]);
    older.created_at = t0() - Duration::hours(1);
    older.updated_at = older.created_at;
    s.create_idp(&older, &trust_audit()).await.unwrap();
    let same_time = idp("woodgrove", &["woodgrove.example"]);
    s.create_idp(&same_time, &trust_audit()).await.unwrap();
    assert_eq!(
        s.list_idps().await.unwrap(),
        vec![older.clone(), a.clone(), same_time.clone()]
    );

    // Every field but the id and created_at can change.
    let mut changed = a.clone();
    changed.display_name = "Fabrikam (new)".into();
    changed.issuer = "https://id.fabrikam.example/v2.0/".into();
    changed.client_id = "other-client".into();
    changed.client_secret = "rotated".into();
    changed.scopes = vec!["openid".into()];
    changed.domains = vec!["fabrikam.example".into(), "fabrikam.test".into()];
    changed.claims_mapping = ClaimsMapping::default();
    changed.enabled = true;
    changed.updated_at = t0() + Duration::minutes(5);
    assert!(s.update_idp(&changed, &trust_audit()).await.unwrap());
    assert_eq!(unwrap_idp(s.find_idp(a.id).await.unwrap()), changed);
    assert_eq!(
        s.list_idps().await.unwrap(),
        vec![older.clone(), changed.clone(), same_time.clone()]
    );
    let mut moved_in_time = changed.clone();
    moved_in_time.created_at = t0() + Duration::days(1);
    assert!(s.update_idp(&moved_in_time, &trust_audit()).await.unwrap());
    assert_eq!(
        unwrap_idp(s.find_idp(a.id).await.unwrap()).created_at,
        t0(),
        "created_at is kept"
    );

    let ghost = idp("ghost", &["ghost.example"]);
    assert!(
        !s.update_idp(&ghost, &trust_audit()).await.unwrap(),
        "no such IdP"
    );
    assert!(s.find_idp(ghost.id).await.unwrap().is_none());
    assert!(
        s.find_idp_by_domain("ghost.example")
            .await
            .unwrap()
            .is_none()
    );

    assert!(s.delete_idp(a.id, &trust_audit()).await.unwrap());
    assert!(
        !s.delete_idp(a.id, &trust_audit()).await.unwrap(),
        "already gone"
    );
    assert!(s.find_idp(a.id).await.unwrap().is_none());
    assert_eq!(s.list_idps().await.unwrap(), vec![older, same_time]);
}

async fn domains_are_returned_in_order_once(s: &Storage) {
    let i = idp(
        "fabrikam",
        &[
            "z.fabrikam.example",
            "fabrikam.example",
            "z.fabrikam.example",
        ],
    );
    s.create_idp(&i, &trust_audit()).await.unwrap();
    let back = unwrap_idp(s.find_idp(i.id).await.unwrap());
    assert_eq!(back.domains, ["fabrikam.example", "z.fabrikam.example"]);
}

async fn lookups_by_domain_and_issuer(s: &Storage) {
    let f = idp("fabrikam", &["fabrikam.example", "fabrikam.test"]);
    let n = idp("northwind", &["northwind.example"]);
    s.create_idp(&f, &trust_audit()).await.unwrap();
    s.create_idp(&n, &trust_audit()).await.unwrap();

    for (domain, want) in [
        ("fabrikam.example", Some(&f)),
        ("fabrikam.test", Some(&f)),
        ("northwind.example", Some(&n)),
        ("contoso.example", None),
        ("example", None),
    ] {
        let got = s.find_idp_by_domain(domain).await.unwrap();
        assert_eq!(got.as_ref(), want, "{domain}");
    }
    assert_eq!(
        s.find_idp_by_issuer(FABRIKAM).await.unwrap(),
        Some(f.clone())
    );
    assert_eq!(
        s.find_idp_by_issuer("https://login.northwind.example")
            .await
            .unwrap(),
        Some(n)
    );
    for other in [
        "https://login.fabrikam.example/",
        "https://LOGIN.fabrikam.example",
        "https://login.contoso.example",
    ] {
        assert!(
            s.find_idp_by_issuer(other).await.unwrap().is_none(),
            "{other}"
        );
    }

    // Disabled IdPs are found too.
    let mut off = f.clone();
    off.enabled = false;
    assert!(s.update_idp(&off, &trust_audit()).await.unwrap());
    let got = s.find_idp_by_domain("fabrikam.example").await.unwrap();
    assert_eq!(got.map(|i| i.enabled), Some(false));
}

async fn taken_domain_is_refused_and_writes_nothing(s: &Storage) {
    let a = idp("fabrikam", &["fabrikam.example"]);
    s.create_idp(&a, &trust_audit()).await.unwrap();

    // The IdP row and its free domain are written before the taken one is
    // found: the transaction takes them back.
    let b = idp("northwind", &["northwind.example", "fabrikam.example"]);
    expect_taken(s.create_idp(&b, &trust_audit()).await, "fabrikam.example");
    assert!(s.find_idp(b.id).await.unwrap().is_none(), "no IdP row");
    assert!(s.find_idp_by_issuer(&b.issuer).await.unwrap().is_none());
    assert!(
        s.find_idp_by_domain("northwind.example")
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(s.list_idps().await.unwrap(), vec![a.clone()]);

    // Update: neither the row (written first) nor the domains change.
    let c = idp("contoso", &["contoso.example"]);
    s.create_idp(&c, &trust_audit()).await.unwrap();
    let mut grab = c.clone();
    grab.display_name = "Grabbed".into();
    grab.domains = vec!["contoso.test".into(), "fabrikam.example".into()];
    expect_taken(
        s.update_idp(&grab, &trust_audit()).await,
        "fabrikam.example",
    );
    assert_eq!(unwrap_idp(s.find_idp(c.id).await.unwrap()), c);
    assert!(
        s.find_idp_by_domain("contoso.test")
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(
        s.find_idp_by_domain("fabrikam.example")
            .await
            .unwrap()
            .map(|i| i.id),
        Some(a.id)
    );

    // A taken issuer is refused too, naming it, and writes nothing.
    let mut twin = idp("twin", &["twin.example"]);
    twin.issuer = a.issuer.clone();
    match s.create_idp(&twin, &trust_audit()).await {
        Err(StoreError::Other(e)) => assert!(e.to_string().contains(&a.issuer), "{e:#}"),
        other => panic!("expected an issuer conflict, got {other:?}"),
    }
    assert!(s.find_idp(twin.id).await.unwrap().is_none());
    assert!(
        s.find_idp_by_domain("twin.example")
            .await
            .unwrap()
            .is_none()
    );
    let mut rename = c.clone();
    rename.issuer = a.issuer.clone();
    assert!(matches!(
        s.update_idp(&rename, &trust_audit()).await,
        Err(StoreError::Other(_))
    ));
    assert_eq!(unwrap_idp(s.find_idp(c.id).await.unwrap()), c);
}

/// Many IdPs created at once with one shared domain: exactly one gets it, the
/// others are `DomainTaken` (on PostgreSQL, from the primary key when their
/// check ran before the winner committed) and leave nothing behind.
async fn concurrent_creates_share_no_domain(s: &Storage) {
    let results = race(s, 10, |s, n| async move {
        let i = idp(
            &format!("tenant{n}"),
            &[&format!("tenant{n}.example"), "shared.example"],
        );
        (s.create_idp(&i, &trust_audit()).await, i)
    })
    .await;
    let mut winners = vec![];
    for (r, i) in results {
        match r {
            Ok(()) => winners.push(i),
            Err(StoreError::DomainTaken(d)) => {
                assert_eq!(d, "shared.example");
                assert!(
                    s.find_idp(i.id).await.unwrap().is_none(),
                    "loser rolled back"
                );
                let own = s.find_idp_by_domain(&i.domains[0]).await.unwrap();
                assert!(own.is_none(), "loser's own domain rolled back");
            }
            Err(e) => panic!("create_idp failed under contention: {e:#}"),
        }
    }
    assert_eq!(winners.len(), 1);
    let owner = s.find_idp_by_domain("shared.example").await.unwrap();
    assert_eq!(owner.map(|i| i.id), Some(winners[0].id));
    assert_eq!(s.list_idps().await.unwrap().len(), 1);
}

async fn update_replaces_and_moves_domains(s: &Storage) {
    let mut a = idp("fabrikam", &["fabrikam.example", "shared.example"]);
    let mut b = idp("northwind", &["northwind.example"]);
    s.create_idp(&a, &trust_audit()).await.unwrap();
    s.create_idp(&b, &trust_audit()).await.unwrap();

    b.domains.push("shared.example".into());
    expect_taken(s.update_idp(&b, &trust_audit()).await, "shared.example");

    // A lets go of it; then B can take it.
    a.domains = vec!["fabrikam.example".into()];
    assert!(s.update_idp(&a, &trust_audit()).await.unwrap());
    assert!(s.update_idp(&b, &trust_audit()).await.unwrap());
    let owner = s.find_idp_by_domain("shared.example").await.unwrap();
    assert_eq!(owner.map(|i| i.id), Some(b.id));
    assert_eq!(
        unwrap_idp(s.find_idp(b.id).await.unwrap()).domains,
        ["northwind.example", "shared.example"]
    );

    // The domain set is replaced, not merged; an empty set clears it.
    a.domains = vec!["fabrikam.test".into()];
    assert!(s.update_idp(&a, &trust_audit()).await.unwrap());
    assert!(
        s.find_idp_by_domain("fabrikam.example")
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(
        unwrap_idp(s.find_idp(a.id).await.unwrap()).domains,
        ["fabrikam.test"]
    );
    a.domains.clear();
    assert!(s.update_idp(&a, &trust_audit()).await.unwrap());
    assert!(
        unwrap_idp(s.find_idp(a.id).await.unwrap())
            .domains
            .is_empty()
    );
    assert!(
        s.find_idp_by_domain("fabrikam.test")
            .await
            .unwrap()
            .is_none()
    );
}

async fn delete_takes_domains_and_flows(s: &Storage) {
    let a = idp("fabrikam", &["fabrikam.example"]);
    let b = idp("northwind", &["northwind.example"]);
    s.create_idp(&a, &trust_audit()).await.unwrap();
    s.create_idp(&b, &trust_audit()).await.unwrap();
    let until = t0() + Duration::minutes(10);
    let (fa1, fa2, fb) = (
        flow(a.id, "sa1", until),
        flow(a.id, "sa2", until),
        flow(b.id, "sb", until),
    );
    for f in [&fa1, &fa2, &fb] {
        s.create_flow(f).await.unwrap();
    }

    assert!(s.delete_idp(a.id, &trust_audit()).await.unwrap());
    assert!(
        s.find_idp_by_domain("fabrikam.example")
            .await
            .unwrap()
            .is_none()
    );
    assert!(s.find_flow(fa1.id).await.unwrap().is_none());
    assert!(s.find_flow(fa2.id).await.unwrap().is_none());
    assert!(s.consume_flow_state("sa1", t0()).await.unwrap().is_none());
    assert_same_flow(&find_flow(s, fb.id).await, &fb);
    assert_eq!(unwrap_idp(s.find_idp(b.id).await.unwrap()), b);

    // The domain is free again.
    let again = idp("fabrikam2", &["fabrikam.example"]);
    s.create_idp(&again, &trust_audit()).await.unwrap();
}

async fn flow_lifecycle(s: &Storage) {
    let i = idp("fabrikam", &["fabrikam.example"]);
    s.create_idp(&i, &trust_audit()).await.unwrap();
    let mut f = flow(i.id, "state-hash", t0() + Duration::minutes(10));
    f.purpose = FlowPurpose::SignIn {
        interaction_id: "int-42".into(),
        forwarded: Forwarded {
            acr_values: Some("https://refeds.org/profile/mfa".into()),
            max_age: Some(300),
            prompt_login: true,
        },
    };
    s.create_flow(&f).await.unwrap();
    assert_same_flow(&find_flow(s, f.id).await, &f);
    let now = t0() + Duration::minutes(1);
    assert!(
        !s.claim_flow(f.id, now).await.unwrap(),
        "pending is not claimable"
    );

    let got = s.consume_flow_state("state-hash", now).await.unwrap();
    let got = got.expect("the pending state is consumed");
    f.status = FlowStatus::Returned;
    assert_same_flow(&got, &f);
    assert_same_flow(&find_flow(s, f.id).await, &f);
    assert!(
        s.consume_flow_state("state-hash", now)
            .await
            .unwrap()
            .is_none(),
        "used"
    );
    assert!(
        s.consume_flow_state("other-hash", now)
            .await
            .unwrap()
            .is_none(),
        "unknown"
    );
    assert!(
        !s.claim_flow(f.id, now).await.unwrap(),
        "returned is not claimable"
    );

    let who = identity(&i);
    s.complete_flow(f.id, &who).await.unwrap();
    f.status = FlowStatus::Completed;
    f.result = Some(who.clone());
    assert_same_flow(&find_flow(s, f.id).await, &f);
    assert!(
        s.complete_flow(f.id, &who).await.is_err(),
        "a completed flow is not completed again"
    );
    assert!(
        s.complete_flow(Uuid::now_v7(), &who).await.is_err(),
        "unknown flow"
    );

    assert!(s.claim_flow(f.id, now).await.unwrap());
    assert!(!s.claim_flow(f.id, now).await.unwrap(), "claimed once");
    f.status = FlowStatus::Claimed;
    assert_same_flow(&find_flow(s, f.id).await, &f);
    assert!(
        s.consume_flow_state("state-hash", now)
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        !s.claim_flow(Uuid::now_v7(), now).await.unwrap(),
        "unknown flow"
    );
    assert!(s.find_flow(Uuid::now_v7()).await.unwrap().is_none());
}

async fn expired_flows_cannot_be_consumed_or_claimed(s: &Storage) {
    let i = idp("fabrikam", &[]);
    s.create_idp(&i, &trust_audit()).await.unwrap();
    let expiry = t0() + Duration::minutes(10);

    let late = flow(i.id, "late", expiry);
    s.create_flow(&late).await.unwrap();
    for at in [expiry, expiry + Duration::seconds(1)] {
        assert!(
            s.consume_flow_state("late", at).await.unwrap().is_none(),
            "{at}"
        );
    }
    assert_eq!(find_flow(s, late.id).await.status, FlowStatus::Pending);

    let slow = flow(i.id, "slow", expiry);
    s.create_flow(&slow).await.unwrap();
    let got = s
        .consume_flow_state("slow", expiry - Duration::seconds(1))
        .await;
    assert!(got.unwrap().is_some());
    s.complete_flow(slow.id, &identity(&i)).await.unwrap();
    assert!(!s.claim_flow(slow.id, expiry).await.unwrap());
    assert!(
        !s.claim_flow(slow.id, expiry + Duration::hours(1))
            .await
            .unwrap()
    );
    assert_eq!(find_flow(s, slow.id).await.status, FlowStatus::Completed);
    assert!(
        s.claim_flow(slow.id, expiry - Duration::microseconds(1))
            .await
            .unwrap()
    );
}

async fn state_is_consumed_exactly_once(s: &Storage) {
    let i = idp("fabrikam", &[]);
    s.create_idp(&i, &trust_audit()).await.unwrap();
    let f = flow(i.id, "contended", t0() + Duration::minutes(10));
    s.create_flow(&f).await.unwrap();
    let now = t0() + Duration::minutes(1);
    let results = race(s, 10, move |s, _| async move {
        s.consume_flow_state("contended", now).await
    })
    .await;
    let winners: Vec<FederationFlow> = results
        .into_iter()
        .filter_map(|r| r.unwrap_or_else(|e| panic!("consume failed under contention: {e:#}")))
        .collect();
    assert_eq!(winners.len(), 1);
    assert_eq!(
        (winners[0].id, winners[0].status),
        (f.id, FlowStatus::Returned)
    );

    s.complete_flow(f.id, &identity(&i)).await.unwrap();
    let claims = race(
        s,
        10,
        move |s, _| async move { s.claim_flow(f.id, now).await },
    )
    .await;
    let wins = claims
        .into_iter()
        .map(|r| r.unwrap_or_else(|e| panic!("claim failed under contention: {e:#}")))
        .filter(|w| *w)
        .count();
    assert_eq!(wins, 1);
}

async fn expired_flows_are_deleted(s: &Storage) {
    let i = idp("fabrikam", &[]);
    s.create_idp(&i, &trust_audit()).await.unwrap();
    let at = |m: i64| t0() + Duration::minutes(m);
    let flows = [
        flow(i.id, "s1", at(1)),
        flow(i.id, "s5", at(5)),
        flow(i.id, "s10", at(10)),
    ];
    for f in &flows {
        s.create_flow(f).await.unwrap();
    }
    // The cluster's clean-up is the one place expired flows go.
    let purged = |m| async move { s.purge_expired(at(m)).await.unwrap().of("federation_flows") };
    assert_eq!(purged(0).await, 0);
    assert_eq!(purged(5).await, 1, "strictly before");
    assert!(s.find_flow(flows[0].id).await.unwrap().is_none());
    assert!(s.find_flow(flows[1].id).await.unwrap().is_some());
    assert_eq!(purged(60).await, 2);
    assert_eq!(purged(60).await, 0);
    assert!(s.find_flow(flows[2].id).await.unwrap().is_none());
}

async fn sessions_and_grants_keep_the_idp(s: &Storage) {
    for (n, idp) in [(1, Some(FABRIKAM.to_string())), (2, None)] {
        let session = Session {
            id_hash: format!("sess-{n}"),
            sid: format!("sid-{n}"),
            auth: Authentication {
                user_id: Uuid::now_v7(),
                auth_time: t0(),
                amr: vec!["fed".into()],
                idp: idp.clone(),
                detail: Default::default(),
            },
            created_at: t0(),
            expires_at: t0() + Duration::hours(8),
        };
        s.create_session(&session).await.unwrap();
        let back = s
            .find_session(&session.id_hash)
            .await
            .unwrap()
            .expect("session");
        assert_eq!(
            (back.auth.idp, back.auth.amr),
            (idp.clone(), session.auth.amr)
        );

        let mut g = grant("app", Some(session.auth.user_id));
        g.idp = idp.clone();
        s.create_grant_with_code(&g, &code(&g, &format!("code-{n}")))
            .await
            .unwrap();
        let back = s.find_grant(g.id).await.unwrap().expect("grant");
        assert_eq!(back.idp, idp);
    }
}

/// `mfaTrust` is written by create and update (and removed by an update
/// without it), and the policy reads the same column by issuer.
async fn mfa_trust_round_trips_and_the_policy_reads_it(s: &Storage) {
    let mut a = idp("fabrikam", &["fabrikam.example"]);
    a.mfa_trust = Some(MfaTrust {
        amr_values: vec!["mfa".into(), "hwk".into()],
        acr_values: vec!["https://refeds.org/profile/mfa".into()],
        max_age_minutes: 15,
    });
    s.create_idp(&a, &trust_audit()).await.unwrap();
    assert_eq!(unwrap_idp(s.find_idp(a.id).await.unwrap()), a);
    let read = PolicyStore::mfa_trust(s, &a.issuer).await.unwrap();
    let read = read.expect("the policy sees the trust");
    assert_eq!(read.amr_values, ["mfa", "hwk"]);
    assert_eq!(read.acr_values, ["https://refeds.org/profile/mfa"]);
    assert_eq!(read.max_age_minutes, 15);

    a.display_name = "renamed".into();
    assert!(s.update_idp(&a, &trust_audit()).await.unwrap());
    assert_eq!(
        unwrap_idp(s.find_idp(a.id).await.unwrap()),
        a,
        "kept by other edits"
    );

    a.mfa_trust = None;
    assert!(s.update_idp(&a, &trust_audit()).await.unwrap());
    assert_eq!(unwrap_idp(s.find_idp(a.id).await.unwrap()).mfa_trust, None);
    assert!(
        PolicyStore::mfa_trust(s, &a.issuer)
            .await
            .unwrap()
            .is_none()
    );
}

/// A trusted IdP's change and its audit entry are one transaction: when the
/// entry cannot be written (here its id is taken), the change is not made.
async fn idp_changes_are_not_made_without_their_audit(s: &Storage) {
    let logged = trust_audit();
    let first = idp("First", &["first.example"]);
    s.create_idp(&first, &logged).await.unwrap();

    let second = idp("Second", &["second.example"]);
    assert!(s.create_idp(&second, &logged).await.is_err());
    assert!(s.find_idp(second.id).await.unwrap().is_none());
    assert!(
        s.find_idp_by_domain("second.example")
            .await
            .unwrap()
            .is_none()
    );

    let mut renamed = first.clone();
    renamed.display_name = "Renamed".into();
    renamed.domains = vec!["moved.example".into()];
    assert!(s.update_idp(&renamed, &logged).await.is_err());
    let kept = unwrap_idp(s.find_idp(first.id).await.unwrap());
    assert_eq!(kept.display_name, first.display_name);
    assert_eq!(kept.domains, vec!["first.example".to_string()]);

    assert!(s.delete_idp(first.id, &logged).await.is_err());
    assert!(s.find_idp(first.id).await.unwrap().is_some());
}

both_backends!(
    idp_changes_are_not_made_without_their_audit,
    mfa_trust_round_trips_and_the_policy_reads_it,
    idps_round_trip,
    domains_are_returned_in_order_once,
    lookups_by_domain_and_issuer,
    taken_domain_is_refused_and_writes_nothing,
    concurrent_creates_share_no_domain,
    update_replaces_and_moves_domains,
    delete_takes_domains_and_flows,
    flow_lifecycle,
    expired_flows_cannot_be_consumed_or_claimed,
    state_is_consumed_exactly_once,
    expired_flows_are_deleted,
    sessions_and_grants_keep_the_idp,
);
