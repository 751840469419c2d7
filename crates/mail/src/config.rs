//! What the mail crate needs to know, handed over by `server` (which reads the
//! settings file and `PORTICO_*` env; this crate reads neither).

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use lettre::message::Mailbox;

use crate::error::MailError;

/// The longest wait between two attempts: past an hour a relay that is still
/// down needs a person, not a faster retry.
const MAX_RETRY_DELAY: Duration = Duration::from_secs(60 * 60);

/// Delivery settings. With no `smtp_url` every message goes to `outbox_dir`
/// as an `.eml` file instead, which is what development and the CLI use.
#[derive(Clone)]
pub struct MailConfig {
    /// `smtp://host:port` (plain), `smtp://host:587?tls=required` (STARTTLS)
    /// or `smtps://user:pass@host:465` (implicit TLS), as lettre parses them.
    /// It may carry a password, so it never reaches a log (see `Debug`).
    pub smtp_url: Option<String>,
    /// The `From` header, e.g. `Contoso <no-reply@contoso.example>`; its
    /// domain also names the `Message-ID`s.
    pub from: String,
    pub outbox_dir: PathBuf,
    /// Attempts before a message is marked failed, the first one included.
    pub max_attempts: u32,
    /// Wait after the first failed attempt; it doubles with every further
    /// failure, up to an hour.
    pub retry_base: Duration,
    /// Most SMTP relays throttle or block senders that burst, and an
    /// invitation import can queue thousands of messages at once.
    pub max_per_second: u32,
}

impl Default for MailConfig {
    fn default() -> Self {
        Self {
            smtp_url: None,
            from: "Portico <no-reply@localhost>".into(),
            outbox_dir: PathBuf::from("outbox"),
            max_attempts: 8,
            retry_base: Duration::from_secs(30),
            max_per_second: 20,
        }
    }
}

impl MailConfig {
    /// Checks the settings once at startup, so a typo fails the boot with a
    /// clear message instead of failing every message later.
    pub fn validate(&self) -> Result<Mailbox, MailError> {
        let invalid = |what: String| Err(MailError::InvalidConfig(what));
        if self.max_attempts == 0 {
            return invalid("mail max_attempts must be at least 1".into());
        }
        if self.retry_base.is_zero() {
            return invalid("mail retry_base must be longer than zero".into());
        }
        if self.max_per_second == 0 {
            return invalid("mail max_per_second must be at least 1".into());
        }
        match self.from.parse::<Mailbox>() {
            Ok(from) => Ok(from),
            Err(e) => invalid(format!("mail from {:?} is not an address: {e}", self.from)),
        }
    }

    /// How long to wait after the `attempts`-th failed attempt:
    /// `retry_base * 2^(attempts - 1)`, capped at an hour.
    pub fn retry_delay(&self, attempts: u32) -> Duration {
        let doublings = attempts.saturating_sub(1).min(31);
        self.retry_base
            .checked_mul(1u32 << doublings)
            .map_or(MAX_RETRY_DELAY, |d| d.min(MAX_RETRY_DELAY))
    }
}

impl fmt::Debug for MailConfig {
    /// Prints the SMTP URL without its password.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MailConfig")
            .field("smtp_url", &self.smtp_url.as_deref().map(redact_url))
            .field("from", &self.from)
            .field("outbox_dir", &self.outbox_dir)
            .field("max_attempts", &self.max_attempts)
            .field("retry_base", &self.retry_base)
            .field("max_per_second", &self.max_per_second)
            .finish()
    }
}

/// `smtps://user:secret@host:465` → `smtps://host:465`: the part of the URL
/// that is safe to log. Anything unparsable is hidden whole.
pub(crate) fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return "[redacted]".into();
    };
    let host = rest.rsplit_once('@').map_or(rest, |(_, host)| host);
    let host = host.split(['/', '?']).next().unwrap_or_default();
    format!("{scheme}://{host}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check_delay(attempts: u32, expected_secs: u64) {
        let config = MailConfig::default();
        assert_eq!(
            config.retry_delay(attempts),
            Duration::from_secs(expected_secs),
            "attempt {attempts}"
        );
    }

    #[test]
    fn retry_delay_doubles_from_the_base_and_stops_at_an_hour() {
        check_delay(1, 30);
        check_delay(2, 60);
        check_delay(3, 120);
        check_delay(7, 1920);
        check_delay(8, 3600);
        check_delay(40, 3600);
        check_delay(u32::MAX, 3600);
    }

    #[test]
    fn debug_output_never_shows_the_smtp_password() {
        let config = MailConfig {
            smtp_url: Some("smtps://mailer:hunter2@smtp.example:465?tls=required".into()),
            ..MailConfig::default()
        };
        let printed = format!("{config:?}");
        assert!(!printed.contains("hunter2"), "{printed}");
        assert!(printed.contains("smtps://smtp.example:465"), "{printed}");
    }

    #[test]
    fn validate_rejects_settings_that_would_stall_or_spin() {
        let ok = MailConfig::default();
        assert!(ok.validate().is_ok());
        for bad in [
            MailConfig {
                max_attempts: 0,
                ..ok.clone()
            },
            MailConfig {
                retry_base: Duration::ZERO,
                ..ok.clone()
            },
            MailConfig {
                max_per_second: 0,
                ..ok.clone()
            },
            MailConfig {
                from: "not an address".into(),
                ..ok.clone()
            },
        ] {
            assert!(bad.validate().is_err(), "{bad:?}");
        }
    }
}
