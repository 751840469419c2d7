//! The mail crate's errors. Setup errors stop the boot; send errors only
//! decide what happens to one message, so they carry the text that is stored
//! with it (`mail_outbox.last_error`) and are sorted into "try again" or not.

use thiserror::Error;

/// Building the mailer went wrong.
#[derive(Debug, Error)]
pub enum MailError {
    /// A setting is unusable; the text names it (never its secret).
    #[error("invalid mail settings: {0}")]
    InvalidConfig(String),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

/// Why one message was not delivered.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SendError {
    /// Retrying cannot help: a malformed address, or the relay said no for
    /// good (an SMTP 5xx reply). The message is marked failed at once.
    #[error("permanent: {0}")]
    Permanent(String),
    /// The relay is down, slow or busy (refused connection, timeout, 4xx), or
    /// the outbox disk is full. The message is tried again later.
    #[error("transient: {0}")]
    Transient(String),
}

impl SendError {
    pub fn is_permanent(&self) -> bool {
        matches!(self, SendError::Permanent(_))
    }
}

impl From<lettre::transport::smtp::Error> for SendError {
    fn from(e: lettre::transport::smtp::Error) -> Self {
        if e.is_permanent() {
            SendError::Permanent(e.to_string())
        } else {
            SendError::Transient(e.to_string())
        }
    }
}
