//! Users' second factors: an authenticator app (TOTP, RFC 6238) and
//! single-use recovery codes, with a lockout after repeated wrong codes.
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
//! No pages and no policy here: the UI shows enrolment and verification, and
//! `policy` decides when a second factor is required.

mod model;
mod recovery;
mod service;
mod totp;

pub use model::*;
pub use recovery::{RECOVERY_CODE_COUNT, normalize_recovery_code};
pub use service::Mfa;
pub use totp::totp_code_at;
