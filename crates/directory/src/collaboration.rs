//! External collaboration settings: who may invite guests (Graph's
//! `authorizationPolicy.allowInvitesFrom`), what guests may see of the
//! directory (`guestUserRoleId`), and which email domains may be invited
//! (`invitationDomainsPolicy`: an allow-list **and** a deny-list, where Entra
//! allows only one of them).
//!
//! Rules:
//! - `none` stops every inviter, admins included (Entra: "no one in the
//!   organization can invite guest users including admins").
//! - A domain on the deny-list is refused even when the allow-list names it
//!   (deny wins); a non-empty allow-list admits only its domains.
//! - `*.example.com` matches every subdomain of `example.com`, not
//!   `example.com` itself; `example.com` matches only itself.

use crate::DirectoryError;
use crate::audit::AuditEntry;
use async_trait::async_trait;
use serde::{Deserialize, Serialize};

/// Graph's `guestUserRoleId` values.
pub const GUEST_ROLE_SAME_AS_MEMBERS: &str = "a0b1b346-4d3e-4e8b-98f8-753987be4970";
pub const GUEST_ROLE_LIMITED: &str = "10dae51f-b6af-4016-8d66-8c2a99b929b3";
pub const GUEST_ROLE_RESTRICTED: &str = "2af84b1e-32c8-42b7-82bc-daa82404023b";

/// The most domains either list may hold.
pub const MAX_DOMAINS: usize = 500;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub enum AllowInvitesFrom {
    None,
    AdminsAndGuestInviters,
    #[default]
    AdminsGuestInvitersAndAllMembers,
    Everyone,
}

impl AllowInvitesFrom {
    pub fn parse(s: &str) -> Option<Self> {
        serde_json::from_value(serde_json::Value::String(s.to_string())).ok()
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::AdminsAndGuestInviters => "adminsAndGuestInviters",
            Self::AdminsGuestInvitersAndAllMembers => "adminsGuestInvitersAndAllMembers",
            Self::Everyone => "everyone",
        }
    }
}

/// Who is inviting, as `allowInvitesFrom` sorts callers. Applications with
/// `User.Invite.All` and the operator's CLI count as admins.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InviterKind {
    Admin,
    GuestInviter,
    Member,
    Guest,
}

/// What a guest may see of the directory (`guestUserRoleId`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GuestAccess {
    SameAsMembers,
    Limited,
    Restricted,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CollaborationPolicy {
    pub allow_invites_from: AllowInvitesFrom,
    pub guest_user_role_id: String,
    pub allowed_domains: Vec<String>,
    pub blocked_domains: Vec<String>,
    /// Owners of an application manage, from My Apps, the members of the
    /// groups they own that are assigned to it (on by default, as group
    /// owners may in Entra). A Portico setting, shown on `authorizationPolicy`.
    #[serde(default = "yes")]
    pub owners_may_manage_membership: bool,
}

fn yes() -> bool {
    true
}

impl Default for CollaborationPolicy {
    fn default() -> Self {
        Self {
            allow_invites_from: AllowInvitesFrom::default(),
            guest_user_role_id: GUEST_ROLE_LIMITED.into(),
            allowed_domains: Vec::new(),
            blocked_domains: Vec::new(),
            owners_may_manage_membership: true,
        }
    }
}

impl CollaborationPolicy {
    pub fn guest_access(&self) -> GuestAccess {
        match self.guest_user_role_id.as_str() {
            GUEST_ROLE_SAME_AS_MEMBERS => GuestAccess::SameAsMembers,
            GUEST_ROLE_RESTRICTED => GuestAccess::Restricted,
            _ => GuestAccess::Limited,
        }
    }

    /// `allowInvitesFrom` for this kind of caller.
    pub fn may_invite(&self, who: InviterKind) -> bool {
        use AllowInvitesFrom as A;
        use InviterKind as K;
        match (self.allow_invites_from, who) {
            (A::None, _) => false,
            (A::Everyone, _) => true,
            (_, K::Admin | K::GuestInviter) => true,
            (A::AdminsGuestInvitersAndAllMembers, K::Member) => true,
            _ => false,
        }
    }

    /// Why `email`'s domain may not be invited or sign in, if it may not.
    pub fn domain_refusal(&self, email: &str) -> Option<String> {
        let domain = email.rsplit_once('@').map_or(email, |(_, d)| d);
        let domain = domain.trim().trim_end_matches('.').to_ascii_lowercase();
        if self.blocked_domains.iter().any(|p| matches(p, &domain)) {
            return Some(format!(
                "The domain {domain} is blocked by the organization's invitation domains policy."
            ));
        }
        if !self.allowed_domains.is_empty()
            && !self.allowed_domains.iter().any(|p| matches(p, &domain))
        {
            return Some(format!(
                "The domain {domain} is not on the organization's list of allowed invitation domains."
            ));
        }
        None
    }
}

