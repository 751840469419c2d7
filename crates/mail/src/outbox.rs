//! The development "transport": each message becomes an `.eml` file that any
//! mail client opens, named so that `ls` lists them in the order they were
//! queued.

use std::path::{Path, PathBuf};

use portico_core::OutgoingMail;

use crate::error::SendError;

/// `<created_at>-<id>.eml`; the time has no `:` so the name works everywhere.
pub fn eml_file_name(mail: &OutgoingMail) -> String {
    format!(
        "{}-{}.eml",
        mail.created_at.format("%Y%m%dT%H%M%S%.3fZ"),
        mail.id
    )
}

/// Writes the message next to its final name and renames it into place, so a
/// reader (a person, a test, a watcher) never sees half a message. Writing
/// the same message twice (a retry after a lost `mark_sent`) replaces it.
pub async fn write_eml(dir: &Path, mail: &OutgoingMail, raw: &[u8]) -> Result<PathBuf, SendError> {
    let io_error = |what: &str, path: &Path, e: std::io::Error| {
        SendError::Transient(format!("cannot {what} {}: {e}", path.display()))
    };
    tokio::fs::create_dir_all(dir)
        .await
        .map_err(|e| io_error("create", dir, e))?;
    let name = eml_file_name(mail);
    let path = dir.join(&name);
    // A leading dot and another suffix keep the half-written file out of
    // `*.eml` globs.
    let tmp = dir.join(format!(".{name}.tmp"));
    tokio::fs::write(&tmp, raw)
        .await
        .map_err(|e| io_error("write", &tmp, e))?;
    if let Err(e) = tokio::fs::rename(&tmp, &path).await {
        let _ = tokio::fs::remove_file(&tmp).await;
        return Err(io_error("rename into", &path, e));
    }
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};
    use portico_core::MailKind;
    use uuid::Uuid;

    #[test]
    fn file_name_sorts_by_queue_time_and_names_the_message() {
        let mail = OutgoingMail {
            id: Uuid::nil(),
            kind: MailKind::OneTimeCode,
            to: "a@b.example".into(),
            cc: vec![],
            subject: "s".into(),
            text: "t".into(),
            html: "h".into(),
            created_at: Utc.with_ymd_and_hms(2026, 3, 1, 9, 30, 5).unwrap(),
        };
        assert_eq!(
            eml_file_name(&mail),
            format!("20260301T093005.000Z-{}.eml", Uuid::nil())
        );
    }
}
