//! Races: one-time redemptions, first-key insertion, shared secrets and many
//! concurrent writers, on SQLite and PostgreSQL.

use crate::common::*;
use chrono::Duration;
use portico_directory::UserRepo;
use portico_oidc::model::{CodeRedemption, RefreshUse, SigningKey};
use portico_oidc::store::{GrantStore, KeyStore, StoreResult};
use portico_storage::Storage;

const RACERS: usize = 20;

async fn code_is_redeemed_exactly_once(s: &Storage) {
    let g = grant("app", Some(uuid::Uuid::new_v4()));
    s.create_grant_with_code(&g, &code(&g, "code-hash"))
        .await
        .unwrap();
    let now = t0() + Duration::seconds(5);
    let results: Vec<StoreResult<CodeRedemption>> = race(s, RACERS, move |s, _| async move {
        s.consume_code("code-hash", now).await
    })
    .await;
    let (mut redeemed, mut used) = (0, 0);
    for r in results {
        match r.unwrap_or_else(|e| panic!("consume_code failed under contention: {e:#}")) {
            CodeRedemption::Redeemed(c) => {
                assert_eq!(c.consumed_at, Some(micros(now)));
                assert_eq!(c.grant_id, g.id);
                redeemed += 1;
            }
            CodeRedemption::AlreadyUsed(_) => used += 1,
            CodeRedemption::NotFound => panic!("the code exists"),
        }
    }
    assert_eq!((redeemed, used), (1, RACERS - 1));
    assert!(matches!(
        s.consume_code("no-such-code", now).await.unwrap(),
        CodeRedemption::NotFound
    ));
}

async fn refresh_token_rotates_exactly_once(s: &Storage) {
    let g = grant("app", Some(uuid::Uuid::new_v4()));
    s.create_grant(&g).await.unwrap();
    s.save_refresh_token(&refresh(&g, "rt-hash")).await.unwrap();
    let now = t0() + Duration::seconds(5);
    let successors: Vec<_> = (0..RACERS)
        .map(|i| refresh(&g, &format!("rt-next-{i}")))
        .collect();
    let racing = successors.clone();
    let results: Vec<StoreResult<RefreshUse>> = race(s, RACERS, move |s, i| {
        let next = racing[i].clone();
        async move { s.rotate_refresh_token("rt-hash", &next, now).await }
    })
    .await;
    let (mut rotated, mut reused) = (0, 0);
    for r in results {
        match r.unwrap_or_else(|e| panic!("rotate_refresh_token failed under contention: {e:#}")) {
            RefreshUse::Rotated(_) => rotated += 1,
            RefreshUse::Reused(t) => {
                assert_eq!(t.consumed_at, Some(micros(now)));
                reused += 1;
            }
            RefreshUse::NotFound => panic!("the token exists"),
        }
    }
    assert_eq!((rotated, reused), (1, RACERS - 1));
    // Only the winner's successor was saved, unused.
    let mut saved = Vec::new();
    for next in &successors {
        if let Some(t) = s.find_refresh_token(&next.token_hash).await.unwrap() {
            assert_eq!(t.consumed_at, None);
            saved.push(t.token_hash);
        }
    }
    assert_eq!(saved.len(), 1, "{saved:?}");
    let stray = refresh(&g, "rt-stray");
    assert!(matches!(
        s.rotate_refresh_token("nope", &stray, now).await.unwrap(),
        RefreshUse::NotFound
    ));
    assert!(s.find_refresh_token("rt-stray").await.unwrap().is_none());
}

fn key(kid: String) -> SigningKey {
    SigningKey {
        kid,
        alg: "RS256".into(),
        private_pem: "-----BEGIN PRIVATE KEY-----\n...\n-----END PRIVATE KEY-----\n".into(),
        created_at: t0(),
        activates_at: t0(),
        expires_at: None,
    }
}

async fn first_key_is_inserted_once(s: &Storage) {
    let results = race(s, 10, |s, i| async move {
        s.insert_first_key(&key(format!("k{i}"))).await
    })
    .await;
    let wins = results
        .into_iter()
        .map(|r| r.expect("insert_first_key"))
        .filter(|w| *w)
        .count();
    assert_eq!(wins, 1);
    assert_eq!(s.list_keys().await.unwrap().len(), 1);
}

async fn server_secret_race_agrees(s: &Storage) {
    let values = race(s, 10, |s, i| async move {
        s.server_secret("pepper", move || format!("value-{i}"))
            .await
    })
    .await;
    let values: Vec<String> = values
        .into_iter()
        .map(|v| v.expect("server_secret"))
        .collect();
    assert!(values.iter().all(|v| v == &values[0]), "{values:?}");
}

/// 50 writers each creating a user, a grant and its tokens, plus a redemption
/// and a revocation: no "database is locked", no error at all.
async fn many_writers_never_fail(s: &Storage) {
    let results = race(s, 50, |s, i| async move {
        let u = user(&format!("user{i}@contoso.example"));
        s.create_user(&u, &audit("Add user", u.id))
            .await
            .map_err(|e| format!("create_user: {e:#}"))?;
        let g = grant("app", Some(u.id));
        s.create_grant_with_code(&g, &code(&g, &format!("c{i}")))
            .await
            .map_err(|e| format!("grant: {e:#}"))?;
        s.consume_code(&format!("c{i}"), t0())
            .await
            .map_err(|e| format!("consume: {e:#}"))?;
        s.save_refresh_token(&refresh(&g, &format!("r{i}")))
            .await
            .map_err(|e| format!("save_refresh_token: {e:#}"))?;
        if i % 5 == 0 {
            s.revoke_grant(g.id, t0())
                .await
                .map_err(|e| format!("revoke: {e:#}"))?;
        }
        Ok::<(), String>(())
    })
    .await;
    let errors: Vec<String> = results.into_iter().filter_map(Result::err).collect();
    assert!(
        errors.is_empty(),
        "{} writers failed: {errors:#?}",
        errors.len()
    );
    assert_eq!(s.list_users(&Default::default()).await.unwrap().len(), 50);
}

both_backends!(
    code_is_redeemed_exactly_once,
    refresh_token_rotates_exactly_once,
    first_key_is_inserted_once,
    server_secret_race_agrees,
    many_writers_never_fail,
);
