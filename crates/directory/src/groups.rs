//! Groups (Graph's `group`: display name, description, `securityEnabled`),
//! their members and owners, and app role assignments (a user or a group may
//! use an application; Graph's `appRoleAssignment` with the default role).
//! Rules:
//! - members and owners are users (Graph allows other objects; Portico's
//!   directory has users only); adding one twice is a 400, as on Graph;
//! - deleting a user or a group deletes its memberships and assignments in
//!   the same transaction (storage does it with the delete);
//! - a user's groups are its **direct** memberships ([`GroupRepo::user_group_ids`]):
//!   what the `groups` claim, conditional access and assignments through
//!   groups read;
//! - every change is written with its audit entry in one transaction.

use crate::audit::{Actor, AuditEntry};
use crate::users::{DirectoryError, User, UserRepo};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use portico_core::Clock;
use serde::Deserialize;
use std::sync::Arc;
use uuid::Uuid;

/// Graph's audit category for groups.
pub const CATEGORY_GROUPS: &str = "GroupManagement";
/// Graph's audit category for app role assignments.
pub const CATEGORY_ASSIGNMENTS: &str = "ApplicationManagement";
/// The default app role: "the user may use the app" (Graph's all-zero GUID).
pub const DEFAULT_APP_ROLE: Uuid = Uuid::nil();

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    pub id: Uuid,
    pub display_name: String,
    pub description: Option<String>,
    pub security_enabled: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Group {
    pub fn audit_view(&self) -> serde_json::Value {
        serde_json::json!({
            "displayName": self.display_name,
            "description": self.description,
            "securityEnabled": self.security_enabled,
        })
    }
}

/// How a user relates to a group.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Relation {
    Member,
    Owner,
}

impl Relation {
    pub fn as_str(self) -> &'static str {
        match self {
            Relation::Member => "member",
            Relation::Owner => "owner",
        }
    }
}

/// Who an assignment is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PrincipalType {
    User,
    Group,
}

impl PrincipalType {
    pub fn as_str(self) -> &'static str {
        match self {
            PrincipalType::User => "User",
            PrincipalType::Group => "Group",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "User" => Some(PrincipalType::User),
            "Group" => Some(PrincipalType::Group),
            _ => None,
        }
    }
}

/// Graph's `appRoleAssignment`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppRoleAssignment {
    pub id: Uuid,
    pub principal_id: Uuid,
    pub principal_type: PrincipalType,
    pub principal_display_name: String,
    /// The application's id (`/api/v1/applications/{id}`).
    pub resource_id: Uuid,
    pub resource_display_name: String,
    pub app_role_id: Uuid,
    pub created_at: DateTime<Utc>,
}

impl AppRoleAssignment {
    pub fn audit_view(&self) -> serde_json::Value {
        serde_json::json!({
            "principalId": self.principal_id,
            "principalType": self.principal_type.as_str(),
            "principalDisplayName": self.principal_display_name,
            "resourceId": self.resource_id,
            "appRoleId": self.app_role_id,
        })
    }
}

/// Why a user may use an application (My Apps says it on the tile).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AccessVia {
    /// Assigned to the user.
    Direct,
    /// Assigned to a group the user is a member of: its id and name.
    Group { id: Uuid, display_name: String },
}

/// One way a user reaches an application.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserAppAccess {
    pub resource_id: Uuid,
    pub via: AccessVia,
    pub since: DateTime<Utc>,
}

