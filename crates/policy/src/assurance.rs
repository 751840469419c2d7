//! What the tokens may claim about an authentication: `amr` (RFC 8176) and
//! `acr` (REFEDS assurance profiles). A level not performed is never claimed.

use crate::facts::{DoneStep, Method, UpstreamFacts};
use chrono::{DateTime, Utc};

/// REFEDS MFA profile: two factors were performed.
pub const ACR_MFA: &str = "https://refeds.org/profile/mfa";
/// REFEDS SFA profile: one factor.
pub const ACR_SFA: &str = "https://refeds.org/profile/sfa";
/// Portico's `amr` value for "a trusted home IdP authenticated the user".
pub const AMR_FEDERATED: &str = "fed";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assurance {
    pub amr: Vec<String>,
    pub acr: &'static str,
    pub mfa: bool,
}

/// The `amr` and `acr` of an authentication made of `steps`, with the home
/// IdP's assertion `upstream` when the first factor was a federated sign-in.
pub fn assurance(
    steps: &[DoneStep],
    upstream: Option<&UpstreamFacts>,
    now: DateTime<Utc>,
) -> Assurance {
    let mut amr: Vec<String> = Vec::new();
    let mut push = |v: &str| {
        if !amr.iter().any(|a| a == v) {
            amr.push(v.to_string());
        }
    };
    let mut factors = 0;
    let mut first = false;
    for (i, s) in steps.iter().enumerate() {
        push(s.method.amr());
        if i == 0 && s.method == Method::Passkey {
            // A passkey alone (`passkeyOnlySignIn`): WebAuthn with user
            // verification is the device (have) unlocked by a PIN or
            // biometric (know or are), two factors in one gesture.
            factors += 2;
            first = true;
            continue;
        }
        if s.method.is_first_factor() {
            if !first {
                factors += 1;
                first = true;
            }
        } else {
            factors += 1;
        }
        if s.method == Method::Upstream
            && let Some(up) = upstream
            && up.mfa_status(now).is_ok()
        {
            // Trusted: what the home IdP asserted is true of this sign-in too.
            for a in &up.amr {
                push(a);
            }
            factors += 1;
        }
    }
    let mfa = factors >= 2;
    if mfa {
        push("mfa");
    }
    Assurance {
        amr,
        acr: if mfa { ACR_MFA } else { ACR_SFA },
        mfa,
    }
}
