//! `portico-mail`: delivers the email other crates queue.
//!
//! Feature crates put an [`OutgoingMail`](portico_core::OutgoingMail) in the
//! `mail_outbox` table in the same transaction as the change that caused it
//! (an invitation, a one-time code), so a message is never lost to a crash
//! and never sent for a change that rolled back. The [`MailWorker`] here takes
//! it from there through the [`MailQueue`] trait (implemented by storage) and
//! hands it to a [`Transport`]: an SMTP relay, or `.eml` files in development.
//!
//! This crate must not read env or files for settings (`server` does and
//! hands over a [`MailConfig`]), must not read the system time (it is given a
//! `Clock`), and must not render templates (the UI does; mail arrives here as
//! finished text and HTML).

mod config;
mod error;
mod message;
mod outbox;
mod pace;
pub mod queue;
mod transport;
mod worker;

pub use config::MailConfig;
pub use error::{MailError, SendError};
pub use message::build_message;
pub use outbox::eml_file_name;
pub use queue::{MailQueue, MailStatus, QueuedMail};
pub use transport::Transport;
pub use worker::{DeliveryReport, MailWorker};
