//! `UserRepo`, `AccountStore`, migrations and server secrets, on SQLite and PostgreSQL.

use crate::common::*;
use chrono::Duration;
use portico_directory::audit::{AuditQuery, AuditRepo};
use portico_directory::{DirectoryError, UserChange, UserQuery, UserRepo, UserType};
use portico_oidc::store::AccountStore;
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

fn all() -> UserQuery {
    UserQuery::default()
}

async fn users_round_trip_in_id_order(s: &Storage) {
    let mut a = user("a@contoso.example");
    a.is_admin = true;
    let mut b = user("b@contoso.example");
    b.created_at = t0() - Duration::hours(1);
    b.user_type = UserType::Guest;
    b.password_hash = None;
    s.create_user(&a, &audit("Add user", a.id)).await.unwrap();
    s.create_user(&b, &audit("Add user", b.id)).await.unwrap();

    let found = s.find_user(a.id).await.unwrap().expect("a");
    assert_eq!(found.created_at, micros(a.created_at));
    assert_eq!(found, a, "every field round-trips");
    let by_mail = s.find_user_by_mail("b@contoso.example").await.unwrap();
    let by_mail = by_mail.expect("b");
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

    let ids: Vec<Uuid> = s
        .list_users(&all())
        .await
        .unwrap()
        .iter()
        .map(|u| u.id)
        .collect();
    assert_eq!(
        ids,
        vec![a.id, b.id],
        "ordered by id (UUIDv7), not by created_at"
    );
    assert_eq!(s.count_admins().await.unwrap(), 1);

    let account = s.find_account(b.id).await.unwrap().expect("account");
    assert_eq!(account.email.as_deref(), Some("b@contoso.example"));
    // email_verified is what the directory proved, not a constant.
    assert!(account.enabled && !account.email_verified);
    let mut proven = b.clone();
    proven.email_verified = true;
    let change = UserChange {
        email_verified: Some(true),
        ..UserChange::at(b.updated_at)
    };
    s.change_user(b.id, &change, &audit("Update user", b.id))
        .await
        .unwrap();
    let account = s.find_account(proven.id).await.unwrap().expect("account");
    assert!(account.enabled && account.email_verified);
    assert_eq!(
        (account.user_type.as_str(), account.display_name.as_str()),
        ("Guest", "Alice Example")
    );
    assert!(s.find_account(Uuid::new_v4()).await.unwrap().is_none());
}

async fn duplicate_mail_is_a_conflict(s: &Storage) {
    let first = user("dup@contoso.example");
    s.create_user(&first, &audit("Add user", first.id))
        .await
        .unwrap();
    let second = user("dup@contoso.example");
    match s.create_user(&second, &audit("Add user", second.id)).await {
        Err(DirectoryError::Conflict(m)) => assert_eq!(m, "A user with this mail already exists."),
        other => panic!("expected Conflict, got {other:?}"),
    }
    // Changing a mail to a taken one conflicts too, and writes no audit entry.
    let mut other = user("other@contoso.example");
    s.create_user(&other, &audit("Add user", other.id))
        .await
        .unwrap();
    other.mail = "dup@contoso.example".into();
    let res = s.update_user(&other, &audit("Update user", other.id)).await;
    assert!(matches!(res, Err(DirectoryError::Conflict(_))), "{res:?}");
    let q = AuditQuery {
        target_id: Some(other.id.to_string()),
        ..Default::default()
    };
    let activities: Vec<String> = s
        .list_audits(&q)
        .await
        .unwrap()
        .into_iter()
        .map(|a| a.activity)
        .collect();
    assert_eq!(activities, vec!["Add user"]);
}

async fn delete_user_removes_everything(s: &Storage) {
    let (uid, gid) = seed_user_with_grant(s, "gone@contoso.example").await;
    let (keep_uid, keep_gid) = seed_user_with_grant(s, "kept@contoso.example").await;
    assert!(
        s.delete_user(uid, &audit("Delete user", uid))
            .await
            .unwrap()
    );
    assert!(s.find_user(uid).await.unwrap().is_none());
    assert_cut_off(s, "gone@contoso.example", uid, gid).await;
    let again = s
        .delete_user(uid, &audit("Delete user", uid))
        .await
        .unwrap();
    assert!(!again, "second delete finds nothing");
    let q = AuditQuery {
        target_id: Some(uid.to_string()),
        ..Default::default()
    };
    let activities: Vec<String> = s
        .list_audits(&q)
        .await
        .unwrap()
        .into_iter()
        .map(|a| a.activity)
        .collect();
    assert_eq!(
        activities,
        vec!["Delete user", "Add user"],
        "no entry for the no-op delete"
    );

    assert_untouched(s, "kept@contoso.example", keep_uid, keep_gid).await;
}

