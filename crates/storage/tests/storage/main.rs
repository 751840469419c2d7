//! The storage crate's integration tests, one binary (STYLE.md §10): every
//! repository against SQLite and PostgreSQL (`both_backends!`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[macro_use]
mod common;

mod audit;
mod caches;
mod codes;
mod concurrency;
mod connect;
mod directory;
mod federation;
mod guests;
mod imports;
mod interactions;
mod invitation_changes;
mod invitations;
mod join_requests;
mod mfa;
mod oidc_store;
mod outbox;
