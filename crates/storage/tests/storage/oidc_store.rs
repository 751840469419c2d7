//! The provider's stores for clients, signing keys, grants and tokens, and
//! the sign-in log, on SQLite and PostgreSQL.

use crate::common::*;
use chrono::Duration;
use portico_oidc::model::{
    AuthMethod, ClientType, CodeRedemption, Consent, RefreshUse, SigningKey,
};
use portico_oidc::signin_log::{
    AppliedPolicy, PolicyResultFilter, SignInLog, SignInQuery, SignInRecord, SignInResult,
    StepRecord,
};
use portico_oidc::store::*;
use portico_storage::Storage;
use uuid::Uuid;

async fn clients_round_trip(s: &Storage) {
    let mut a = client("app-a");
    a.post_logout_redirect_uris = vec!["https://app.example/bye".into()];
    a.permissions = vec!["users.read".into(), "clients.write".into()];
    a.backchannel_logout_uri = Some("https://app.example/bc".into());
    let mut b = client("app-b");
    b.created_at = t0() - Duration::days(1);
    (b.client_type, b.auth_method, b.secret_hash) = (ClientType::Public, AuthMethod::None, None);
    s.create_client(&a, None).await.unwrap();
    s.create_client(&b, None).await.unwrap();

    let found = s.find_client("app-a").await.unwrap().expect("by client_id");
    assert_eq!(found.id, a.id);
    assert_eq!(
        (found.redirect_uris, found.post_logout_redirect_uris),
        (a.redirect_uris.clone(), a.post_logout_redirect_uris)
    );
    assert_eq!(
        (found.grant_types, found.permissions),
        (a.grant_types, a.permissions)
    );
    assert_eq!(
        (found.backchannel_logout_uri, found.secret_hash),
        (a.backchannel_logout_uri, a.secret_hash)
    );
    let pb = s.find_client_by_id(b.id).await.unwrap().expect("by id");
    assert_eq!(
        (pb.client_type, pb.auth_method, pb.secret_hash),
        (ClientType::Public, AuthMethod::None, None)
    );
    assert!(s.find_client("nope").await.unwrap().is_none());
    let order: Vec<String> = s
        .list_clients()
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.client_id)
        .collect();
    assert_eq!(order, vec!["app-b", "app-a"], "ordered by created_at");

    let mut dup = client("app-a");
    dup.id = Uuid::now_v7();
    assert!(matches!(
        s.create_client(&dup, None).await,
        Err(StoreError::Conflict(_))
    ));

    b.display_name = "Renamed".into();
    b.redirect_uris = vec![
        "https://b.example/cb".into(),
        "https://b.example/cb2".into(),
    ];
    s.update_client(&b, None).await.unwrap();
    let nb = s.find_client_by_id(b.id).await.unwrap().expect("b");
    assert_eq!(
        (
            nb.display_name.as_str(),
            nb.redirect_uris.len(),
            nb.created_at
        ),
        ("Renamed", 2, micros(b.created_at))
    );
    b.client_id = "app-a".into();
    assert!(matches!(
        s.update_client(&b, None).await,
        Err(StoreError::Conflict(_))
    ));
}

async fn delete_client_revokes_its_grants(s: &Storage) {
    let c = client("doomed");
    s.create_client(&c, None).await.unwrap();
    let uid = Uuid::new_v4();
    let g = grant("doomed", Some(uid));
    s.create_grant(&g).await.unwrap();
    s.save_refresh_token(&refresh(&g, "rt-1")).await.unwrap();
    let consent = Consent {
        user_id: uid,
        client_id: "doomed".into(),
        scopes: vec!["openid".into()],
        granted_at: t0(),
        privacy_version: None,
    };
    s.save_consent(&consent).await.unwrap();
    let other = grant("other", Some(uid));
    s.create_grant(&other).await.unwrap();

    assert!(s.delete_client(c.id, t0(), &trust_audit()).await.unwrap());
    assert!(s.find_client("doomed").await.unwrap().is_none());
    assert_eq!(
        s.find_grant(g.id).await.unwrap().expect("grant").revoked_at,
        Some(micros(t0()))
    );
    assert!(
        s.find_refresh_token("rt-1")
            .await
            .unwrap()
            .expect("rt")
            .consumed_at
            .is_some()
    );
    assert!(s.find_consent(uid, "doomed").await.unwrap().is_none());
    assert!(
        s.find_grant(other.id)
            .await
            .unwrap()
            .expect("other")
            .revoked_at
            .is_none()
    );
    assert!(!s.delete_client(c.id, t0(), &trust_audit()).await.unwrap());
}

