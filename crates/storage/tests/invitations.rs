//! `InvitationRepo`: the one-transaction invitation write, conditional
//! updates and acceptance, listing, and the block list.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use chrono::Duration;
use common::*;
use portico_core::MailKind;
use portico_directory::audit::{AuditQuery, AuditRepo};
use portico_directory::import::{ImportRepo, RowOutcome};
use portico_directory::invitations::*;
use portico_directory::{DirectoryError, ExternalUserState, Identity, UserRepo};
use portico_mail::{MailQueue, MailStatus};
use portico_oidc::store::AccountStore;
use portico_storage::Storage;

async fn pending_mail(s: &Storage) -> u64 {
    s.count_mail(MailStatus::Pending).await.unwrap()
}

async fn audits_of(s: &Storage, target: impl ToString) -> Vec<String> {
    let q = AuditQuery { target_id: Some(target.to_string()), ..Default::default() };
    s.list_audits(&q).await.unwrap().into_iter().map(|a| a.activity).collect()
}

async fn invitation_writes_guest_invitation_mail_and_audit(s: &Storage) {
    let g = guest("new@fabrikam.example");
    let w = invite(&g);
    s.save_invitation(&w).await.unwrap();
    assert_eq!(s.find_invitation(w.invitation.id).await.unwrap(), Some(w.invitation.clone()));
    assert_eq!(s.find_user(g.id).await.unwrap(), Some(g));
    assert_eq!(pending_mail(s).await, 1);
    assert_eq!(audits_of(s, w.invitation.id).await, vec!["Invite external user"]);
}

async fn import_row_conflict_rolls_back_everything(s: &Storage) {
    let j = job("sha-conflict");
    s.create_job(&j, &audit("Import", j.id)).await.unwrap();
    s.stage_rows(&[import_row(j.id, 1)]).await.unwrap();
    let done = ImportRowOutcome {
        job_id: j.id,
        row_number: 1,
        outcome: RowOutcome::Failed { error: "first runner".into() },
    };
    s.record_row_outcome(&done).await.unwrap();

    let g = guest("guest1@fabrikam.example");
    let mut w = invite(&g);
    w.import_row = Some(ImportRowOutcome {
        outcome: RowOutcome::Invited { invitation_id: w.invitation.id, user_id: g.id },
        ..done
    });
    let res = s.save_invitation(&w).await;
    assert!(matches!(res, Err(DirectoryError::Conflict(_))), "{res:?}");
    assert!(s.find_user(g.id).await.unwrap().is_none(), "guest rolled back");
    assert!(s.find_invitation(w.invitation.id).await.unwrap().is_none(), "invitation rolled back");
    assert_eq!(pending_mail(s).await, 0, "mail rolled back");
    assert!(audits_of(s, w.invitation.id).await.is_empty(), "audit rolled back");
    let row = s.rows(j.id, 0, 10, false).await.unwrap();
    assert_eq!(row[0].outcome, Some(RowOutcome::Failed { error: "first runner".into() }));
}

async fn inviting_a_taken_mail_is_a_conflict(s: &Storage) {
    s.save_invitation(&invite(&guest("twice@fabrikam.example"))).await.unwrap();
    let w = invite(&guest("twice@fabrikam.example"));
    let res = s.save_invitation(&w).await;
    assert!(matches!(res, Err(DirectoryError::Conflict(_))), "{res:?}");
    assert!(s.find_invitation(w.invitation.id).await.unwrap().is_none());
    assert_eq!(pending_mail(s).await, 1, "only the first invitation's mail");
}

/// Resetting redemption updates the guest, revokes the pending invitation it
/// replaces and cuts the guest off, with the new invitation.
async fn reset_supersedes_and_cuts_off(s: &Storage) {
    let mut g = guest("reset@fabrikam.example");
    let grant_id = seed_grant_for(s, &g).await;
    let first = invitation(&g);
    let w = InvitationWrite { user: UserWrite::Unchanged, invitation: first.clone(), ..invite(&g) };
    s.save_invitation(&w).await.unwrap();

    g.identities = vec![Identity::email_otp(&g.mail)];
    g.updated_at = t0() + Duration::hours(1);
    let mut second = invitation(&g);
    second.created_at = g.updated_at;
    let w = InvitationWrite {
        user: UserWrite::Update { user: g.clone(), cut_off: true },
        invitation: second.clone(),
        supersede: Some(first.id),
        ..invite(&g)
    };
    s.save_invitation(&w).await.unwrap();
    let old = s.find_invitation(first.id).await.unwrap().unwrap();
    assert_eq!((old.state, old.revoked_at), (InvitationState::Revoked, Some(micros(g.updated_at))));
    assert_eq!(s.find_invitation(second.id).await.unwrap().unwrap().state, InvitationState::Pending);
    assert_cut_off(s, &g.mail, g.id, grant_id).await;
}