#[async_trait]
pub trait GroupRepo: Send + Sync {
    async fn create_group(&self, g: &Group, audit: &AuditEntry) -> Result<(), DirectoryError>;
    async fn find_group(&self, id: Uuid) -> Result<Option<Group>, DirectoryError>;
    /// Ordered by id; `after` is the last id of the previous page; `limit` 0 is all.
    async fn list_groups(
        &self,
        after: Option<Uuid>,
        limit: u64,
    ) -> Result<Vec<Group>, DirectoryError>;
    async fn update_group(&self, g: &Group, audit: &AuditEntry) -> Result<(), DirectoryError>;
    /// Deletes the group, its memberships and the assignments made to it.
    async fn delete_group(&self, id: Uuid, audit: &AuditEntry) -> Result<bool, DirectoryError>;
    /// `false` when the user already had this relation (nothing written).
    async fn add_to_group(
        &self,
        group_id: Uuid,
        relation: Relation,
        user_id: Uuid,
        audit: &AuditEntry,
    ) -> Result<bool, DirectoryError>;
    /// `false` when the user did not have this relation (nothing written).
    async fn remove_from_group(
        &self,
        group_id: Uuid,
        relation: Relation,
        user_id: Uuid,
        audit: &AuditEntry,
    ) -> Result<bool, DirectoryError>;
    /// The group's members (or owners), by user id.
    async fn group_users(
        &self,
        group_id: Uuid,
        relation: Relation,
    ) -> Result<Vec<User>, DirectoryError>;
    /// The groups the user is a direct member (or owner) of, by id.
    async fn groups_of_user(
        &self,
        user_id: Uuid,
        relation: Relation,
    ) -> Result<Vec<Group>, DirectoryError>;
    /// The ids of the groups `user_id` is a direct member of, ascending.
    /// Conditional access and the `groups` claim read this (storage's
    /// `Storage::user_group_ids` answers both this and `oidc`'s `GroupStore`).
    async fn user_group_ids(&self, user_id: Uuid) -> Result<Vec<Uuid>, DirectoryError>;
}

#[async_trait]
pub trait AssignmentRepo: Send + Sync {
    /// The application's display name, `None` when there is no such application.
    async fn application_name(&self, resource_id: Uuid) -> Result<Option<String>, DirectoryError>;
    /// `Conflict` when the principal already has the role on the application.
    async fn create_assignment(
        &self,
        a: &AppRoleAssignment,
        audit: &AuditEntry,
    ) -> Result<(), DirectoryError>;
    async fn list_assignments(
        &self,
        resource_id: Uuid,
    ) -> Result<Vec<AppRoleAssignment>, DirectoryError>;
    /// The assignments made to `principal_id` (a user or a group), as
    /// Graph's `/groups/{id}/appRoleAssignments`.
    async fn principal_assignments(
        &self,
        principal_id: Uuid,
    ) -> Result<Vec<AppRoleAssignment>, DirectoryError>;
    async fn find_assignment(
        &self,
        resource_id: Uuid,
        id: Uuid,
    ) -> Result<Option<AppRoleAssignment>, DirectoryError>;
    async fn delete_assignment(
        &self,
        resource_id: Uuid,
        id: Uuid,
        audit: &AuditEntry,
    ) -> Result<bool, DirectoryError>;
    /// Every assignment that reaches `user_id`: to the user, or to a group
    /// it is a direct member of.
    async fn user_app_access(&self, user_id: Uuid) -> Result<Vec<UserAppAccess>, DirectoryError>;
    /// `false` when the user already owned the application (nothing written).
    async fn add_app_owner(
        &self,
        resource_id: Uuid,
        user_id: Uuid,
        audit: &AuditEntry,
    ) -> Result<bool, DirectoryError>;
    /// `false` when the user did not own it (nothing written).
    async fn remove_app_owner(
        &self,
        resource_id: Uuid,
        user_id: Uuid,
        audit: &AuditEntry,
    ) -> Result<bool, DirectoryError>;
    async fn app_owners(&self, resource_id: Uuid) -> Result<Vec<User>, DirectoryError>;
    /// The applications (their ids) `user_id` owns.
    async fn owned_apps(&self, user_id: Uuid) -> Result<Vec<Uuid>, DirectoryError>;
}

/// Graph's group body for create (POST). `mailEnabled` must be false (no
/// mail here); `mailNickname` and `groupTypes` are accepted for scripts
/// written against Graph and ignored.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NewGroup {
    pub display_name: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub security_enabled: Option<bool>,
    #[serde(default)]
    pub mail_enabled: Option<bool>,
    #[serde(default)]
    pub mail_nickname: Option<String>,
    #[serde(default)]
    pub group_types: Option<Vec<String>>,
}

/// Graph's group update body (PATCH).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GroupPatch {
    pub display_name: Option<String>,
    pub description: Option<String>,
    pub security_enabled: Option<bool>,
}

fn check_name(n: &str) -> Result<String, DirectoryError> {
    let n = n.trim();
    if n.is_empty() || n.chars().count() > 256 {
        return Err(DirectoryError::Invalid(
            "displayName must have 1 to 256 characters.".into(),
        ));
    }
    Ok(n.to_string())
}

