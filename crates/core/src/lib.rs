//! `portico-core`: the vocabulary every other crate shares.
//!
//! It owns identifiers, the [`Clock`], secret types, the keyed hashing of
//! secrets Portico generates itself and the sealing (AES-256-GCM) of secrets
//! it must read back. It must not do any IO: no database, no network, no
//! files, no environment variables.

pub mod audit;
pub mod clock;
pub mod mail;
pub mod master_key;
pub mod seal;
pub mod secret;
pub mod version;

pub use clock::{Clock, ManualClock, SystemClock};
pub use mail::{MailKind, OutgoingMail};
pub use master_key::{Keyring, MasterKey, MasterKeyError, OpenError};
pub use seal::{SealError, Sealer};
pub use secret::{Secret, SecretHasher, random_token};
pub use version::{entity_tag, if_match};
