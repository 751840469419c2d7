//! The audit log's record: who changed what, when, with the values before and
//! after. It lives here, below every crate that changes something trust-relevant
//! (the directory, applications, trusted IdPs, signing keys), so that each store
//! can write the entry in the same transaction as the change it describes.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Who made a change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ActorKind {
    /// A signed-in person (an admin in the portal, a guest redeeming).
    User,
    /// An API client (client credentials).
    Application,
    /// Portico itself (the CLI, a background job).
    System,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Actor {
    pub kind: ActorKind,
    /// A user's id, an application's client_id, or `"portico"`.
    pub id: String,
    pub display_name: String,
}

impl Actor {
    pub fn system(what: &str) -> Actor {
        Actor {
            kind: ActorKind::System,
            id: "portico".into(),
            display_name: what.into(),
        }
    }
}

/// One audited change.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditEntry {
    pub id: Uuid,
    pub at: DateTime<Utc>,
    pub actor: Actor,
    /// Graph's `activityDisplayName`: "Invite external user", "Update user", …
    pub activity: String,
    /// Graph's `category`: "UserManagement", "Invitations".
    pub category: String,
    /// "User", "Invitation".
    pub target_type: String,
    pub target_id: String,
    pub target_name: String,
    /// The object before and after (JSON objects; `None` for create/delete).
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
}

impl AuditEntry {
    pub fn new(
        at: DateTime<Utc>,
        actor: &Actor,
        activity: &str,
        category: &str,
        target_type: &str,
        target_id: impl ToString,
        target_name: &str,
    ) -> AuditEntry {
        AuditEntry {
            id: Uuid::now_v7(),
            at,
            actor: actor.clone(),
            activity: activity.into(),
            category: category.into(),
            target_type: target_type.into(),
            target_id: target_id.to_string(),
            target_name: target_name.into(),
            before: None,
            after: None,
        }
    }

    pub fn before(mut self, v: serde_json::Value) -> Self {
        self.before = Some(v);
        self
    }

    pub fn after(mut self, v: serde_json::Value) -> Self {
        self.after = Some(v);
        self
    }
}

/// Graph's categories for the trust-relevant changes outside the directory.
pub const CATEGORY_APPLICATIONS: &str = "ApplicationManagement";
pub const CATEGORY_IDENTITY_PROVIDERS: &str = "IdentityProviderManagement";
pub const CATEGORY_KEYS: &str = "KeyManagement";