fn key(kid: &str, created_min: i64) -> SigningKey {
    let at = t0() + Duration::minutes(created_min);
    SigningKey {
        kid: kid.into(),
        alg: "RS256".into(),
        private_pem: format!("pem-{kid}"),
        created_at: at,
        activates_at: at,
        expires_at: None,
    }
}

async fn keys_insert_and_rotate(s: &Storage) {
    assert!(s.list_keys().await.unwrap().is_empty());
    assert!(s.insert_first_key(&key("k1", 0)).await.unwrap());
    assert!(
        !s.insert_first_key(&key("k2", 0)).await.unwrap(),
        "a key exists"
    );
    // One first key per algorithm: an ES256 line starts next to RS256.
    let es = SigningKey {
        alg: "ES256".into(),
        ..key("e1", 0)
    };
    assert!(s.insert_first_key(&es).await.unwrap(), "no ES256 key yet");
    assert!(
        !s.insert_first_key(&es).await.unwrap(),
        "an ES256 key exists"
    );
    let retire = t0() + Duration::hours(2);
    s.rotate_keys(&key("k3", 10), &[("k1".into(), retire)], &trust_audit())
        .await
        .unwrap();
    let keys = s.list_keys().await.unwrap();
    let keys: Vec<_> = keys.into_iter().filter(|k| k.alg == "RS256").collect();
    let kids: Vec<&str> = keys.iter().map(|k| k.kid.as_str()).collect();
    assert_eq!(kids, vec!["k1", "k3"]);
    assert_eq!(
        (keys[0].expires_at, keys[1].expires_at),
        (Some(micros(retire)), None)
    );
    assert_eq!(keys[1].private_pem, "pem-k3");
}

async fn revoke_grant_revokes_its_tokens(s: &Storage) {
    let g = grant("app", Some(Uuid::new_v4()));
    s.create_grant_with_code(&g, &code(&g, "c1")).await.unwrap();
    let stored = s.find_grant(g.id).await.unwrap().expect("grant");
    assert_eq!(
        (stored.amr, stored.sid, stored.claims),
        (g.amr.clone(), g.sid.clone(), g.claims.clone())
    );
    assert!(
        matches!(s.consume_code("c1", t0()).await.unwrap(), CodeRedemption::Redeemed(c) if c.nonce == Some("n-0S6_WzA2Mj".into()))
    );
    s.save_refresh_token(&refresh(&g, "rt-1")).await.unwrap();

    let first = t0() + Duration::minutes(1);
    s.revoke_grant(g.id, first).await.unwrap();
    s.revoke_grant(g.id, first + Duration::minutes(1))
        .await
        .unwrap(); // idempotent: keeps the first time
    assert_eq!(
        s.find_grant(g.id).await.unwrap().expect("grant").revoked_at,
        Some(micros(first))
    );
    // Revoked with its grant: a rotation finds it used and saves nothing.
    assert!(matches!(
        s.rotate_refresh_token("rt-1", &refresh(&g, "rt-2"), first)
            .await
            .unwrap(),
        RefreshUse::Reused(_)
    ));
    assert!(s.find_refresh_token("rt-2").await.unwrap().is_none());

    assert!(s.find_refresh_token("nope").await.unwrap().is_none());

    // A grant without user or claims.
    let mut bare = grant("app", None);
    (bare.claims, bare.auth_time, bare.sid) = (None, None, None);
    s.create_grant(&bare).await.unwrap();
    let b = s.find_grant(bare.id).await.unwrap().expect("bare");
    assert_eq!(
        (b.user_id, b.claims, b.auth_time, b.sid),
        (None, None, None, None)
    );
}

/// The ids `q` lists, in order.
async fn sign_in_ids(s: &Storage, q: &SignInQuery) -> Vec<Uuid> {
    s.list_sign_ins(q)
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.id)
        .collect()
}

