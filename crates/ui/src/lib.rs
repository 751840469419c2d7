//! `portico-ui`: the pages people see, rendered server-side with askama from
//! the top-level `templates/` folder: sign-in, consent, error, form post,
//! logout. It walks the interaction steps the authorization server hands off
//! (see `portico_oidc::interaction`) and reports results through the provider's
//! finish API; it never issues codes or tokens itself.
//!
//! It must not talk to the database directly (it goes through `portico-oidc`
//! and `portico-directory`), and it is the only crate that imports askama.

pub mod http;
pub mod join_mail;
pub mod mail;
mod pages;

pub use http::{Background, UiState, router};
pub use mail::UiMailComposer;
pub use pages::UiPages;
