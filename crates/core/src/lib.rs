//! `portico-core`: the vocabulary every other crate shares.
//!
//! It owns identifiers, the [`Clock`], secret types and the keyed hashing of
//! secrets Portico generates itself. It must not do any IO: no database, no
//! network, no files, no environment variables.

pub mod clock;
pub mod mail;
pub mod secret;

pub use clock::{Clock, ManualClock, SystemClock};
pub use mail::{MailKind, OutgoingMail};
pub use secret::{Secret, SecretHasher, random_token};