async fn sign_ins_are_kept_whole_and_listed_newest_first(s: &Storage) {
    let alice = Uuid::now_v7();
    let mut first = sign_in("app-a", Some(alice), SignInResult::Success);
    first.home_idp = Some("https://login.fabrikam.example".into());
    first.acr = Some("https://refeds.org/profile/mfa".into());
    first.amr = vec!["pwd".into(), "otp".into()];
    first.steps.push(StepRecord {
        method: "totp".into(),
        at: t0() + Duration::seconds(5),
        amr: Some("otp".into()),
    });
    let second = sign_in("app-b", None, SignInResult::Failed);
    let third = sign_in("app-a", Some(alice), SignInResult::Aborted);
    for r in [&first, &second, &third] {
        s.record_sign_in(r).await.unwrap();
    }

    let found = s.find_sign_in(first.id).await.unwrap().expect("by id");
    assert_eq!(found, as_stored(first.clone()), "every field round-trips");
    let failed = s.find_sign_in(second.id).await.unwrap().expect("failed");
    assert_eq!(failed, as_stored(second.clone()));
    assert!(s.find_sign_in(Uuid::now_v7()).await.unwrap().is_none());

    let all = sign_in_ids(s, &SignInQuery::default()).await;
    assert_eq!(all, vec![third.id, second.id, first.id], "newest first");
}

/// `r` as the database gives it back: `created_at` in microseconds.
fn as_stored(mut r: SignInRecord) -> SignInRecord {
    r.created_at = micros(r.created_at);
    r
}

async fn sign_ins_filter_by_user_app_and_result_and_page_by_id(s: &Storage) {
    let (alice, bob) = (Uuid::now_v7(), Uuid::now_v7());
    let records = [
        sign_in("app-a", Some(alice), SignInResult::Success),
        sign_in("app-b", Some(alice), SignInResult::Failed),
        sign_in("app-a", Some(bob), SignInResult::Denied),
        sign_in("app-a", Some(alice), SignInResult::Success),
        sign_in("app-b", None, SignInResult::Failed),
    ];
    for r in &records {
        s.record_sign_in(r).await.unwrap();
    }
    let ids = |idx: &[usize]| idx.iter().map(|&i| records[i].id).collect::<Vec<_>>();

    let of_alice = SignInQuery {
        user_id: Some(alice),
        ..Default::default()
    };
    assert_eq!(sign_in_ids(s, &of_alice).await, ids(&[3, 1, 0]));
    let at_b = SignInQuery {
        client_id: Some("app-b".into()),
        ..Default::default()
    };
    assert_eq!(sign_in_ids(s, &at_b).await, ids(&[4, 1]));
    let failed = SignInQuery {
        result: Some(SignInResult::Failed),
        ..Default::default()
    };
    assert_eq!(sign_in_ids(s, &failed).await, ids(&[4, 1]));
    let alice_ok_at_a = SignInQuery {
        user_id: Some(alice),
        client_id: Some("app-a".into()),
        result: Some(SignInResult::Success),
        ..Default::default()
    };
    assert_eq!(sign_in_ids(s, &alice_ok_at_a).await, ids(&[3, 0]));
    let aborted = SignInQuery {
        result: Some(SignInResult::Aborted),
        ..Default::default()
    };
    assert!(sign_in_ids(s, &aborted).await.is_empty());

    // Pages of two, each starting below the last id of the one before.
    let mut q = SignInQuery {
        limit: 2,
        ..Default::default()
    };
    let mut paged = Vec::new();
    loop {
        let page = sign_in_ids(s, &q).await;
        assert!(page.len() <= 2);
        let Some(last) = page.last().copied() else {
            break;
        };
        paged.extend(page);
        q.before = Some(last);
    }
    assert_eq!(paged, ids(&[4, 3, 2, 1, 0]));
    // Paging keeps the filters.
    let page = SignInQuery {
        before: Some(records[3].id),
        ..of_alice
    };
    assert_eq!(sign_in_ids(s, &page).await, ids(&[1, 0]));
}

