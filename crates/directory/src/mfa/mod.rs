//! Users' second factors: an authenticator app (TOTP, RFC 6238), passkeys
//! (WebAuthn through webauthn-rs) and single-use recovery codes, with a
//! lockout after repeated wrong codes.
//!
//! Rules this module keeps:
//! * TOTP secrets are sealed at rest ([`portico_core::Sealer`], bound to the
//!   user); recovery codes are stored as keyed hashes only.
//! * A TOTP time step is accepted at most once per user, decided by one
//!   conditional UPDATE in storage (RFC 6238 §5.2), so two nodes on one
//!   database cannot both accept the same code.
//! * A recovery code is consumed by one conditional UPDATE; its use is audited
//!   and the user is told by email, queued in the same transaction.
//! * Confirming an enrolment, replacing recovery codes and removing methods
//!   are written with their audit entry in one transaction.
//! * Five wrong codes for a user, or from one IP address, within 15 minutes
//!   lock further checks until the oldest counted failure is 15 minutes old.
//!
//! * A passkey ceremony's state is stored between the options and the answer
//!   (any node may receive the answer), bound to the interaction or account
//!   session that asked, single use, and expires after five minutes. A
//!   credential id is registered to one user only.
//! * Passkeys need a domain name as the relying party id (the issuer's host):
//!   at an IP address they are unavailable, and nothing offers them.
//!
//! No pages and no policy here: the UI shows enrolment and verification, and
//! `policy` decides when a second factor is required.

mod ceremony;
mod model;
mod passkey;
mod recovery;
mod service;
mod totp;

pub use model::*;
pub use passkey::{PASSKEY_CEREMONY_MINUTES, PasskeyOptions};
pub use recovery::{RECOVERY_CODE_COUNT, normalize_recovery_code};
pub use service::Mfa;
pub use totp::totp_code_at;
