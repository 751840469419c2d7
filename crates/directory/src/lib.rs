//! `portico-directory`: the people Portico knows. It owns users (Members and
//! Guests), invitations and their redemption (email one-time passcodes), bulk
//! CSV imports, the audit log of directory changes, passwords (argon2id),
//! users' second factors ([`mfa`]: authenticator apps and recovery codes), and
//! the repository traits storage implements ([`UserRepo`],
//! [`invitations::InvitationRepo`], [`import::ImportRepo`], [`audit::AuditRepo`],
//! [`mfa::MfaRepo`], [`signin_limits::RateLimitRepo`]). Password checks are
//! capped ([`PasswordSlots`]) and guesses limited per account and address
//! ([`signin_limits::SignInLimiter`]).
//!
//! It must not know about OAuth, HTTP, templates or how anything is stored:
//! emails arrive rendered through the [`MailComposer`] the UI implements.

pub mod audit;
pub mod collaboration;
pub mod filter;
pub mod groups;
pub mod import;
pub mod invitations;
pub mod join_requests;
pub mod mfa;
mod password;
mod service;
pub mod signin_limits;
mod users;

pub use audit::{Actor, ActorKind, AuditEntry};
pub use password::{MAX_PASSWORD_BYTES, PasswordSlots, hash_password, verify_password};
pub use service::{CATEGORY_USERS, Directory, UserPatch, last_admin};
pub use users::{
    DirectoryError, ExternalUserState, Identity, NewUser, ROLE_GLOBAL_ADMINISTRATOR,
    ROLE_GUEST_INVITER, User, UserChange, UserQuery, UserRepo, UserType,
};