/// `pattern` is `example.com` (exactly) or `*.example.com` (any subdomain).
fn matches(pattern: &str, domain: &str) -> bool {
    match pattern.strip_prefix("*.") {
        Some(parent) => domain
            .strip_suffix(parent)
            .is_some_and(|head| head.len() > 1 && head.ends_with('.')),
        None => pattern == domain,
    }
}

/// A domain list entry, normalized, or what is wrong with it.
fn parse_domain(field: &str, raw: &str) -> Result<String, String> {
    let d = raw.trim().to_ascii_lowercase();
    let bare = d.strip_prefix("*.").unwrap_or(&d);
    let label_ok = |l: &str| {
        !l.is_empty()
            && l.len() <= 63
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
    };
    if bare.len() > 253 || !bare.contains('.') || !bare.split('.').all(label_ok) {
        return Err(format!(
            "{field}: '{raw}' is not a domain name (example.com or *.example.com)."
        ));
    }
    Ok(d)
}

/// A PATCH of `authorizationPolicy`; absent fields keep their value.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AuthorizationPolicyPatch {
    pub allow_invites_from: Option<String>,
    pub guest_user_role_id: Option<String>,
}

/// A PATCH of `invitationDomainsPolicy`; absent lists keep their value.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct InvitationDomainsPatch {
    pub allowed_domains: Option<Vec<String>>,
    pub blocked_domains: Option<Vec<String>>,
}

impl AuthorizationPolicyPatch {
    pub fn apply(&self, mut p: CollaborationPolicy) -> Result<CollaborationPolicy, String> {
        if let Some(v) = &self.allow_invites_from {
            p.allow_invites_from = AllowInvitesFrom::parse(v).ok_or_else(|| {
                format!("allowInvitesFrom must be one of none, adminsAndGuestInviters, adminsGuestInvitersAndAllMembers, everyone (got '{v}').")
            })?;
        }
        if let Some(v) = &self.guest_user_role_id {
            let v = v.to_ascii_lowercase();
            if ![
                GUEST_ROLE_SAME_AS_MEMBERS,
                GUEST_ROLE_LIMITED,
                GUEST_ROLE_RESTRICTED,
            ]
            .contains(&v.as_str())
            {
                return Err(format!(
                    "guestUserRoleId must be {GUEST_ROLE_SAME_AS_MEMBERS} (same as members), {GUEST_ROLE_LIMITED} (limited) or {GUEST_ROLE_RESTRICTED} (restricted)."
                ));
            }
            p.guest_user_role_id = v;
        }
        Ok(p)
    }
}

impl InvitationDomainsPatch {
    pub fn apply(&self, mut p: CollaborationPolicy) -> Result<CollaborationPolicy, String> {
        let list = |field: &str, v: &Vec<String>| -> Result<Vec<String>, String> {
            if v.len() > MAX_DOMAINS {
                return Err(format!("{field} may hold at most {MAX_DOMAINS} domains."));
            }
            let mut out = Vec::with_capacity(v.len());
            for raw in v {
                let d = parse_domain(field, raw)?;
                if !out.contains(&d) {
                    out.push(d);
                }
            }
            Ok(out)
        };
        if let Some(v) = &self.allowed_domains {
            p.allowed_domains = list("allowedDomains", v)?;
        }
        if let Some(v) = &self.blocked_domains {
            p.blocked_domains = list("blockedDomains", v)?;
        }
        Ok(p)
    }
}

/// Where the settings are kept (one document; storage implements it).
#[async_trait]
pub trait CollaborationRepo: Send + Sync {
    async fn collaboration_policy(&self) -> Result<CollaborationPolicy, DirectoryError>;
    /// Brings this node's copy of the settings up to the database (one
    /// read), so the next `collaboration_policy` is current: a change calls
    /// it before applying itself to what is stored.
    async fn catch_up_collaboration_policy(&self) -> Result<(), DirectoryError>;
    /// Saves the policy and its audit entry in one transaction.
    async fn save_collaboration_policy(
        &self,
        p: &CollaborationPolicy,
        audit: &AuditEntry,
    ) -> Result<(), DirectoryError>;
}

#[cfg(test)]
#[path = "collaboration_tests.rs"]
mod tests;
