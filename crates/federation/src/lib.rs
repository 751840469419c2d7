//! `portico-federation`: Portico as a relying party to the guests' home
//! identity providers. It owns the trusted IdPs admins configure
//! ([`IdentityProvider`], validated from the admin input), home-realm
//! discovery (which IdP serves an email's domain), the upstream sign-in
//! itself (discovery and JWKS cache, authorization code + PKCE + `state` +
//! `nonce`, full ID token validation through the `openidconnect` crate), and
//! the "test connection" trace.
//!
//! It must not render pages, issue Portico tokens, or decide who a guest is:
//! it hands the UI a verified [`UpstreamIdentity`] (issuer, subject, email as
//! asserted) and the UI asks the directory what that identity may do. Its
//! HTTP client follows no redirects, has connect and total timeouts, and
//! calls public addresses only unless private networks are allowed (`egress`).

mod client;
mod discovery;
mod egress;
mod error;
mod flow;
mod model;
mod realm;
mod redact;
mod store;
mod test_connection;
mod verify;

pub use client::{FederationConfig, http_client};
pub use egress::{GuardedHttp, is_public};
pub use error::{FederationError, UpstreamProblem};
pub use flow::{BeginFlow, CallbackOutcome, CallbackParams, Federation};
pub use model::{
    ClaimsMapping, FederationFlow, FlowPurpose, FlowStatus, Forwarded, IdentityProvider, IdpInput,
    IdpPatch, MfaTrust, MfaTrustInput, UpstreamIdentity, validate_domain, validate_issuer,
};
pub use realm::email_domain;
pub use store::{FlowRepo, IdpRepo, StoreError};
pub use test_connection::{TestReport, TraceStep};