fn check_description(d: Option<String>) -> Result<Option<String>, DirectoryError> {
    let d = d.map(|d| d.trim().to_string()).filter(|d| !d.is_empty());
    if d.as_ref().is_some_and(|d| d.chars().count() > 1024) {
        return Err(DirectoryError::Invalid(
            "description must have at most 1024 characters.".into(),
        ));
    }
    Ok(d)
}

/// The groups and assignments service.
#[derive(Clone)]
pub struct Groups {
    repo: Arc<dyn GroupRepo>,
    assignments: Arc<dyn AssignmentRepo>,
    users: Arc<dyn UserRepo>,
    clock: Arc<dyn Clock>,
}

impl Groups {
    pub fn new(
        repo: Arc<dyn GroupRepo>,
        assignments: Arc<dyn AssignmentRepo>,
        users: Arc<dyn UserRepo>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            repo,
            assignments,
            users,
            clock,
        }
    }

    pub fn repo(&self) -> &dyn GroupRepo {
        self.repo.as_ref()
    }

    fn entry(&self, actor: &Actor, activity: &str, g: &Group) -> AuditEntry {
        AuditEntry::new(
            self.clock.now(),
            actor,
            activity,
            CATEGORY_GROUPS,
            "Group",
            g.id,
            &g.display_name,
        )
    }

    pub async fn create_group(&self, n: NewGroup, actor: &Actor) -> Result<Group, DirectoryError> {
        if n.mail_enabled == Some(true) {
            return Err(DirectoryError::Invalid(
                "mailEnabled: mail-enabled groups are not supported; send false.".into(),
            ));
        }
        if n.group_types.as_ref().is_some_and(|t| !t.is_empty()) {
            return Err(DirectoryError::Invalid(
                "groupTypes: only security groups (an empty list) are supported.".into(),
            ));
        }
        let now = self.clock.now();
        let g = Group {
            id: Uuid::now_v7(),
            display_name: check_name(&n.display_name)?,
            description: check_description(n.description)?,
            security_enabled: n.security_enabled.unwrap_or(true),
            created_at: now,
            updated_at: now,
        };
        let audit = self.entry(actor, "Add group", &g).after(g.audit_view());
        self.repo.create_group(&g, &audit).await?;
        Ok(g)
    }

    pub async fn find_group(&self, id: Uuid) -> Result<Group, DirectoryError> {
        self.repo
            .find_group(id)
            .await?
            .ok_or(DirectoryError::NotFound)
    }

    pub async fn update_group(
        &self,
        id: Uuid,
        p: GroupPatch,
        actor: &Actor,
    ) -> Result<Group, DirectoryError> {
        let before = self.find_group(id).await?;
        let mut g = before.clone();
        if let Some(n) = p.display_name {
            g.display_name = check_name(&n)?;
        }
        if p.description.is_some() {
            g.description = check_description(p.description)?;
        }
        if let Some(s) = p.security_enabled {
            g.security_enabled = s;
        }
        g.updated_at = self.clock.now();
        let audit = self
            .entry(actor, "Update group", &g)
            .before(before.audit_view())
            .after(g.audit_view());
        self.repo.update_group(&g, &audit).await?;
        Ok(g)
    }

    pub async fn delete_group(&self, id: Uuid, actor: &Actor) -> Result<(), DirectoryError> {
        let g = self.find_group(id).await?;
        let audit = self.entry(actor, "Delete group", &g).before(g.audit_view());
        if self.repo.delete_group(id, &audit).await? {
            Ok(())
        } else {
            Err(DirectoryError::NotFound)
        }
    }

    /// Adds `user_id` as a member (or owner). Graph answers 400 when the
    /// reference already exists.
    pub async fn add(
        &self,
        group_id: Uuid,
        relation: Relation,
        user_id: Uuid,
        actor: &Actor,
    ) -> Result<(), DirectoryError> {
        let g = self.find_group(group_id).await?;
        let u = self.users.find_user(user_id).await?.ok_or_else(|| {
            DirectoryError::Invalid(format!("@odata.id: no user has the id {user_id}."))
        })?;
        let activity = match relation {
            Relation::Member => "Add member to group",
            Relation::Owner => "Add owner to group",
        };
        let audit = self
            .entry(actor, activity, &g)
            .after(serde_json::json!({"userId": u.id, "displayName": u.display_name}));
        if self
            .repo
            .add_to_group(group_id, relation, user_id, &audit)
            .await?
        {
            Ok(())
        } else {
            Err(DirectoryError::Invalid(
                "One or more added object references already exist for the following modified properties: 'members'.".replace("members", &format!("{}s", relation.as_str())),
            ))
        }
    }

    pub async fn remove(
        &self,
        group_id: Uuid,
        relation: Relation,
        user_id: Uuid,
        actor: &Actor,
    ) -> Result<(), DirectoryError> {
        let g = self.find_group(group_id).await?;
        let activity = match relation {
            Relation::Member => "Remove member from group",
            Relation::Owner => "Remove owner from group",
        };
        let audit = self
            .entry(actor, activity, &g)
            .before(serde_json::json!({"userId": user_id}));
        if self
            .repo
            .remove_from_group(group_id, relation, user_id, &audit)
            .await?
        {
            Ok(())
        } else {
            Err(DirectoryError::NotFound)
        }
    }

    pub async fn list_users(
        &self,
        group_id: Uuid,
        relation: Relation,
    ) -> Result<Vec<User>, DirectoryError> {
        self.find_group(group_id).await?;
        self.repo.group_users(group_id, relation).await
    }

    /// The groups `user_id` is a direct member of (Graph's `memberOf`).
    pub async fn member_of(&self, user_id: Uuid) -> Result<Vec<Group>, DirectoryError> {
        self.users
            .find_user(user_id)
            .await?
            .ok_or(DirectoryError::NotFound)?;
        self.repo.groups_of_user(user_id, Relation::Member).await
    }

    /// The ids of the groups `user_id` is a direct member of.
    pub async fn user_group_ids(&self, user_id: Uuid) -> Result<Vec<Uuid>, DirectoryError> {
        self.repo.user_group_ids(user_id).await
    }

    // --- App role assignments ---

    async fn application_name(&self, resource_id: Uuid) -> Result<String, DirectoryError> {
        self.assignments
            .application_name(resource_id)
            .await?
            .ok_or(DirectoryError::NotFound)
    }

    /// Assigns the default role of the application `resource_id` to a user or group.
    pub async fn assign(
        &self,
        resource_id: Uuid,
        principal_id: Uuid,
        actor: &Actor,
    ) -> Result<AppRoleAssignment, DirectoryError> {
        let resource_display_name = self.application_name(resource_id).await?;
        let (principal_type, principal_display_name) =
            match self.users.find_user(principal_id).await? {
                Some(u) => (PrincipalType::User, u.display_name),
                None => match self.repo.find_group(principal_id).await? {
                    Some(g) => (PrincipalType::Group, g.display_name),
                    None => {
                        return Err(DirectoryError::Invalid(format!(
                            "principalId: no user or group has the id {principal_id}."
                        )));
                    }
                },
            };
        let a = AppRoleAssignment {
            id: Uuid::now_v7(),
            principal_id,
            principal_type,
            principal_display_name,
            resource_id,
            resource_display_name,
            app_role_id: DEFAULT_APP_ROLE,
            created_at: self.clock.now(),
        };
        // Entra's activity names, by principal.
        let activity = match principal_type {
            PrincipalType::User => "Add app role assignment grant to user",
            PrincipalType::Group => "Add app role assignment grant to group",
        };
        let audit = AuditEntry::new(
            a.created_at,
            actor,
            activity,
            CATEGORY_ASSIGNMENTS,
            "Application",
            resource_id,
            &a.resource_display_name,
        )
        .after(a.audit_view());
        self.assignments.create_assignment(&a, &audit).await?;
        Ok(a)
    }

    pub async fn assignments(
        &self,
        resource_id: Uuid,
    ) -> Result<Vec<AppRoleAssignment>, DirectoryError> {
        self.application_name(resource_id).await?;
        self.assignments.list_assignments(resource_id).await
    }

    /// The assignments made to a user or a group (one query).
    pub async fn assignments_of(
        &self,
        principal_id: Uuid,
    ) -> Result<Vec<AppRoleAssignment>, DirectoryError> {
        self.assignments.principal_assignments(principal_id).await
    }

    pub async fn unassign(
        &self,
        resource_id: Uuid,
        id: Uuid,
        actor: &Actor,
    ) -> Result<(), DirectoryError> {
        let a = self
            .assignments
            .find_assignment(resource_id, id)
            .await?
            .ok_or(DirectoryError::NotFound)?;
        let activity = match a.principal_type {
            PrincipalType::User => "Remove app role assignment from user",
            PrincipalType::Group => "Remove app role assignment from group",
        };
        let audit = AuditEntry::new(
            self.clock.now(),
            actor,
            activity,
            CATEGORY_ASSIGNMENTS,
            "Application",
            resource_id,
            &a.resource_display_name,
        )
        .before(a.audit_view());
        if self
            .assignments
            .delete_assignment(resource_id, id, &audit)
            .await?
        {
            Ok(())
        } else {
            Err(DirectoryError::NotFound)
        }
    }

    /// Makes `user_id` an owner of the application `resource_id` (Graph's
    /// `owners/$ref`): it manages, from My Apps, the groups assigned to the
    /// application that it also owns.
    pub async fn add_app_owner(
        &self,
        resource_id: Uuid,
        user_id: Uuid,
        actor: &Actor,
    ) -> Result<(), DirectoryError> {
        let name = self.application_name(resource_id).await?;
        let u = self.users.find_user(user_id).await?.ok_or_else(|| {
            DirectoryError::Invalid(format!("@odata.id: no user has the id {user_id}."))
        })?;
        let audit = AuditEntry::new(
            self.clock.now(),
            actor,
            "Add owner to application",
            CATEGORY_ASSIGNMENTS,
            "Application",
            resource_id,
            &name,
        )
        .after(serde_json::json!({"userId": u.id, "displayName": u.display_name}));
        if self
            .assignments
            .add_app_owner(resource_id, user_id, &audit)
            .await?
        {
            Ok(())
        } else {
            Err(DirectoryError::Invalid(
                "One or more added object references already exist for the following modified properties: 'owners'.".into(),
            ))
        }
    }

    pub async fn remove_app_owner(
        &self,
        resource_id: Uuid,
        user_id: Uuid,
        actor: &Actor,
    ) -> Result<(), DirectoryError> {
        let name = self.application_name(resource_id).await?;
        let audit = AuditEntry::new(
            self.clock.now(),
            actor,
            "Remove owner from application",
            CATEGORY_ASSIGNMENTS,
            "Application",
            resource_id,
            &name,
        )
        .before(serde_json::json!({"userId": user_id}));
        if self
            .assignments
            .remove_app_owner(resource_id, user_id, &audit)
            .await?
        {
            Ok(())
        } else {
            Err(DirectoryError::NotFound)
        }
    }

    pub async fn app_owners(&self, resource_id: Uuid) -> Result<Vec<User>, DirectoryError> {
        self.application_name(resource_id).await?;
        self.assignments.app_owners(resource_id).await
    }

    /// What an application owner may manage from My Apps: for each
    /// application `user_id` owns, the groups assigned to it that `user_id`
    /// owns too (an owner acts only on groups it owns).
    pub async fn managed_groups(
        &self,
        user_id: Uuid,
    ) -> Result<Vec<(Uuid, Vec<Group>)>, DirectoryError> {
        let owned_groups = self.repo.groups_of_user(user_id, Relation::Owner).await?;
        let mut out = Vec::new();
        for app in self.assignments.owned_apps(user_id).await? {
            let assigned: Vec<Uuid> = self
                .assignments
                .list_assignments(app)
                .await?
                .into_iter()
                .filter(|a| a.principal_type == PrincipalType::Group)
                .map(|a| a.principal_id)
                .collect();
            let groups = owned_groups
                .iter()
                .filter(|g| assigned.contains(&g.id))
                .cloned()
                .collect();
            out.push((app, groups));
        }
        Ok(out)
    }

    /// Whether `user_id` may manage `group_id`'s members from My Apps: it
    /// owns the group and an application the group is assigned to.
    pub async fn may_manage(&self, user_id: Uuid, group_id: Uuid) -> Result<bool, DirectoryError> {
        Ok(self
            .managed_groups(user_id)
            .await?
            .iter()
            .any(|(_, gs)| gs.iter().any(|g| g.id == group_id)))
    }

    /// How `user_id` reaches each application assigned to it (My Apps).
    pub async fn user_app_access(
        &self,
        user_id: Uuid,
    ) -> Result<Vec<UserAppAccess>, DirectoryError> {
        self.assignments.user_app_access(user_id).await
    }
}
