//! The directory audit log: who changed what, when, with the values before and
//! after. Every write that changes the directory carries its [`AuditEntry`] to
//! the repository, which stores it in the same transaction as the change.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::DirectoryError;

pub use portico_core::audit::{
    Actor, ActorKind, AuditEntry, CATEGORY_APPLICATIONS, CATEGORY_IDENTITY_PROVIDERS, CATEGORY_KEYS,
};

/// An entry about a user (category UserManagement).
pub fn for_user(
    at: DateTime<Utc>,
    actor: &Actor,
    activity: &str,
    user: &crate::User,
) -> AuditEntry {
    AuditEntry::new(
        at,
        actor,
        activity,
        crate::CATEGORY_USERS,
        "User",
        user.id,
        &user.display_name,
    )
}

/// Newest first; `before` is the id of the last entry of the previous page.
#[derive(Debug, Clone, Default)]
pub struct AuditQuery {
    pub target_id: Option<String>,
    pub activity: Option<String>,
    pub before: Option<Uuid>,
    pub limit: u64,
}

#[async_trait]
pub trait AuditRepo: Send + Sync {
    async fn list_audits(&self, q: &AuditQuery) -> Result<Vec<AuditEntry>, DirectoryError>;
}
