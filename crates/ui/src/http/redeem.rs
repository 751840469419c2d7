//! Invitation redemption, the recipient's block link, and the email code
//! returning guests sign in with. Redemption ends by handing off to a
//! sign-in interaction (`Provider::begin_after_redemption`, drawn in
//! `portico_oidc::interaction`): only that creates the session. The directory decides (links, codes,
//! acceptance); these pages only carry the guest from one step to the next.
//!
//! ```mermaid
//! stateDiagram-v2
//!     [*] --> Landing: GET /redeem?i&t (sets portico_redeem)
//!     Landing --> HomeIdP: POST /redeem/federation (the invited domain has a trusted IdP)
//!     HomeIdP --> Consent: GET /redeem/federated, invited address asserted verified
//!     HomeIdP --> Code: GET /redeem/federated, not asserted (code to the invited mailbox)
//!     Landing --> Code: POST /redeem/code (code emailed)
//!     Code --> Code: POST /redeem/verify, wrong code (attempts left)
//!     Code --> Spent: expired / out of attempts
//!     Spent --> Code: POST /redeem/code
//!     Code --> Consent: POST /redeem/verify, right code
//!     Consent --> Declined: POST /redeem/consent decision=decline
//!     Declined --> Landing: the link still works
//!     Consent --> Interaction: decision=accept (Accepted; the proof is the first step)
//!     Interaction --> [*]: the sign-in pipeline (MFA if it applies), then inviteRedirectUrl
//! ```
//!
//! Every step is bound to one browser by a random cookie (`portico_redeem`,
//! `portico_block`): the forms' CSRF tokens derive from it, and the directory
//! ties each code to it. A forwarded link therefore gets its reader nowhere
//! without the invited mailbox, and a code read over someone's shoulder is
//! useless in another browser.

mod block;
mod federated;
mod link;
mod pages;
mod problem;

use super::UiState;
use axum::Router;
use axum::routing::{get, post};
use axum_extra::extract::CookieJar;
use portico_core::random_token;
use portico_oidc::http::authorize::portico_cookie;

/// How long a browser binding lives: long enough to fetch a code from the
/// mailbox and read the consent page, short enough not to linger.
const BINDING_TTL_SECS: i64 = 3600;

/// A browser-binding cookie and the paths it is sent to.
#[derive(Clone, Copy)]
pub(super) struct Binding {
    pub cookie: &'static str,
    pub path: &'static str,
    /// Keeps the CSRF tokens of different flows apart.
    pub csrf_purpose: &'static str,
}

pub(super) const REDEEM: Binding = Binding {
    cookie: "portico_redeem",
    path: "/redeem",
    csrf_purpose: "redeem-csrf",
};

pub(super) const BLOCK: Binding = Binding {
    cookie: "portico_block",
    path: "/invitations/block",
    csrf_purpose: "block-csrf",
};

pub fn routes() -> Router<UiState> {
    Router::new()
        .route("/redeem", get(link::redeem_get))
        .route("/redeem/code", post(link::code_post))
        .route("/redeem/verify", post(link::verify_post))
        .route("/redeem/consent", post(link::consent_post))
        .route("/redeem/federation", post(federated::federation_post))
        .route("/redeem/federated", get(federated::federated_get))
        .route(
            "/invitations/block",
            get(block::block_get).post(block::block_post),
        )
}

impl Binding {
    /// The browser's binding, or a new one set on the jar.
    pub fn ensure(self, s: &UiState, jar: CookieJar) -> (CookieJar, String) {
        if let Some(v) = self.value(&jar) {
            return (jar, v);
        }
        let v = random_token(32);
        let cookie = portico_cookie(
            self.cookie,
            v.clone(),
            self.path.into(),
            BINDING_TTL_SECS,
            s.provider.config.secure_cookies(),
        );
        (jar.add(cookie), v)
    }

    pub fn value(self, jar: &CookieJar) -> Option<String> {
        jar.get(self.cookie)
            .map(|c| c.value().to_string())
            .filter(|v| !v.is_empty())
    }

    pub fn csrf(self, s: &UiState, binding: &str) -> String {
        s.provider.hasher.hash(self.csrf_purpose, binding)
    }

    /// The binding, if the form's CSRF token was derived from it. A missing
    /// cookie (expired, another browser) fails like a wrong token.
    pub fn check(self, s: &UiState, jar: &CookieJar, presented: &str) -> Option<String> {
        let binding = self.value(jar)?;
        s.provider
            .hasher
            .verify(self.csrf_purpose, &binding, presented)
            .then_some(binding)
    }

    /// Removes the cookie once its flow is over.
    pub fn remove(self, jar: CookieJar) -> CookieJar {
        jar.remove(axum_extra::extract::cookie::Cookie::build(self.cookie).path(self.path))
    }
}

/// The code as typed: people paste it with spaces or a dash. Anything else is
/// kept, so a wrong character still makes a wrong code.
pub(crate) fn normalize_code(code: &str) -> String {
    code.chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .collect()
}

#[cfg(test)]
mod tests {
    use super::normalize_code;

    #[test]
    fn codes_lose_only_spaces_and_dashes() {
        let check = |input: &str, expected: &str| assert_eq!(normalize_code(input), expected);
        check("12345678", "12345678");
        check(" 1234 5678\n", "12345678");
        check("1234-5678", "12345678");
        check("1234a5678", "1234a5678");
        check("", "");
    }
}