/// Sign-ins found by the result a conditional access policy (one, or any)
/// had on them, newest first and paged; policies that did not apply are
/// not found.
async fn sign_ins_filter_by_policy_result(s: &Storage) {
    let applied = |pairs: &[(&str, &str)]| -> Vec<AppliedPolicy> {
        pairs
            .iter()
            .map(|(id, result)| AppliedPolicy {
                id: (*id).into(),
                display_name: format!("Policy {id}"),
                result: (*result).into(),
                enforced_grant_controls: vec![],
            })
            .collect()
    };
    let cases = [
        applied(&[("block", "failure"), ("trial", "reportOnlyFailure")]),
        applied(&[("block", "notApplied"), ("trial", "reportOnlySuccess")]),
        applied(&[("block", "notApplied"), ("trial", "reportOnlyFailure")]),
        applied(&[("mfa", "success"), ("off", "notEnabled")]),
        vec![],
    ];
    let mut records = Vec::new();
    for a in cases {
        let mut r = sign_in("app-a", None, SignInResult::Success);
        r.applied_policies = a;
        s.record_sign_in(&r).await.unwrap();
        records.push(r);
    }
    let ids = |idx: &[usize]| idx.iter().map(|&i| records[i].id).collect::<Vec<_>>();
    let by = |policy: Option<&str>, result: &str| SignInQuery {
        policy_result: Some(PolicyResultFilter {
            policy_id: policy.map(str::to_string),
            result: result.into(),
        }),
        ..Default::default()
    };
    assert_eq!(sign_in_ids(s, &by(None, "failure")).await, ids(&[0]));
    assert_eq!(sign_in_ids(s, &by(None, "success")).await, ids(&[3]));
    assert_eq!(
        sign_in_ids(s, &by(Some("trial"), "reportOnlyFailure")).await,
        ids(&[2, 0])
    );
    assert_eq!(
        sign_in_ids(s, &by(Some("trial"), "reportOnlySuccess")).await,
        ids(&[1])
    );
    assert!(
        sign_in_ids(s, &by(Some("block"), "notApplied"))
            .await
            .is_empty()
    );
    assert!(
        sign_in_ids(s, &by(Some("off"), "notEnabled"))
            .await
            .is_empty()
    );
    assert!(sign_in_ids(s, &by(Some("mfa"), "failure")).await.is_empty());
    let page = SignInQuery {
        before: Some(records[2].id),
        ..by(Some("trial"), "reportOnlyFailure")
    };
    assert_eq!(sign_in_ids(s, &page).await, ids(&[0]));
    // The record itself still lists every policy.
    let kept = s.find_sign_in(records[3].id).await.unwrap().unwrap();
    assert_eq!(kept.applied_policies.len(), 2);

    // Sign-ins recorded before the index existed are indexed by the
    // migration's statement, from their records alone, to the same rows.
    assert_eq!(s.rebuild_sign_in_policy_index().await.unwrap(), 5);
    assert_eq!(
        sign_in_ids(s, &by(Some("trial"), "reportOnlyFailure")).await,
        ids(&[2, 0])
    );
    assert_eq!(sign_in_ids(s, &by(None, "success")).await, ids(&[3]));
    assert!(
        sign_in_ids(s, &by(Some("off"), "notEnabled"))
            .await
            .is_empty()
    );
}

async fn sign_in_strings_are_bounded_when_stored(s: &Storage) {
    let mut r = sign_in("app-a", None, SignInResult::Failed);
    r.user_agent = Some(format!("Mozilla/5.0\r\nX-Forged: 1 {}", "é".repeat(2000)));
    r.failure_message = Some("x".repeat(5000));
    r.correlation_id = "c".repeat(1000);
    r.steps = (0..100)
        .map(|i| StepRecord {
            method: format!("password{i}"),
            at: t0(),
            amr: None,
        })
        .collect();
    s.record_sign_in(&r).await.unwrap();
    let got = s.find_sign_in(r.id).await.unwrap().expect("stored");
    let ua = got.user_agent.expect("user agent");
    assert_eq!(ua.chars().count(), 512);
    assert!(ua.starts_with("Mozilla/5.0X-Forged: 1 é"), "{ua}");
    assert_eq!(got.failure_message.map(|m| m.len()), Some(1024));
    assert_eq!(got.correlation_id.len(), 128);
    assert_eq!(got.steps.len(), 32);
}

