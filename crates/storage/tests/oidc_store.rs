//! The provider's stores for clients, signing keys, grants and tokens, on
//! SQLite and PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use chrono::Duration;
use common::*;
use portico_oidc::model::{
    AuthMethod, ClientType, CodeRedemption, Consent, RefreshUse, SigningKey,
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
    s.create_client(&a).await.unwrap();
    s.create_client(&b).await.unwrap();

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
        s.create_client(&dup).await,
        Err(StoreError::Conflict(_))
    ));

    b.display_name = "Renamed".into();
    b.redirect_uris = vec![
        "https://b.example/cb".into(),
        "https://b.example/cb2".into(),
    ];
    s.update_client(&b).await.unwrap();
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
        s.update_client(&b).await,
        Err(StoreError::Conflict(_))
    ));
}

async fn delete_client_revokes_its_grants(s: &Storage) {
    let c = client("doomed");
    s.create_client(&c).await.unwrap();
    let uid = Uuid::new_v4();
    let g = grant("doomed", Some(uid));
    s.create_grant(&g).await.unwrap();
    s.save_tokens(&access(&g, "at-1"), Some(&refresh(&g, "rt-1")))
        .await
        .unwrap();
    let mut cc = access(&g, "at-cc");
    (cc.grant_id, cc.user_id) = (None, None);
    s.save_tokens(&cc, None).await.unwrap();
    let consent = Consent {
        user_id: uid,
        client_id: "doomed".into(),
        scopes: vec!["openid".into()],
        granted_at: t0(),
    };
    s.save_consent(&consent).await.unwrap();
    let other = grant("other", Some(uid));
    s.create_grant(&other).await.unwrap();

    assert!(s.delete_client(c.id, t0()).await.unwrap());
    assert!(s.find_client("doomed").await.unwrap().is_none());
    assert_eq!(
        s.find_grant(g.id).await.unwrap().expect("grant").revoked_at,
        Some(micros(t0()))
    );
    assert!(
        s.find_access_token("at-1")
            .await
            .unwrap()
            .expect("at")
            .revoked_at
            .is_some()
    );
    assert!(
        s.find_access_token("at-cc")
            .await
            .unwrap()
            .expect("cc")
            .revoked_at
            .is_some(),
        "client_credentials token"
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
    assert!(!s.delete_client(c.id, t0()).await.unwrap());
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
    let retire = t0() + Duration::hours(2);
    s.rotate_keys(&key("k3", 10), &[("k1".into(), retire)])
        .await
        .unwrap();
    let keys = s.list_keys().await.unwrap();
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
    s.save_tokens(&access(&g, "at-1"), Some(&refresh(&g, "rt-1")))
        .await
        .unwrap();
    s.save_tokens(&access(&g, "at-2"), None).await.unwrap();

    let first = t0() + Duration::minutes(1);
    s.revoke_grant(g.id, first).await.unwrap();
    s.revoke_grant(g.id, first + Duration::minutes(1))
        .await
        .unwrap(); // idempotent: keeps the first time
    assert_eq!(
        s.find_grant(g.id).await.unwrap().expect("grant").revoked_at,
        Some(micros(first))
    );
    for jti in ["at-1", "at-2"] {
        assert_eq!(
            s.find_access_token(jti)
                .await
                .unwrap()
                .expect("at")
                .revoked_at,
            Some(micros(first))
        );
    }
    assert!(matches!(
        s.consume_refresh_token("rt-1", first).await.unwrap(),
        RefreshUse::Reused(_)
    ));

    let mut cc = access(&g, "at-cc");
    (cc.grant_id, cc.user_id) = (None, None);
    s.save_tokens(&cc, None).await.unwrap();
    s.revoke_access_token("at-cc", first).await.unwrap();
    assert!(
        s.find_access_token("at-cc")
            .await
            .unwrap()
            .expect("cc")
            .revoked_at
            .is_some()
    );
    assert!(s.find_access_token("nope").await.unwrap().is_none());
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

both_backends!(
    clients_round_trip,
    delete_client_revokes_its_grants,
    keys_insert_and_rotate,
    revoke_grant_revokes_its_tokens,
);