async fn disabling_a_user_cuts_it_off(s: &Storage) {
    let (uid, gid) = seed_user_with_grant(s, "off@contoso.example").await;
    let mut u = s.find_user(uid).await.unwrap().expect("user");
    u.display_name = "Renamed".into();
    u.is_admin = true;
    u.updated_at = t0() + Duration::minutes(3);
    s.update_user(&u, &audit("Update user", uid)).await.unwrap();
    assert_untouched(s, "off@contoso.example", uid, gid).await;

    u.account_enabled = false;
    s.update_user(&u, &audit("Disable user", uid))
        .await
        .unwrap();
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
    assert_cut_off(s, "off@contoso.example", uid, gid).await;
    assert!(!s.find_account(uid).await.unwrap().expect("account").enabled);

    let ghost = user("ghost@contoso.example");
    let res = s.update_user(&ghost, &audit("Update user", ghost.id)).await;
    assert!(matches!(res, Err(DirectoryError::NotFound)), "{res:?}");
}

/// The storage refuses, inside the write, what the service checked before:
/// a stale `If-Match` (someone wrote in between) and taking away the last
/// active administrator, whether by a change or a delete.
async fn writes_recheck_the_version_and_the_last_admin(s: &Storage) {
    let mut a = user("first-admin@contoso.example");
    a.is_admin = true;
    s.create_user(&a, &audit("Add user", a.id)).await.unwrap();
    let read = s.find_user(a.id).await.unwrap().expect("a");
    // Someone renames the user after the caller's read.
    let rename = UserChange {
        display_name: Some("Renamed".into()),
        ..UserChange::at(t0() + Duration::seconds(1))
    };
    s.change_user(a.id, &rename, &audit("Update user", a.id))
        .await
        .unwrap();
    let stale = UserChange {
        display_name: Some("Stale".into()),
        if_match: Some(read.etag()),
        ..UserChange::at(t0() + Duration::seconds(2))
    };
    let res = s
        .change_user(a.id, &stale, &audit("Update user", a.id))
        .await;
    assert!(matches!(res, Err(DirectoryError::Stale)), "{res:?}");
    let now = s.find_user(a.id).await.unwrap().expect("a");
    assert_eq!(
        now.display_name, "Renamed",
        "the stale write changed nothing"
    );
    let fresh = UserChange {
        display_name: Some("Fresh".into()),
        if_match: Some(now.etag()),
        ..UserChange::at(t0() + Duration::seconds(3))
    };
    s.change_user(a.id, &fresh, &audit("Update user", a.id))
        .await
        .unwrap();

    // The only active administrator can be neither disabled nor deleted.
    let disable = UserChange {
        account_enabled: Some(false),
        ..UserChange::at(t0() + Duration::seconds(4))
    };
    let res = s
        .change_user(a.id, &disable, &audit("Disable account", a.id))
        .await;
    assert!(matches!(res, Err(DirectoryError::Conflict(_))), "{res:?}");
    let res = s.delete_user(a.id, &audit("Delete user", a.id)).await;
    assert!(matches!(res, Err(DirectoryError::Conflict(_))), "{res:?}");
    assert!(s.find_user(a.id).await.unwrap().expect("a").account_enabled);

    // With a second one, one of them may go.
    let mut b = user("second-admin@contoso.example");
    b.is_admin = true;
    s.create_user(&b, &audit("Add user", b.id)).await.unwrap();
    s.change_user(a.id, &disable, &audit("Disable account", a.id))
        .await
        .unwrap();
    let res = s.delete_user(b.id, &audit("Delete user", b.id)).await;
    assert!(matches!(res, Err(DirectoryError::Conflict(_))), "{res:?}");
}

both_backends!(
    writes_recheck_the_version_and_the_last_admin,
    migrations_are_idempotent,
    server_secret_is_generated_once,
    users_round_trip_in_id_order,
    duplicate_mail_is_a_conflict,
    delete_user_removes_everything,
    disabling_a_user_cuts_it_off,
);
