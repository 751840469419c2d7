//! sea-orm entities, one per table. The schema itself is in [`crate::migration`].

pub mod access_tokens;
pub mod auth_codes;
pub mod clients;
pub mod consents;
pub mod grants;
pub mod interactions;
pub mod refresh_tokens;
pub mod server_secrets;
pub mod sessions;
pub mod signing_keys;
pub mod users;