/// An application or key change and its audit entry are one transaction: when
/// the entry cannot be written (here its id is taken), the change is not made.
async fn trust_changes_are_not_made_without_their_audit(s: &Storage) {
    let logged = trust_audit();
    s.create_client(&client("first"), Some(&logged))
        .await
        .unwrap();
    let listed = portico_directory::audit::AuditRepo::list_audits(
        s,
        &portico_directory::audit::AuditQuery {
            limit: 10,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(listed.len(), 1, "the audit was written with the client");

    assert!(
        s.create_client(&client("second"), Some(&logged))
            .await
            .is_err()
    );
    assert!(s.find_client("second").await.unwrap().is_none());

    let mut renamed = client("first");
    renamed.id = s.find_client("first").await.unwrap().unwrap().id;
    renamed.display_name = "Renamed".into();
    assert!(s.update_client(&renamed, Some(&logged)).await.is_err());
    let kept = s.find_client("first").await.unwrap().unwrap();
    assert_ne!(kept.display_name, "Renamed");

    assert!(s.delete_client(kept.id, t0(), &logged).await.is_err());
    assert!(s.find_client("first").await.unwrap().is_some());

    assert!(s.insert_first_key(&key("k1", 0)).await.unwrap());
    assert!(
        s.rotate_keys(&key("k2", 10), &[("k1".into(), t0())], &logged)
            .await
            .is_err()
    );
    let keys = s.list_keys().await.unwrap();
    assert_eq!(keys.len(), 1);
    assert_eq!(keys[0].expires_at, None, "k1 is not retired");
}

/// An access token revoked on its own (RFC 7009) is a row until the token
/// expires: the node that revoked it knows at once, another node once its
/// cache's bound has passed, and the clean-up deletes the row once the token
/// has expired, never before.
async fn revoked_access_tokens_reach_every_node_and_go_when_expired(db: &TestDb) {
    use portico_core::ManualClock;
    use portico_storage::cache::CHANGE_BOUND;
    use std::sync::Arc;
    let clock = Arc::new(ManualClock::new(t0()));
    let a = db.storage.clone().with_clock(clock.clone());
    let b = db.connect_again().await.with_clock(clock.clone());
    let exp = t0() + Duration::hours(1);
    // Node b has loaded its (empty) set before the revocation.
    assert!(!b.access_token_revoked("at-1").await.unwrap());

    a.revoke_access_token("at-1", "app", exp, t0())
        .await
        .unwrap();
    a.revoke_access_token("at-1", "app", exp, t0() + Duration::minutes(1))
        .await
        .unwrap(); // idempotent
    assert!(
        a.access_token_revoked("at-1").await.unwrap(),
        "at once here"
    );
    assert!(!a.access_token_revoked("at-2").await.unwrap());
    clock.advance(CHANGE_BOUND);
    assert!(
        b.access_token_revoked("at-1").await.unwrap(),
        "another node within the bound"
    );
    assert!(!b.access_token_revoked("at-2").await.unwrap());

    let purged = |at| async move {
        db.storage
            .purge_expired(at)
            .await
            .unwrap()
            .of("revoked_access_tokens")
    };
    assert_eq!(
        purged(exp - Duration::seconds(1)).await,
        0,
        "kept while the token lives"
    );
    assert_eq!(
        purged(exp + Duration::seconds(1)).await,
        1,
        "gone once it expired"
    );
    assert_eq!(purged(exp + Duration::seconds(2)).await, 0);
}

mod two_nodes {
    use super::*;
    both_backends_db!(revoked_access_tokens_reach_every_node_and_go_when_expired);
}

both_backends!(
    trust_changes_are_not_made_without_their_audit,
    clients_round_trip,
    delete_client_revokes_its_grants,
    keys_insert_and_rotate,
    revoke_grant_revokes_its_tokens,
    sign_ins_are_kept_whole_and_listed_newest_first,
    sign_ins_filter_by_user_app_and_result_and_page_by_id,
    sign_ins_filter_by_policy_result,
    sign_in_strings_are_bounded_when_stored,
);
