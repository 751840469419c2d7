//! Where messages go: an SMTP relay in production, `.eml` files in the
//! outbox directory when no relay is configured (development, tests, demos).

use std::path::PathBuf;
use std::time::Duration;

use lettre::message::Mailbox;
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use portico_core::OutgoingMail;

use crate::config::{MailConfig, redact_url};
use crate::error::{MailError, SendError};
use crate::message::build_message;
use crate::outbox::write_eml;

/// Bounds each connect and each SMTP command: a relay that hangs must turn
/// into a retry, not hold the worker (and its claim on the batch) forever.
const SMTP_TIMEOUT: Duration = Duration::from_secs(10);

/// `Debug` is safe to log: lettre prints its credentials as `Credentials`.
#[derive(Debug)]
pub enum Transport {
    /// A pooled connection to the relay; cheap to clone, safe to share.
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    /// The directory the `.eml` files are written to.
    Outbox(PathBuf),
}

impl Transport {
    /// SMTP when `smtp_url` is set, the outbox otherwise. Logs which one,
    /// without the URL's credentials.
    pub fn from_config(config: &MailConfig) -> Result<Self, MailError> {
        config.validate()?;
        let transport = match &config.smtp_url {
            Some(url) => {
                let relay = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
                    .map_err(|e| {
                        MailError::InvalidConfig(format!("smtp url {}: {e}", redact_url(url)))
                    })?
                    .timeout(Some(SMTP_TIMEOUT))
                    .build();
                tracing::info!(relay = %redact_url(url), "mail goes to the SMTP relay");
                Transport::Smtp(relay)
            }
            None => {
                let dir = config.outbox_dir.clone();
                tracing::info!(outbox = %dir.display(), "no SMTP relay: mail goes to .eml files");
                Transport::Outbox(dir)
            }
        };
        Ok(transport)
    }

    /// Whether sends count against `max_per_second`: the limit protects the
    /// relay's reputation, and a local directory has none.
    pub fn is_rate_limited(&self) -> bool {
        matches!(self, Transport::Smtp(_))
    }

    /// Builds and delivers one message. The error says whether a retry can help.
    pub async fn send(&self, mail: &OutgoingMail, from: &Mailbox) -> Result<(), SendError> {
        let message = build_message(mail, from)?;
        match self {
            Transport::Smtp(relay) => {
                relay.send(message).await?;
                tracing::info!(mail_id = %mail.id, kind = mail.kind.as_str(), "mail sent");
            }
            Transport::Outbox(dir) => {
                let path = write_eml(dir, mail, &message.formatted()).await?;
                tracing::info!(
                    mail_id = %mail.id,
                    to = %mail.to,
                    subject = ?mail.subject, // escaped: it may hold user input
                    path = %path.display(),
                    "mail written to the outbox"
                );
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_url(url: &str) -> MailConfig {
        MailConfig {
            smtp_url: Some(url.into()),
            ..MailConfig::default()
        }
    }

    #[tokio::test]
    async fn each_documented_url_form_builds_a_relay_without_connecting() {
        for url in [
            "smtp://127.0.0.1:2525",
            "smtp://relay.example:587?tls=required",
            "smtp://relay.example:587?tls=opportunistic",
            "smtps://mailer:p%40ss@relay.example:465",
        ] {
            let transport = Transport::from_config(&with_url(url)).unwrap();
            assert!(transport.is_rate_limited(), "{url}");
            assert!(!format!("{transport:?}").contains("p%40ss"), "{url}");
        }
    }

    #[test]
    fn unusable_url_is_a_settings_error_that_hides_the_password() {
        let err =
            Transport::from_config(&with_url("ftp://mailer:hunter2@relay.example")).unwrap_err();
        let text = err.to_string();
        assert!(text.contains("invalid mail settings"), "{text}");
        assert!(!text.contains("hunter2"), "{text}");
    }

    #[test]
    fn without_a_url_mail_goes_to_the_outbox() {
        let transport = Transport::from_config(&MailConfig::default()).unwrap();
        assert!(matches!(transport, Transport::Outbox(_)));
        assert!(!transport.is_rate_limited());
    }
}
