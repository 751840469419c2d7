//! `UserRepo`, `AccountStore`, migrations and server secrets, on SQLite and PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use chrono::Duration;
use common::*;
use portico_directory::{DirectoryError, UserRepo, UserType};
use portico_oidc::model::{Authentication, Consent, RefreshUse, Session};
use portico_oidc::store::{AccountStore, ConsentStore, GrantStore, SessionStore};
use portico_storage::Storage;
use uuid::Uuid;

async fn migrations_are_idempotent(s: &Storage) {
    s.migrate().await.expect("second run");
    s.migrate().await.expect("third run");
    s.ping().await.expect("ping");
    assert!(matches!(s.backend_name(), "sqlite" | "postgres"));
}

async fn server_secret_is_generated_once(s: &Storage) {
    let first = s
        .server_secret("cookie_key", || "generated-1".into())
        .await
        .unwrap();
    assert_eq!(first, "generated-1");
    let again = s
        .server_secret("cookie_key", || panic!("must not generate twice"))
        .await
        .unwrap();
    assert_eq!(again, first);
    let other = s
        .server_secret("pepper", || "generated-2".into())
        .await
        .unwrap();
    assert_eq!(other, "generated-2");
}

async fn users_round_trip_in_order(s: &Storage) {
    let mut a = user("a@contoso.example");
    a.is_admin = true;
    let mut b = user("b@contoso.example");
    b.created_at = t0() - Duration::hours(1);
    b.user_type = UserType::Guest;
    b.password_hash = None;
    s.create_user(&a).await.unwrap();
    s.create_user(&b).await.unwrap();

    let found = s.find_user(a.id).await.unwrap().expect("a");
    assert_eq!(
        (found.mail.as_str(), found.is_admin, found.created_at),
        ("a@contoso.example", true, micros(a.created_at))
    );
    assert_eq!(found.password_hash, a.password_hash);
    let by_mail = s
        .find_user_by_mail("b@contoso.example")
        .await
        .unwrap()
        .expect("b");
    assert_eq!(
        (by_mail.id, by_mail.user_type, by_mail.password_hash),
        (b.id, UserType::Guest, None)
    );
    assert!(
        s.find_user_by_mail("nobody@contoso.example")
            .await
            .unwrap()
            .is_none()
    );
    assert!(s.find_user(Uuid::new_v4()).await.unwrap().is_none());

    let ids: Vec<Uuid> = s.list_users().await.unwrap().iter().map(|u| u.id).collect();
    assert_eq!(ids, vec![b.id, a.id], "ordered by created_at");
    assert_eq!(s.count_admins().await.unwrap(), 1);

    let account = s.find_account(b.id).await.unwrap().expect("account");
    assert_eq!(account.email.as_deref(), Some("b@contoso.example"));
    assert!(account.enabled && account.email_verified);
    assert_eq!(
        (account.user_type.as_str(), account.display_name.as_str()),
        ("Guest", "Alice Example")
    );
    assert!(s.find_account(Uuid::new_v4()).await.unwrap().is_none());
}

async fn duplicate_mail_is_a_conflict(s: &Storage) {
    s.create_user(&user("dup@contoso.example")).await.unwrap();
    match s.create_user(&user("dup@contoso.example")).await {
        Err(DirectoryError::Conflict(m)) => assert_eq!(m, "A user with this mail already exists."),
        other => panic!("expected Conflict, got {other:?}"),
    }
    // Changing a mail to a taken one conflicts too.
    let mut other = user("other@contoso.example");
    s.create_user(&other).await.unwrap();
    other.mail = "dup@contoso.example".into();
    assert!(matches!(
        s.update_user(&other).await,
        Err(DirectoryError::Conflict(_))
    ));
}

/// A user with a session, a consent, a grant and tokens of it.
async fn seed_user_with_grant(s: &Storage, mail: &str) -> (Uuid, Uuid) {
    let u = user(mail);
    s.create_user(&u).await.unwrap();
    let auth = Authentication {
        user_id: u.id,
        auth_time: t0(),
        amr: vec!["pwd".into()],
    };
    let session = Session {
        id_hash: format!("sess-{mail}"),
        sid: format!("sid-{mail}"),
        auth,
        created_at: t0(),
        expires_at: t0() + Duration::hours(8),
    };
    s.create_session(&session).await.unwrap();
    let consent = Consent {
        user_id: u.id,
        client_id: "app".into(),
        scopes: vec!["openid".into()],
        granted_at: t0(),
    };
    s.save_consent(&consent).await.unwrap();
    let g = grant("app", Some(u.id));
    s.create_grant(&g).await.unwrap();
    s.save_tokens(
        &access(&g, &format!("at-{mail}")),
        Some(&refresh(&g, &format!("rt-{mail}"))),
    )
    .await
    .unwrap();
    (u.id, g.id)
}

