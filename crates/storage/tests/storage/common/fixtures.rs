//! Directory fixtures: guests, invitations, codes, mail, import jobs, audit entries.

use super::{t0, user};
use chrono::Duration;
use portico_core::{MailKind, OutgoingMail};
use portico_directory::import::{ImportJob, ImportRow, JobStatus};
use portico_directory::invitations::{
    Invitation, InvitationState, InvitationWrite, OneTimeCode, UserWrite,
};
use portico_directory::{
    Actor, ActorKind, AuditEntry, ExternalUserState, Identity, User, UserType,
};
use uuid::Uuid;

pub fn admin() -> Actor {
    Actor {
        kind: ActorKind::User,
        id: "admin-1".into(),
        display_name: "Ada Admin".into(),
    }
}

/// An audit entry about `target`, by [`admin`], at `t0`.
/// An audit entry for the stores outside the directory (applications,
/// trusted IdPs, signing keys), which write it with their change.
pub fn trust_audit() -> AuditEntry {
    audit("Trust change", "target")
}

pub fn audit(activity: &str, target: impl ToString) -> AuditEntry {
    AuditEntry::new(
        t0(),
        &admin(),
        activity,
        "UserManagement",
        "User",
        target,
        "Target",
    )
}

/// A guest pending acceptance, with its email one-time passcode identity.
pub fn guest(mail: &str) -> User {
    let mut u = user(mail);
    u.user_type = UserType::Guest;
    u.password_hash = None;
    u.external_user_state = Some(ExternalUserState::PendingAcceptance);
    u.external_user_state_changed_at = Some(t0());
    u.identities = vec![Identity::email_otp(mail)];
    u.sponsor = Some(admin());
    u
}

pub fn invitation(u: &User) -> Invitation {
    Invitation {
        id: Uuid::now_v7(),
        user_id: u.id,
        email: u.mail.clone(),
        display_name: Some(u.display_name.clone()),
        redirect_url: "https://app.example/welcome".into(),
        message: Some("Welcome aboard".into()),
        message_language: Some("en-US".into()),
        cc_recipients: vec!["boss@contoso.example".into()],
        send_message: true,
        user_type: UserType::Guest,
        state: InvitationState::Pending,
        link_generation: 1,
        expires_at: t0() + Duration::days(30),
        invited_by: admin(),
        created_at: t0(),
        updated_at: t0(),
        accepted_at: None,
        revoked_at: None,
        granted_group_id: None,
    }
}

pub fn mail(to: &str, kind: MailKind) -> OutgoingMail {
    OutgoingMail {
        id: Uuid::now_v7(),
        kind,
        to: to.into(),
        cc: vec!["cc@contoso.example".into()],
        subject: "You are invited".into(),
        text: "plain".into(),
        html: "<p>html</p>".into(),
        created_at: t0(),
    }
}

/// Everything inviting a new guest writes: the guest, the invitation, its
/// mail and an audit entry.
pub fn invite(g: &User) -> InvitationWrite {
    let inv = invitation(g);
    InvitationWrite {
        user: UserWrite::Create(g.clone()),
        audit: vec![audit("Invite external user", inv.id)],
        invitation: inv,
        supersede: None,
        mail: Some(mail(&g.mail, MailKind::Invitation)),
        import_row: None,
        join_group: None,
    }
}

pub fn otp(code_hash: &str) -> OneTimeCode {
    OneTimeCode {
        id: Uuid::now_v7(),
        purpose: "redeem".into(),
        subject: Uuid::now_v7().to_string(),
        email: "guest@fabrikam.example".into(),
        code_hash: code_hash.into(),
        binding_hash: "binding".into(),
        attempts: 0,
        created_at: t0(),
        expires_at: t0() + Duration::minutes(10),
        consumed_at: None,
    }
}

pub fn job(sha: &str) -> ImportJob {
    ImportJob {
        id: Uuid::now_v7(),
        file_name: "guests.csv".into(),
        file_sha256: sha.into(),
        status: JobStatus::Staging,
        created_by: admin(),
        created_at: t0(),
        updated_at: t0(),
        finished_at: None,
        lease_until: None,
    }
}

/// A valid row `n` of `job`, inviting `guest<n>@fabrikam.example`.
pub fn import_row(job: Uuid, n: i64) -> ImportRow {
    ImportRow {
        job_id: job,
        row_number: n,
        email: format!("guest{n}@fabrikam.example"),
        redirect_url: "https://app.example/".into(),
        send_email: true,
        message: None,
        display_name: Some(format!("Guest {n}")),
        error: None,
        outcome: None,
    }
}
