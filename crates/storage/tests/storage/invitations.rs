//! `InvitationRepo`: the one-transaction invitation write (guest, superseded
//! invitation, new invitation, mail, import row outcome, audit) and listing.
//! Changes to existing invitations are in `invitation_changes.rs`.

use crate::common::*;
use chrono::Duration;
use portico_directory::import::{ImportRepo, RowOutcome};
use portico_directory::invitations::*;
use portico_directory::{DirectoryError, Identity, UserRepo};
use portico_storage::Storage;

async fn invitation_writes_guest_invitation_mail_and_audit(s: &Storage) {
    let g = guest("new@fabrikam.example");
    let w = invite(&g);
    s.save_invitation(&w).await.unwrap();
    assert_eq!(
        s.find_invitation(w.invitation.id).await.unwrap(),
        Some(w.invitation.clone())
    );
    assert_eq!(s.find_user(g.id).await.unwrap(), Some(g));
    assert_eq!(pending_mail(s).await, 1);
    assert_eq!(
        audits_of(s, w.invitation.id).await,
        vec!["Invite external user"]
    );
}

async fn import_row_conflict_rolls_back_everything(s: &Storage) {
    let j = job("sha-conflict");
    s.create_job(&j, &audit("Import", j.id)).await.unwrap();
    s.stage_rows(&[import_row(j.id, 1)]).await.unwrap();
    let done = ImportRowOutcome {
        job_id: j.id,
        row_number: 1,
        outcome: RowOutcome::Failed {
            error: "first runner".into(),
        },
    };
    s.record_row_outcome(&done).await.unwrap();

    let g = guest("guest1@fabrikam.example");
    let mut w = invite(&g);
    w.import_row = Some(ImportRowOutcome {
        outcome: RowOutcome::Invited {
            invitation_id: w.invitation.id,
            user_id: g.id,
        },
        ..done
    });
    let res = s.save_invitation(&w).await;
    assert!(matches!(res, Err(DirectoryError::Conflict(_))), "{res:?}");
    assert!(
        s.find_user(g.id).await.unwrap().is_none(),
        "guest rolled back"
    );
    assert!(
        s.find_invitation(w.invitation.id).await.unwrap().is_none(),
        "invitation rolled back"
    );
    assert_eq!(pending_mail(s).await, 0, "mail rolled back");
    assert!(
        audits_of(s, w.invitation.id).await.is_empty(),
        "audit rolled back"
    );
    let row = s.rows(j.id, 0, 10, false).await.unwrap();
    assert_eq!(
        row[0].outcome,
        Some(RowOutcome::Failed {
            error: "first runner".into()
        })
    );
}

async fn inviting_a_taken_mail_is_a_conflict(s: &Storage) {
    s.save_invitation(&invite(&guest("twice@fabrikam.example")))
        .await
        .unwrap();
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
    let w = InvitationWrite {
        user: UserWrite::Unchanged,
        invitation: first.clone(),
        ..invite(&g)
    };
    s.save_invitation(&w).await.unwrap();

    g.identities = vec![Identity::email_otp(&g.mail)];
    g.updated_at = t0() + Duration::hours(1);
    let mut second = invitation(&g);
    second.created_at = g.updated_at;
    let w = InvitationWrite {
        user: UserWrite::Update {
            user: g.clone(),
            cut_off: true,
        },
        invitation: second.clone(),
        supersede: Some(first.id),
        ..invite(&g)
    };
    s.save_invitation(&w).await.unwrap();
    let old = s.find_invitation(first.id).await.unwrap().unwrap();
    assert_eq!(
        (old.state, old.revoked_at),
        (InvitationState::Revoked, Some(micros(g.updated_at)))
    );
    assert_eq!(
        s.find_invitation(second.id).await.unwrap().unwrap().state,
        InvitationState::Pending
    );
    assert_cut_off(s, &g.mail, g.id, grant_id).await;

    // A second reset that read the same (now revoked) invitation loses:
    // nothing of it is written, so there is never a second pending invitation.
    let mut third = invitation(&g);
    third.created_at = g.updated_at + Duration::minutes(1);
    let racing = InvitationWrite {
        user: UserWrite::Unchanged,
        invitation: third.clone(),
        supersede: Some(first.id),
        ..invite(&g)
    };
    assert!(matches!(
        s.save_invitation(&racing).await,
        Err(portico_directory::DirectoryError::Conflict(_))
    ));
    assert_eq!(s.find_invitation(third.id).await.unwrap(), None);
}

