//! Guest users through `UserRepo`: identities, paging, access expiry and
//! deletion, on SQLite and PostgreSQL.

use crate::common::*;
use chrono::Duration;
use portico_core::{MailKind, ManualClock};
use portico_directory::invitations::InvitationRepo;
use portico_directory::{DirectoryError, Identity, UserQuery, UserRepo, UserType};
use portico_oidc::store::AccountStore;
use portico_storage::Storage;
use std::sync::Arc;
use uuid::Uuid;

fn federated(sub: &str) -> Identity {
    Identity {
        sign_in_type: "federated".into(),
        issuer: "https://login.fabrikam.example".into(),
        issuer_assigned_id: sub.into(),
    }
}

async fn guest_round_trips_with_identities_and_sponsor(s: &Storage) {
    let mut g = guest("ann@fabrikam.example");
    g.identities.push(federated("sub-ann"));
    g.access_expires_at = Some(t0() + Duration::days(90));
    s.create_user(&g, &audit("Invite external user", g.id))
        .await
        .unwrap();

    assert_eq!(s.find_user(g.id).await.unwrap(), Some(g.clone()));
    let by_sub = s
        .find_user_by_identity("https://login.fabrikam.example", "sub-ann")
        .await;
    assert_eq!(by_sub.unwrap().map(|u| u.id), Some(g.id));
    let by_mail = s
        .find_user_by_identity(Identity::MAIL_ISSUER, "ann@fabrikam.example")
        .await;
    assert_eq!(by_mail.unwrap(), Some(g));
    let unknown = s
        .find_user_by_identity("https://login.fabrikam.example", "nobody")
        .await;
    assert!(unknown.unwrap().is_none());
}

async fn taken_identity_is_a_conflict_and_writes_nothing(s: &Storage) {
    let mut a = guest("a@fabrikam.example");
    a.identities.push(federated("shared"));
    s.create_user(&a, &audit("Add user", a.id)).await.unwrap();

    let mut b = guest("b@fabrikam.example");
    b.identities.push(federated("shared"));
    match s.create_user(&b, &audit("Add user", b.id)).await {
        Err(DirectoryError::Conflict(m)) => assert!(m.contains("identity"), "{m}"),
        other => panic!("expected Conflict, got {other:?}"),
    }
    assert!(
        s.find_user(b.id).await.unwrap().is_none(),
        "the user insert was rolled back"
    );

    // Taking it by update conflicts too and leaves the stored identities alone.
    b.identities = vec![Identity::email_otp(&b.mail)];
    s.create_user(&b, &audit("Add user", b.id)).await.unwrap();
    let mut taken = b.clone();
    taken.identities.push(federated("shared"));
    taken.display_name = "Changed".into();
    let res = s.update_user(&taken, &audit("Update user", b.id)).await;
    assert!(matches!(res, Err(DirectoryError::Conflict(_))), "{res:?}");
    assert_eq!(s.find_user(b.id).await.unwrap(), Some(b));
}

async fn update_replaces_identities(s: &Storage) {
    let mut g = guest("swap@fabrikam.example");
    s.create_user(&g, &audit("Add user", g.id)).await.unwrap();
    g.identities = vec![federated("sub-1"), federated("sub-2")];
    g.updated_at = t0() + Duration::minutes(1);
    s.update_user(&g, &audit("Update user", g.id))
        .await
        .unwrap();
    assert_eq!(
        s.find_user(g.id).await.unwrap().unwrap().identities,
        g.identities
    );
    let old = s
        .find_user_by_identity(Identity::MAIL_ISSUER, "swap@fabrikam.example")
        .await;
    assert!(old.unwrap().is_none(), "the removed identity is free again");

    // The removed identity can be linked to somebody else now.
    let mut other = guest("other@fabrikam.example");
    other
        .identities
        .push(Identity::email_otp("swap@fabrikam.example"));
    s.create_user(&other, &audit("Add user", other.id))
        .await
        .unwrap();
}

