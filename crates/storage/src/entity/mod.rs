//! sea-orm entities, one per table. The schema itself is in [`crate::migration`].

pub mod access_tokens;
pub mod auth_codes;
pub mod blocked_recipients;
pub mod clients;
pub mod consents;
pub mod directory_audits;
pub mod federation_flows;
pub mod grants;
pub mod identity_provider_domains;
pub mod identity_providers;
pub mod import_jobs;
pub mod import_rows;
pub mod interactions;
pub mod invitations;
pub mod mail_outbox;
pub mod mfa_failures;
pub mod mfa_recovery_codes;
pub mod mfa_totp_methods;
pub mod one_time_codes;
pub mod refresh_tokens;
pub mod server_secrets;
pub mod sessions;
pub mod signing_keys;
pub mod user_identities;
pub mod users;
