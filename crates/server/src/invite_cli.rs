//! `portico invite`: one guest, or a CSV file (`--csv FILE [--dry-run]`).
//!
//! A CSV run is an import job like the portal's: running the same file again
//! resumes its unfinished job (after a crash or `kill -9`), and re-running a
//! finished file invites nobody twice. Mail queued by the run is delivered
//! before the command returns (what cannot be sent now stays queued for the
//! server's worker).

use crate::app::App;
use anyhow::Context;
use portico_directory::Actor;
use portico_directory::import::{InviteCsv, JobStatus};
use portico_directory::invitations::{GraphInvitation, MessageInfo};
use portico_mail::{MailQueue, MailStatus};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::io::Read;
use std::path::Path;

pub struct InviteOne {
    pub email: String,
    pub name: Option<String>,
    pub message: Option<String>,
    pub redirect_url: Option<String>,
    pub send_email: bool,
}

fn cli_actor(app: &App) -> Actor {
    Actor::system(&app.settings.organization_name)
}

pub async fn invite_one(app: &App, i: InviteOne) -> anyhow::Result<Value> {
    let body = GraphInvitation {
        invited_user_email_address: Some(i.email),
        invite_redirect_url: Some(
            i.redirect_url
                .unwrap_or_else(|| app.settings.issuer.clone()),
        ),
        invited_user_display_name: i.name,
        send_invitation_message: Some(i.send_email),
        invited_user_message_info: Some(MessageInfo {
            customized_message_body: i.message,
            ..Default::default()
        }),
        ..Default::default()
    };
    let req = body.validate().map_err(|e| anyhow::anyhow!("{e}"))?;
    let out = app
        .invitations
        .invite(&req, &cli_actor(app), None)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    // Deliver only when this call queued mail (the queue may hold other
    // messages too; they go out with it).
    let sent = if out.created && req.send_message {
        app.workers.mail.drain().await?.sent
    } else {
        0
    };
    Ok(json!({
        "id": out.invitation.id,
        "invitedUser": {"id": out.user.id},
        "inviteRedeemUrl": out.redeem_url,
        "status": out.invitation.status(app.invitations.now()).as_str(),
        "created": out.created,
        "mailSent": sent,
    }))
}

fn sha256_file(path: &Path) -> anyhow::Result<String> {
    let mut f =
        std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(h.finalize().iter().map(|b| format!("{b:02x}")).collect())
}

/// Reads the file and reports every row's problems; writes nothing.
pub fn dry_run(path: &Path) -> anyhow::Result<Value> {
    let f = std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let csv = InviteCsv::open(std::io::BufReader::new(f))?;
    let (mut rows, mut valid) = (0u64, 0u64);
    let mut errors = Vec::new();
    for row in csv {
        let row = row?;
        rows += 1;
        if row.errors.is_empty() {
            valid += 1;
        } else {
            errors.push(json!({
                "row": row.row_number, "line": row.line, "email": row.email, "errors": row.errors,
            }));
        }
    }
    Ok(
        json!({"dryRun": true, "rows": rows, "valid": valid, "invalid": rows - valid, "errors": errors}),
    )
}

pub async fn invite_csv(app: &App, path: &Path) -> anyhow::Result<Value> {
    let sha = sha256_file(path)?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let f = std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let job = app
        .importer
        .stage(std::io::BufReader::new(f), &name, &sha, &cli_actor(app))
        .await?;
    if job.status != JobStatus::Completed {
        app.importer
            .start(job.id)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
    }
    // Mail leaves while the import runs: a delivery loop for this command
    // (each invitation wakes it), stopped before the final `drain`.
    let mail = app.workers.mail.clone();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let delivering = mail.clone().spawn(async move {
        let _ = stopped.await;
    });
    let mut waited = false;
    let job = loop {
        let job = app
            .importer
            .run(job.id, |c| {
                eprintln!(
                    "progress: {} of {} rows done",
                    c.total - c.pending - c.invalid,
                    c.total - c.invalid
                );
            })
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        if job.status == JobStatus::Completed {
            break job;
        }
        // Another runner holds the job: a server node, or a run that was
        // killed and whose lease has not run out yet. Wait for either.
        if !waited {
            eprintln!("another runner holds this import; waiting for it to finish or time out");
            waited = true;
        }
        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    };
    let counts = app
        .importer
        .repo()
        .count_rows(job.id)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    // The loop finishes its round (nothing is left half-recorded), then the
    // rest of what is due goes out here.
    let _ = stop.send(());
    let _ = delivering.await;
    app.workers.mail.drain().await?;
    let unsent = app.storage.count_mail(MailStatus::Pending).await?;
    Ok(json!({
        "jobId": job.id,
        "status": job.status.as_str(),
        "rows": counts.total,
        "invalid": counts.invalid,
        "invited": counts.invited,
        "alreadyInvited": counts.existing,
        "failed": counts.failed,
        "pending": counts.pending,
        "mailPending": unsent,
    }))
}
