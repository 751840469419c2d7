//! `portico-policy`: pure decisions about a sign-in. Given the facts of an
//! authorization request and the browser's session, it says which interaction
//! steps are still needed, in order. No IO, no clock: `now` is passed in.
//!
//! Guests, MFA and conditional access add steps and facts here; the
//! authorization server and the UI only walk what this crate returns.

mod steps;

pub use steps::{SessionFacts, SignInFacts, Step, required_steps};
