//! Portico's integration tests: one binary, real servers on port 0, SQLite and
//! PostgreSQL. Test names state the rule they prove.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod admin_api;
mod admin_idps;
mod authorize;
mod backchannel_logout;
mod cleanup;
mod code_sending;
mod collaboration;
mod concurrency;
mod demo;
mod e2e;
mod e2e_passkey;
mod faults;
mod federation;
mod federation_attacks;
mod flow;
mod guest_lifecycle;
mod guest_signin;
mod hostile_harness;
mod interop;
mod invariants;
mod invitations;
mod keys;
mod least_privilege;
mod limits;
mod mfa;
mod nodes;
mod operations;
mod params;
mod passkeys;
mod portal;
mod portal_idps;
mod portal_import;
mod protocol_gaps;
mod redeem;
mod redeem_steps;
mod secrets_at_rest;
mod sign_ins;
mod signin_limits;
mod signin_pipeline;
mod support;
mod token;
mod upstream_harness;
mod upstream_mfa;
