//! Portico's integration tests: one binary, real servers on port 0, SQLite and
//! PostgreSQL. Test names state the rule they prove.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod admin_api;
mod admin_idps;
mod authorize;
mod cleanup;
mod code_sending;
mod concurrency;
mod e2e;
mod e2e_passkey;
mod egress;
mod federation;
mod federation_attacks;
mod flow;
mod guest_lifecycle;
mod guest_signin;
mod hostile_harness;
mod https_issuer;
mod interop;
mod invariants;
mod invitations;
mod keys;
mod least_privilege;
mod limits;
mod mfa;
mod operations;
mod packaging;
mod params;
mod passkeys;
mod portal;
mod portal_idps;
mod portal_import;
mod protocol_gaps;
mod redeem;
mod redeem_steps;
mod secret_logs;
mod sign_ins;
mod signin_limits;
mod signin_pipeline;
mod support;
mod token;
mod upstream_harness;
mod upstream_mfa;
