//! `portico-policy`: pure decisions about a sign-in. Given the [`Facts`] of an
//! authorization request (who is signed in and how, the app, the request's
//! parameters, the tenant's settings, what a home IdP asserted), [`decide`]
//! says what happens next: the next interaction step, completion, or a denial
//! with a stable reason code, and always the reasons why. [`assurance`] says
//! which `amr` and `acr` the tokens may truthfully claim.
//!
//! No IO, no clock: `now` is a fact. The authorization server gathers the
//! facts and records the decision; the UI only walks the step it names.
//! Conditional access adds facts and MFA requirements here.

mod assurance;
pub mod conditional_access;
mod decide;
mod facts;
mod reason;

pub use assurance::{ACR_MFA, ACR_SFA, AMR_FEDERATED, Assurance, assurance};
pub use decide::{Decision, Denial, Outcome, Step, decide};
pub use facts::{
    AppFacts, Authn, DoneStep, Facts, Method, MfaScope, MfaTrust, RequestFacts, TenantSettings,
    UpstreamFacts, UserFacts, UserType,
};
pub use reason::Reason;

#[cfg(test)]
mod tests;