async fn list_invitations_filters_and_pages(s: &Storage) {
    let mut ids = vec![];
    for i in 0..5 {
        let w = invite(&guest(&format!("l{i}@fabrikam.example")));
        s.save_invitation(&w).await.unwrap();
        ids.push(w.invitation.id);
    }
    ids.reverse(); // newest first
    let mut q = InvitationQuery {
        limit: 2,
        ..Default::default()
    };
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

    let status = |st, now| InvitationQuery {
        status: Some(st),
        now: Some(now),
        ..Default::default()
    };
    let later = t0() + Duration::days(31);
    let n = |q| async move { s.list_invitations(&q).await.unwrap().len() };
    assert_eq!(
        n(status(InvitationStatus::PendingAcceptance, t0())).await,
        5
    );
    assert_eq!(n(status(InvitationStatus::Expired, t0())).await, 0);
    assert_eq!(n(status(InvitationStatus::Expired, later)).await, 5);
    assert_eq!(n(status(InvitationStatus::Accepted, t0())).await, 0);
    let by_mail = InvitationQuery {
        email: Some("l2@fabrikam.example".into()),
        ..Default::default()
    };
    assert_eq!(s.list_invitations(&by_mail).await.unwrap()[0].id, ids[2]);
}

/// The group an invitation grants is joined in its transaction: a gone
/// group undoes everything; an existing membership is kept without a second
/// audit entry.
async fn the_granted_group_is_joined_with_the_invitation(s: &Storage) {
    use portico_directory::groups::{Group, GroupRepo, Relation};
    let g = Group {
        id: uuid::Uuid::now_v7(),
        display_name: "Trials users".into(),
        description: None,
        security_enabled: true,
        created_at: t0(),
        updated_at: t0(),
    };
    let joined = |w: &InvitationWrite| audit("Add member to group", w.invitation.user_id);

    // A group that does not exist: nothing of the invitation is written.
    let lost = guest("lost@fabrikam.example");
    let mut w = invite(&lost);
    w.join_group = Some((g.id, joined(&w)));
    let res = s.save_invitation(&w).await;
    assert!(matches!(res, Err(DirectoryError::Invalid(_))), "{res:?}");
    assert!(s.find_user(lost.id).await.unwrap().is_none());
    assert!(s.find_invitation(w.invitation.id).await.unwrap().is_none());
    assert_eq!(pending_mail(s).await, 0);

    s.create_group(&g, &audit("Add group", g.id)).await.unwrap();
    let bob = guest("bob@fabrikam.example");
    let mut w = invite(&bob);
    w.join_group = Some((g.id, joined(&w)));
    s.save_invitation(&w).await.unwrap();
    let members: Vec<uuid::Uuid> = s
        .group_users(g.id, Relation::Member)
        .await
        .unwrap()
        .iter()
        .map(|u| u.id)
        .collect();
    assert_eq!(members, vec![bob.id]);
    assert_eq!(audits_of(s, bob.id).await, vec!["Add member to group"]);

    // Invited again (a new invitation for the same guest): still one
    // membership, and no second "Add member" entry.
    let mut again = invite(&bob);
    again.user = UserWrite::Unchanged;
    again.join_group = Some((g.id, joined(&again)));
    s.save_invitation(&again).await.unwrap();
    assert_eq!(
        s.group_users(g.id, Relation::Member).await.unwrap().len(),
        1
    );
    assert_eq!(audits_of(s, bob.id).await, vec!["Add member to group"]);
}

both_backends!(
    the_granted_group_is_joined_with_the_invitation,
    invitation_writes_guest_invitation_mail_and_audit,
    import_row_conflict_rolls_back_everything,
    inviting_a_taken_mail_is_a_conflict,
    reset_supersedes_and_cuts_off,
    list_invitations_filters_and_pages,
);
