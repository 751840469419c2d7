//! Changes to an existing invitation: resend and revoke, acceptance and the
//! block list. Each is conditional on the invitation's stored state, so of two
//! concurrent changes exactly one applies.

use crate::common::*;
use chrono::Duration;
use portico_core::MailKind;
use portico_directory::invitations::*;
use portico_directory::{ExternalUserState, Identity, User, UserRepo};
use portico_oidc::store::AccountStore;
use portico_storage::Storage;

async fn update_invitation_is_conditional(s: &Storage) {
    let w = invite(&guest("resend@fabrikam.example"));
    s.save_invitation(&w).await.unwrap();
    let mut resent = w.invitation.clone();
    resent.link_generation = 2;
    resent.expires_at = t0() + Duration::days(60);
    let m = mail(&resent.email, MailKind::Invitation);
    let a = [audit("Resend invitation", resent.id)];
    let pending = InvitationState::Pending;
    assert!(
        s.update_invitation(&resent, pending, 1, Some(&m), &a)
            .await
            .unwrap()
    );
    assert_eq!(
        s.find_invitation(resent.id).await.unwrap(),
        Some(resent.clone())
    );
    assert_eq!(pending_mail(s).await, 2);

    let stale = s
        .update_invitation(&resent, pending, 1, None, &a)
        .await
        .unwrap();
    assert!(!stale, "generation 1 is gone");
    let mut revoked = resent.clone();
    (revoked.state, revoked.revoked_at) = (InvitationState::Revoked, Some(t0()));
    let revoke = [audit("Revoke invitation", resent.id)];
    assert!(
        s.update_invitation(&revoked, pending, 2, None, &revoke)
            .await
            .unwrap()
    );
    assert!(
        !s.update_invitation(&resent, pending, 2, None, &a)
            .await
            .unwrap(),
        "not pending"
    );
    let log = audits_of(s, resent.id).await;
    assert_eq!(
        log,
        vec![
            "Revoke invitation",
            "Resend invitation",
            "Invite external user"
        ]
    );
}

async fn accept_invitation_is_conditional(s: &Storage) {
    let g = guest("accept@fabrikam.example");
    let w = invite(&g);
    s.save_invitation(&w).await.unwrap();
    let mut accepted = g.clone();
    accepted.external_user_state = Some(ExternalUserState::Accepted);
    accepted.identities.push(Identity {
        sign_in_type: "federated".into(),
        issuer: "https://login.fabrikam.example".into(),
        issuer_assigned_id: "sub-accept".into(),
    });
    accepted.updated_at = t0() + Duration::minutes(5);
    let mut inv = w.invitation.clone();
    inv.link_generation = 0;
    let a = [audit("Redeem invitation", inv.id)];
    assert!(
        !s.accept_invitation(&inv, &accepted, &a).await.unwrap(),
        "stale generation"
    );
    assert_eq!(
        s.find_user(g.id).await.unwrap(),
        Some(g.clone()),
        "guest untouched"
    );

    inv.link_generation = 1;
    // The caller passes the invitation as it was (pending): the acceptance
    // time comes from the guest's change, not from the stale invitation.
    assert!(s.accept_invitation(&inv, &accepted, &a).await.unwrap());
    let stored = s.find_invitation(inv.id).await.unwrap().unwrap();
    assert_eq!(
        (stored.state, stored.accepted_at, stored.updated_at),
        (
            InvitationState::Accepted,
            Some(micros(accepted.updated_at)),
            micros(accepted.updated_at)
        )
    );
    // Accepting proves the invited mailbox.
    let proven = User {
        email_verified: true,
        ..accepted.clone()
    };
    assert_eq!(s.find_user(g.id).await.unwrap(), Some(proven));
    assert!(
        !s.accept_invitation(&inv, &accepted, &a).await.unwrap(),
        "already accepted"
    );
    assert!(s.find_account(g.id).await.unwrap().unwrap().enabled);
}

/// An admin who disables the guest between its code and its acceptance wins:
/// the acceptance writes nothing and the account stays disabled.
async fn a_guest_disabled_meanwhile_cannot_accept(s: &Storage) {
    let mut g = guest("late@fabrikam.example");
    let w = invite(&g);
    s.save_invitation(&w).await.unwrap();
    let mut disabled = g.clone();
    disabled.account_enabled = false;
    s.update_user(&disabled, &audit("Disable account", g.id))
        .await
        .unwrap();
    g.external_user_state = Some(ExternalUserState::Accepted);
    g.identities.push(Identity {
        sign_in_type: "federated".into(),
        issuer: "https://login.fabrikam.example".into(),
        issuer_assigned_id: "sub-late".into(),
    });
    g.updated_at = t0() + Duration::minutes(5);
    let a = [audit("Redeem invitation", w.invitation.id)];
    assert!(!s.accept_invitation(&w.invitation, &g, &a).await.unwrap());
    let stored = s.find_user(g.id).await.unwrap().unwrap();
    assert!(!stored.account_enabled, "the admin's change is kept");
    assert_eq!(stored.identities, disabled.identities, "no identity added");
    assert_eq!(
        s.find_invitation(w.invitation.id)
            .await
            .unwrap()
            .unwrap()
            .state,
        InvitationState::Pending
    );
}

async fn blocking_revokes_the_pending_invitation(s: &Storage) {
    let w = invite(&guest("nope@fabrikam.example"));
    s.save_invitation(&w).await.unwrap();
    assert!(!s.is_blocked("nope@fabrikam.example").await.unwrap());
    let at = t0() + Duration::minutes(1);
    // Blocking twice (each with its own audit entry) is not an error.
    for _ in 0..2 {
        let a = [audit("Block recipient", w.invitation.id)];
        s.block_recipient("nope@fabrikam.example", Some(&w.invitation), &a, at)
            .await
            .unwrap();
    }
    assert!(s.is_blocked("nope@fabrikam.example").await.unwrap());
    let inv = s.find_invitation(w.invitation.id).await.unwrap().unwrap();
    assert_eq!(
        (inv.state, inv.revoked_at),
        (InvitationState::Revoked, Some(micros(at)))
    );
    assert_eq!(
        audits_of(s, w.invitation.id).await.len(),
        3,
        "invite + two blocks"
    );
}

both_backends!(
    update_invitation_is_conditional,
    accept_invitation_is_conditional,
    a_guest_disabled_meanwhile_cannot_accept,
    blocking_revokes_the_pending_invitation,
);