async fn update_invitation_is_conditional(s: &Storage) {
    let w = invite(&guest("resend@fabrikam.example"));
    s.save_invitation(&w).await.unwrap();
    let mut resent = w.invitation.clone();
    resent.link_generation = 2;
    resent.expires_at = t0() + Duration::days(60);
    let m = mail(&resent.email, MailKind::Invitation);
    let a = [audit("Resend invitation", resent.id)];
    let pending = InvitationState::Pending;
    assert!(s.update_invitation(&resent, pending, 1, Some(&m), &a).await.unwrap());
    assert_eq!(s.find_invitation(resent.id).await.unwrap(), Some(resent.clone()));
    assert_eq!(pending_mail(s).await, 2);

    let stale = s.update_invitation(&resent, pending, 1, None, &a).await.unwrap();
    assert!(!stale, "generation 1 is gone");
    let mut revoked = resent.clone();
    (revoked.state, revoked.revoked_at) = (InvitationState::Revoked, Some(t0()));
    let revoke = [audit("Revoke invitation", resent.id)];
    assert!(s.update_invitation(&revoked, pending, 2, None, &revoke).await.unwrap());
    assert!(!s.update_invitation(&resent, pending, 2, None, &a).await.unwrap(), "not pending");
    let log = audits_of(s, resent.id).await;
    assert_eq!(log, vec!["Revoke invitation", "Resend invitation", "Invite external user"]);
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
    assert!(!s.accept_invitation(&inv, &accepted, &a).await.unwrap(), "stale generation");
    assert_eq!(s.find_user(g.id).await.unwrap(), Some(g.clone()), "guest untouched");

    inv.link_generation = 1;
    (inv.accepted_at, inv.updated_at) = (Some(accepted.updated_at), accepted.updated_at);
    assert!(s.accept_invitation(&inv, &accepted, &a).await.unwrap());
    let stored = s.find_invitation(inv.id).await.unwrap().unwrap();
    assert_eq!((stored.state, stored.accepted_at), (InvitationState::Accepted, inv.accepted_at));
    assert_eq!(s.find_user(g.id).await.unwrap(), Some(accepted.clone()));
    assert!(!s.accept_invitation(&inv, &accepted, &a).await.unwrap(), "already accepted");
    assert!(s.find_account(g.id).await.unwrap().unwrap().enabled);
}

async fn list_invitations_filters_and_pages(s: &Storage) {
    let mut ids = vec![];
    for i in 0..5 {
        let w = invite(&guest(&format!("l{i}@fabrikam.example")));
        s.save_invitation(&w).await.unwrap();
        ids.push(w.invitation.id);
    }
    ids.reverse(); // newest first
    let mut q = InvitationQuery { limit: 2, ..Default::default() };
    let mut seen = vec![];
    loop {
        let page = s.list_invitations(&q).await.unwrap();
        seen.extend(page.iter().map(|i| i.id));
        match page.last() {
            Some(last) if page.len() == 2 => q.before = Some(last.id),
            _ => break,
        }
    }
    assert_eq!(seen, ids);

    let status = |st, now| InvitationQuery { status: Some(st), now: Some(now), ..Default::default() };
    let later = t0() + Duration::days(31);
    let n = |q| async move { s.list_invitations(&q).await.unwrap().len() };
    assert_eq!(n(status(InvitationStatus::PendingAcceptance, t0())).await, 5);
    assert_eq!(n(status(InvitationStatus::Expired, t0())).await, 0);
    assert_eq!(n(status(InvitationStatus::Expired, later)).await, 5);
    assert_eq!(n(status(InvitationStatus::Accepted, t0())).await, 0);
    let by_mail = InvitationQuery { email: Some("l2@fabrikam.example".into()), ..Default::default() };
    assert_eq!(s.list_invitations(&by_mail).await.unwrap()[0].id, ids[2]);
}

async fn blocking_revokes_the_pending_invitation(s: &Storage) {
    let w = invite(&guest("nope@fabrikam.example"));
    s.save_invitation(&w).await.unwrap();
    assert!(!s.is_blocked("nope@fabrikam.example").await.unwrap());
    let a = [audit("Block recipient", w.invitation.id)];
    let at = t0() + Duration::minutes(1);
    s.block_recipient("nope@fabrikam.example", Some(&w.invitation), &a, at).await.unwrap();
    s.block_recipient("nope@fabrikam.example", Some(&w.invitation), &a, at).await.unwrap();
    assert!(s.is_blocked("nope@fabrikam.example").await.unwrap());
    let inv = s.find_invitation(w.invitation.id).await.unwrap().unwrap();
    assert_eq!((inv.state, inv.revoked_at), (InvitationState::Revoked, Some(micros(at))));
    assert_eq!(audits_of(s, w.invitation.id).await.len(), 3, "invite + two blocks");
}

both_backends!(
    invitation_writes_guest_invitation_mail_and_audit,
    import_row_conflict_rolls_back_everything,
    inviting_a_taken_mail_is_a_conflict,
    reset_supersedes_and_cuts_off,
    update_invitation_is_conditional,
    accept_invitation_is_conditional,
    list_invitations_filters_and_pages,
    blocking_revokes_the_pending_invitation,
);