async fn list_users_pages_and_filters(s: &Storage) {
    let mut ids = vec![];
    for i in 0..7 {
        let u = if i % 2 == 0 {
            guest(&format!("g{i}@fabrikam.example"))
        } else {
            user(&format!("m{i}@contoso.example"))
        };
        s.create_user(&u, &audit("Add user", u.id)).await.unwrap();
        ids.push(u.id);
    }
    let mut seen = vec![];
    let mut q = UserQuery {
        limit: 3,
        ..Default::default()
    };
    loop {
        let page = s.list_users(&q).await.unwrap();
        assert!(page.len() <= 3);
        seen.extend(page.iter().map(|u| u.id));
        match page.last() {
            Some(last) if page.len() == 3 => q.after = Some(last.id),
            _ => break,
        }
    }
    assert_eq!(seen, ids, "keyset pages cover every user once, in id order");

    let guests = UserQuery {
        user_type: Some(UserType::Guest),
        ..Default::default()
    };
    let guests = s.list_users(&guests).await.unwrap();
    assert_eq!(guests.len(), 4);
    assert!(
        guests
            .iter()
            .all(|g| g.identities == vec![Identity::email_otp(&g.mail)])
    );

    let one = UserQuery {
        mail: Some("m3@contoso.example".into()),
        ..Default::default()
    };
    let one: Vec<Uuid> = s
        .list_users(&one)
        .await
        .unwrap()
        .iter()
        .map(|u| u.id)
        .collect();
    assert_eq!(one, vec![ids[3]]);
}

/// Expiry at `updated_at` cuts the user off like disabling does; a stored
/// expiry that passes later disables the account without any write.
async fn expired_access_cuts_off_and_disables_account(s: &Storage) {
    let mut g = guest("late@fabrikam.example");
    let gid = seed_grant_for(s, &g).await;
    g.access_expires_at = Some(t0() + Duration::minutes(1));
    g.updated_at = t0() + Duration::minutes(2);
    s.update_user(&g, &audit("Update user", g.id))
        .await
        .unwrap();
    assert_cut_off(s, "late@fabrikam.example", g.id, gid).await;
    let at_expiry = s
        .clone()
        .with_clock(Arc::new(ManualClock::new(t0() + Duration::minutes(1))));
    assert!(!at_expiry.find_account(g.id).await.unwrap().unwrap().enabled);

    let mut h = guest("later@fabrikam.example");
    let hid = seed_grant_for(s, &h).await;
    h.access_expires_at = Some(t0() + Duration::days(1));
    s.update_user(&h, &audit("Update user", h.id))
        .await
        .unwrap();
    assert_untouched(s, "later@fabrikam.example", h.id, hid).await;
    let clock = ManualClock::new(t0() + Duration::hours(23));
    let timed = s.clone().with_clock(Arc::new(clock.clone()));
    assert!(timed.find_account(h.id).await.unwrap().unwrap().enabled);
    clock.advance(Duration::hours(1));
    assert!(!timed.find_account(h.id).await.unwrap().unwrap().enabled);
}

async fn deleting_a_guest_removes_its_invitations_codes_and_identities(s: &Storage) {
    let g = guest("bye@fabrikam.example");
    let w = invite(&g);
    s.save_invitation(&w).await.unwrap();
    let mut code = otp("hash");
    code.subject = w.invitation.id.to_string();
    s.create_code(&code, &mail(&g.mail, MailKind::OneTimeCode))
        .await
        .unwrap();
    let gid = {
        let other = guest("stay@fabrikam.example");
        s.save_invitation(&invite(&other)).await.unwrap();
        other.id
    };

    assert!(
        s.delete_user(g.id, &audit("Delete user", g.id))
            .await
            .unwrap()
    );
    assert!(s.find_invitation(w.invitation.id).await.unwrap().is_none());
    assert!(s.find_code(code.id).await.unwrap().is_none());
    let ident = s
        .find_user_by_identity(Identity::MAIL_ISSUER, "bye@fabrikam.example")
        .await;
    assert!(ident.unwrap().is_none());
    let left: Vec<Uuid> = s
        .list_users(&UserQuery::default())
        .await
        .unwrap()
        .iter()
        .map(|u| u.id)
        .collect();
    assert_eq!(left, vec![gid]);
}

both_backends!(
    guest_round_trips_with_identities_and_sponsor,
    taken_identity_is_a_conflict_and_writes_nothing,
    update_replaces_identities,
    list_users_pages_and_filters,
    expired_access_cuts_off_and_disables_account,
    deleting_a_guest_removes_its_invitations_codes_and_identities,
);
