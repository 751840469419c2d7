//! A user with a session, a consent, a grant and tokens, the checks that all
//! of them stopped working (or still work), and small read-backs.

use super::{audit, grant, refresh, t0, user};
use chrono::Duration;
use portico_directory::audit::{AuditQuery, AuditRepo};
use portico_directory::{User, UserRepo};
use portico_mail::{MailQueue, MailStatus};
use portico_oidc::model::{Authentication, Consent, Session};
use portico_oidc::store::{ConsentStore, GrantStore, SessionStore};
use portico_storage::Storage;
use uuid::Uuid;

/// How many messages wait in the outbox.
pub async fn pending_mail(s: &Storage) -> u64 {
    s.count_mail(MailStatus::Pending).await.unwrap()
}

/// The activities logged about `target`, newest first.
pub async fn audits_of(s: &Storage, target: impl ToString) -> Vec<String> {
    let q = AuditQuery {
        target_id: Some(target.to_string()),
        ..Default::default()
    };
    s.list_audits(&q)
        .await
        .unwrap()
        .into_iter()
        .map(|a| a.activity)
        .collect()
}

/// Creates `u` with a session `sess-<mail>`, a consent to "app", a grant and
/// its tokens `at-<mail>` / `rt-<mail>`; returns the grant id.
pub async fn seed_grant_for(s: &Storage, u: &User) -> Uuid {
    s.create_user(u, &audit("Add user", u.id)).await.unwrap();
    let mail = &u.mail;
    let auth = Authentication {
        user_id: u.id,
        auth_time: t0(),
        amr: vec!["pwd".into()],
        idp: None,
        detail: Default::default(),
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
        privacy_version: None,
    };
    s.save_consent(&consent).await.unwrap();
    let g = grant("app", Some(u.id));
    s.create_grant(&g).await.unwrap();
    s.save_refresh_token(&refresh(&g, &format!("rt-{mail}")))
        .await
        .unwrap();
    g.id
}

/// A member seeded by [`seed_grant_for`]: (user id, grant id).
pub async fn seed_user_with_grant(s: &Storage, mail: &str) -> (Uuid, Uuid) {
    let u = user(mail);
    let g = seed_grant_for(s, &u).await;
    (u.id, g)
}

/// The session is gone, the consent deleted, the grant (which its access
/// tokens name) and its refresh token revoked.
pub async fn assert_cut_off(s: &Storage, mail: &str, user_id: Uuid, grant_id: Uuid) {
    let session = s.find_session(&format!("sess-{mail}")).await.unwrap();
    assert!(session.is_none(), "session ended");
    let consent = s.find_consent(user_id, "app").await.unwrap();
    assert!(consent.is_none(), "consent deleted");
    let g = s.find_grant(grant_id).await.unwrap().expect("grant kept");
    assert!(g.revoked_at.is_some(), "grant revoked");
    let rt = s
        .find_refresh_token(&format!("rt-{mail}"))
        .await
        .unwrap()
        .expect("refresh token kept");
    assert!(rt.consumed_at.is_some(), "refresh token unusable: {rt:?}");
}

/// Nothing of the seeded user was touched.
pub async fn assert_untouched(s: &Storage, mail: &str, user_id: Uuid, grant_id: Uuid) {
    let session = s.find_session(&format!("sess-{mail}")).await.unwrap();
    assert!(session.is_some(), "session kept");
    assert!(
        s.find_consent(user_id, "app").await.unwrap().is_some(),
        "consent kept"
    );
    let g = s.find_grant(grant_id).await.unwrap().expect("grant");
    assert!(g.revoked_at.is_none(), "grant not revoked");
}
