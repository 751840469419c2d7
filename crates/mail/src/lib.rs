//! `portico-mail`: delivers the email other crates queue.

pub mod queue;

pub use queue::{MailQueue, MailStatus, QueuedMail};
