//! The `portico` binary's command line, run as a process: `serve` (signals,
//! logs, crash safety), `idp` and `invite`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod idp;
mod invite;
mod serve;