async fn assert_cut_off(s: &Storage, mail: &str, grant_id: Uuid) {
    assert!(
        s.find_session(&format!("sess-{mail}"))
            .await
            .unwrap()
            .is_none(),
        "session ended"
    );
    assert!(
        s.find_grant(grant_id)
            .await
            .unwrap()
            .expect("grant kept")
            .revoked_at
            .is_some(),
        "grant revoked"
    );
    let at = s
        .find_access_token(&format!("at-{mail}"))
        .await
        .unwrap()
        .expect("access token");
    assert!(at.revoked_at.is_some(), "access token revoked");
    let rt = s
        .consume_refresh_token(&format!("rt-{mail}"), t0())
        .await
        .unwrap();
    assert!(
        matches!(rt, RefreshUse::Reused(_)),
        "refresh token unusable: {rt:?}"
    );
}

async fn delete_user_removes_everything(s: &Storage) {
    let (uid, gid) = seed_user_with_grant(s, "gone@contoso.example").await;
    let (keep_uid, keep_gid) = seed_user_with_grant(s, "kept@contoso.example").await;
    assert!(s.delete_user(uid).await.unwrap());
    assert!(s.find_user(uid).await.unwrap().is_none());
    assert!(
        s.find_consent(uid, "app").await.unwrap().is_none(),
        "consent deleted"
    );
    assert_cut_off(s, "gone@contoso.example", gid).await;
    assert!(
        !s.delete_user(uid).await.unwrap(),
        "second delete finds nothing"
    );

    // The other user is untouched.
    assert!(
        s.find_session("sess-kept@contoso.example")
            .await
            .unwrap()
            .is_some()
    );
    assert!(s.find_consent(keep_uid, "app").await.unwrap().is_some());
    assert!(
        s.find_grant(keep_gid)
            .await
            .unwrap()
            .expect("grant")
            .revoked_at
            .is_none()
    );
    assert!(
        s.find_access_token("at-kept@contoso.example")
            .await
            .unwrap()
            .expect("at")
            .revoked_at
            .is_none()
    );
}

async fn disabling_a_user_cuts_it_off(s: &Storage) {
    let (uid, gid) = seed_user_with_grant(s, "off@contoso.example").await;
    let mut u = s.find_user(uid).await.unwrap().expect("user");
    u.display_name = "Renamed".into();
    u.is_admin = true;
    u.updated_at = t0() + Duration::minutes(3);
    s.update_user(&u).await.unwrap();
    assert!(
        s.find_session("sess-off@contoso.example")
            .await
            .unwrap()
            .is_some(),
        "still enabled: session kept"
    );

    u.account_enabled = false;
    s.update_user(&u).await.unwrap();
    let stored = s.find_user(uid).await.unwrap().expect("user");
    assert_eq!(
        (
            stored.display_name.as_str(),
            stored.is_admin,
            stored.account_enabled
        ),
        ("Renamed", true, false)
    );
    assert_eq!(
        (stored.created_at, stored.updated_at),
        (micros(t0()), micros(u.updated_at))
    );
    assert!(
        s.find_consent(uid, "app").await.unwrap().is_some(),
        "consent survives disabling"
    );
    assert_cut_off(s, "off@contoso.example", gid).await;
    assert!(!s.find_account(uid).await.unwrap().expect("account").enabled);

    let ghost = user("ghost@contoso.example");
    assert!(matches!(
        s.update_user(&ghost).await,
        Err(DirectoryError::NotFound)
    ));
}

both_backends!(
    migrations_are_idempotent,
    server_secret_is_generated_once,
    users_round_trip_in_order,
    duplicate_mail_is_a_conflict,
    delete_user_removes_everything,
    disabling_a_user_cuts_it_off,
);
