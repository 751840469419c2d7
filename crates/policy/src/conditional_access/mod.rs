//! Conditional access: Microsoft Graph's `conditionalAccessPolicy` and named
//! locations, and [`evaluate`], which says for each policy whether it applies
//! to a sign-in ([`AccessContext`]) and what it asks (block or MFA).
//!
//! Pure and fast: no IO, no clock. Locations are matched once per call, then
//! each policy is a few short list scans (see `benches/conditional_access.rs`:
//! 1,000 policies in well under a millisecond).
//!
//! **Import rule** ([`Policy::from_graph_json`], [`NamedLocation::from_graph_json`]):
//! Graph's JSON is read as-is (Entra exports import unchanged). Every field is
//! either understood, or one Portico cannot enforce that Entra always writes
//! (risk levels, device filters, session controls, …) and that is accepted only
//! when it is empty or `null`; anything else, and any field Portico does not
//! know, is refused with an error naming the field's path. OData annotations
//! (`@odata.*`) and read-only fields (`id`, times, `templateId`) are ignored
//! on input. So an imported policy never means less than it says.
//!
//! **Unknown inputs**: every [`AccessContext`] input may be unknown (What-If).
//! A condition that cannot be decided without it says `Unknown` and names the
//! input; it is never guessed. An unknown country is the one documented
//! exception, as in Entra: it matches a country location exactly when that
//! location has `includeUnknownCountriesAndRegions`, and is still reported.

mod evaluate;
mod import;
mod location;
mod model;
mod platform;

pub use evaluate::{
    AccessContext, Applicability, AppliedResult, Enforcement, Input, NotApplied, PolicyResult,
    Requirement, evaluate,
};
pub use import::ImportError;
pub use location::{CidrRange, LocationKind, NamedLocation, canonical as canonical_ip};
pub use model::{
    ApplicationsCondition, BuiltInControl, Conditions, GrantControls, GrantOperator, LOCATIONS_ALL,
    LOCATIONS_ALL_TRUSTED, LocationsCondition, Platform, PlatformsCondition, Policy, PolicyState,
    USERS_ALL, USERS_GUESTS, UsersCondition,
};
pub use platform::platform_from_headers;

#[cfg(test)]
mod tests;
