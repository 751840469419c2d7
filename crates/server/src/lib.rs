//! `portico` (the binary's library half): configuration, wiring, the router,
//! the admin API and the CLI commands. The only crate that reads environment
//! variables or files, and the only one that knows every other crate.

pub mod api;
pub mod app;
pub mod client_origin;
pub mod commands;
mod cookie_prefix;
pub mod db_guard;
pub mod demo;
pub mod idp_cli;
pub mod invite_cli;
pub mod master_key;
pub mod ops;
mod redact;
pub mod security_headers;
pub mod settings;
pub mod static_docs;
pub mod workers;

pub use app::{App, RunningServer};
pub use settings::Settings;

/// Admin API permissions, named as in Microsoft Graph where Graph has one.
pub const ALL_PERMISSIONS: &[&str] = &[
    "User.Read.All",
    "User.ReadWrite.All",
    "User.Invite.All",
    "Application.ReadWrite.All",
    "IdentityProvider.ReadWrite.All",
    "Policy.ReadWrite.ConditionalAccess",
    "Policy.ReadWrite.Authorization",
    "Policy.Read.All",
    "Policy.ReadWrite.AuthenticationMethod",
    "UserAuthenticationMethod.Read.All",
    "UserAuthenticationMethod.ReadWrite.All",
    "AuditLog.Read.All",
    "SigningKey.ReadWrite.All",
    // Role assignments, and resetting, disabling, expiring or deleting an
    // administrator (Graph guards privileged users with role-management rights).
    "RoleManagement.ReadWrite.Directory",
    // Groups, their members and owners, and who may use which application.
    "Group.Read.All",
    "Group.ReadWrite.All",
    "GroupMember.Read.All",
    "GroupMember.ReadWrite.All",
    "AppRoleAssignment.ReadWrite.All",
];
