//! Requests to join an application's self-service group: a user asks from My
//! Apps, the group's managing owners approve or decline (from My Apps, or an
//! admin through the API).
//!
//! Rules:
//! - a **self-service group** is a group assigned to an application and owned
//!   by one of that application's owners (the people who manage it from My
//!   Apps, [`crate::groups::Groups::may_manage`]); only those take requests,
//!   and only while the tenant lets owners manage membership;
//! - one pending request per user and group (storage's unique index is the
//!   last word: a second one is a `Conflict`); members cannot ask;
//! - an owner decides only on requests to groups it manages; a request is
//!   decided once (the update is conditional on `pending`, so two owners
//!   racing get one decision and one `Conflict`);
//! - approving adds the member; the request, the decision and the
//!   membership are audited, and the mail (to the managing owners on a
//!   request, to the requester on a decision) is queued, in the same
//!   transaction as the change.

use crate::audit::{Actor, AuditEntry};
use crate::collaboration::CollaborationRepo;
use crate::groups::{CATEGORY_GROUPS, Group, GroupRepo};
use crate::users::{DirectoryError, User, UserRepo};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use portico_core::{Clock, MailKind, OutgoingMail};
use std::sync::Arc;
use uuid::Uuid;

use crate::invitations::RenderedMail;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JoinState {
    Pending,
    Approved,
    Declined,
}

impl JoinState {
    pub fn as_str(self) -> &'static str {
        match self {
            JoinState::Pending => "pending",
            JoinState::Approved => "approved",
            JoinState::Declined => "declined",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "pending" => Some(JoinState::Pending),
            "approved" => Some(JoinState::Approved),
            "declined" => Some(JoinState::Declined),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JoinRequest {
    pub id: Uuid,
    pub group_id: Uuid,
    pub user_id: Uuid,
    pub state: JoinState,
    pub created_at: DateTime<Utc>,
    pub decided_at: Option<DateTime<Utc>>,
    pub decided_by: Option<Actor>,
}

/// A group that takes join requests: assigned to `app_id` and owned by
/// `managers`, who own `app_id` too.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SelfServiceGroup {
    pub app_id: Uuid,
    pub app_name: String,
    pub group: Group,
    pub managers: Vec<Uuid>,
}

#[async_trait]
pub trait JoinRequestRepo: Send + Sync {
    /// Every (application, group) where the group is assigned to the
    /// application and owned by at least one of its owners, with those owners.
    async fn self_service_groups(&self) -> Result<Vec<SelfServiceGroup>, DirectoryError>;
    /// `Conflict` when the user already has a pending request for the group.
    async fn create_join_request(
        &self,
        r: &JoinRequest,
        audit: &AuditEntry,
        mails: &[OutgoingMail],
    ) -> Result<(), DirectoryError>;
    async fn find_join_request(&self, id: Uuid) -> Result<Option<JoinRequest>, DirectoryError>;
    /// The group's requests, newest first.
    async fn group_join_requests(&self, group_id: Uuid)
    -> Result<Vec<JoinRequest>, DirectoryError>;
    /// The user's pending requests.
    async fn pending_join_requests_of(
        &self,
        user_id: Uuid,
    ) -> Result<Vec<JoinRequest>, DirectoryError>;
    /// Decides a pending request: `false` when it was no longer pending
    /// (nothing written). Approving adds the membership (already a member is
    /// fine). The audits and the mail go in the same transaction.
    async fn decide_join_request(
        &self,
        decided: &JoinRequest,
        audits: &[AuditEntry],
        mail: Option<&OutgoingMail>,
    ) -> Result<bool, DirectoryError>;
}

/// The facts of a join request email (to a managing owner).
#[derive(Debug, Clone)]
pub struct JoinRequestedMessage {
    pub organization: String,
    pub owner_name: String,
    pub requester_name: String,
    pub requester_email: String,
    pub group_name: String,
    pub app_name: String,
    pub myapps_url: String,
}

/// The facts of a decision email (to the requester).
#[derive(Debug, Clone)]
pub struct JoinDecidedMessage {
    pub organization: String,
    pub requester_name: String,
    pub group_name: String,
    pub app_name: String,
    pub approved: bool,
    pub myapps_url: String,
}

/// Renders the join request emails (the UI implements it).
pub trait JoinMailComposer: Send + Sync {
    fn join_requested(&self, m: &JoinRequestedMessage) -> RenderedMail;
    fn join_decided(&self, m: &JoinDecidedMessage) -> RenderedMail;
}

/// Who decides: an owner from My Apps (must manage the group), or an admin
/// through the API (its permission was checked by the caller).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decider {
    Owner(Uuid),
    Admin,
}

/// A pending request with who asked, for the owners' list.
#[derive(Debug, Clone)]
pub struct PendingRequest {
    pub request: JoinRequest,
    pub user: User,
}

/// The join requests service.
#[derive(Clone)]
pub struct JoinRequests {
    repo: Arc<dyn JoinRequestRepo>,
    groups: Arc<dyn GroupRepo>,
    users: Arc<dyn UserRepo>,
    policy: Arc<dyn CollaborationRepo>,
    mail: Arc<dyn JoinMailComposer>,
    clock: Arc<dyn Clock>,
    organization: String,
    myapps_url: String,
    /// Woken when mail was queued (the mail worker's wake-up).
    mail_queued: Arc<tokio::sync::Notify>,
}

impl JoinRequests {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        repo: Arc<dyn JoinRequestRepo>,
        groups: Arc<dyn GroupRepo>,
        users: Arc<dyn UserRepo>,
        policy: Arc<dyn CollaborationRepo>,
        mail: Arc<dyn JoinMailComposer>,
        clock: Arc<dyn Clock>,
        organization: String,
        myapps_url: String,
    ) -> Self {
        Self {
            repo,
            groups,
            users,
            policy,
            mail,
            clock,
            organization,
            myapps_url,
            mail_queued: Arc::new(tokio::sync::Notify::new()),
        }
    }

    /// Wakes `notify` whenever a join request email was queued.
    pub fn with_mail_notifier(mut self, notify: Arc<tokio::sync::Notify>) -> Self {
        self.mail_queued = notify;
        self
    }

    async fn self_service_on(&self) -> Result<bool, DirectoryError> {
        Ok(self
            .policy
            .collaboration_policy()
            .await?
            .owners_may_manage_membership)
    }

    /// The groups that take requests now (none while owners may not manage
    /// membership), one entry per group (its first application).
    pub async fn self_service_groups(&self) -> Result<Vec<SelfServiceGroup>, DirectoryError> {
        if !self.self_service_on().await? {
            return Ok(Vec::new());
        }
        let mut out: Vec<SelfServiceGroup> = Vec::new();
        for g in self.repo.self_service_groups().await? {
            match out.iter_mut().find(|o| o.group.id == g.group.id) {
                Some(o) => {
                    for m in g.managers {
                        if !o.managers.contains(&m) {
                            o.managers.push(m);
                        }
                    }
                }
                None => out.push(g),
            }
        }
        Ok(out)
    }

    async fn self_service(&self, group_id: Uuid) -> Result<SelfServiceGroup, DirectoryError> {
        self.self_service_groups()
            .await?
            .into_iter()
            .find(|g| g.group.id == group_id)
            .ok_or(DirectoryError::NotFound)
    }

    /// The self-service groups `user_id` may ask to join (not a member yet),
    /// each with whether a request is already pending.
    pub async fn joinable(
        &self,
        user_id: Uuid,
    ) -> Result<Vec<(SelfServiceGroup, bool)>, DirectoryError> {
        let member_of = self.groups.user_group_ids(user_id).await?;
        let pending: Vec<Uuid> = self
            .repo
            .pending_join_requests_of(user_id)
            .await?
            .into_iter()
            .map(|r| r.group_id)
            .collect();
        Ok(self
            .self_service_groups()
            .await?
            .into_iter()
            .filter(|g| !member_of.contains(&g.group.id))
            .map(|g| {
                let p = pending.contains(&g.group.id);
                (g, p)
            })
            .collect())
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

    fn outgoing(&self, to: &str, r: RenderedMail) -> OutgoingMail {
        OutgoingMail {
            id: Uuid::now_v7(),
            kind: MailKind::GroupJoinRequest,
            to: to.to_string(),
            cc: vec![],
            subject: r.subject,
            text: r.text,
            html: r.html,
            created_at: self.clock.now(),
        }
    }

    /// `user` asks to join the self-service group `group_id`; its managing
    /// owners are emailed.
    pub async fn request(
        &self,
        group_id: Uuid,
        user: &User,
    ) -> Result<JoinRequest, DirectoryError> {
        let ss = self.self_service(group_id).await?;
        if self
            .groups
            .user_group_ids(user.id)
            .await?
            .contains(&group_id)
        {
            return Err(DirectoryError::Conflict(format!(
                "You are already a member of {}.",
                ss.group.display_name
            )));
        }
        let duplicate = || {
            DirectoryError::Conflict(format!(
                "You already asked to join {}; its owners have not answered yet.",
                ss.group.display_name
            ))
        };
        if self
            .repo
            .pending_join_requests_of(user.id)
            .await?
            .iter()
            .any(|r| r.group_id == group_id)
        {
            return Err(duplicate());
        }
        let r = JoinRequest {
            id: Uuid::now_v7(),
            group_id,
            user_id: user.id,
            state: JoinState::Pending,
            created_at: self.clock.now(),
            decided_at: None,
            decided_by: None,
        };
        let actor = Actor {
            kind: crate::ActorKind::User,
            id: user.id.to_string(),
            display_name: user.display_name.clone(),
        };
        let audit = self
            .entry(&actor, "Request to join group", &ss.group)
            .after(serde_json::json!({
                "requestId": r.id, "userId": user.id, "displayName": user.display_name,
                "state": r.state.as_str(),
            }));
        let mut mails = Vec::new();
        for m in &ss.managers {
            let Some(owner) = self.users.find_user(*m).await? else {
                continue;
            };
            if owner.mail.is_empty() || !owner.account_enabled {
                continue;
            }
            let rendered = self.mail.join_requested(&JoinRequestedMessage {
                organization: self.organization.clone(),
                owner_name: owner.display_name.clone(),
                requester_name: user.display_name.clone(),
                requester_email: user.mail.clone(),
                group_name: ss.group.display_name.clone(),
                app_name: ss.app_name.clone(),
                myapps_url: self.myapps_url.clone(),
            });
            mails.push(self.outgoing(&owner.mail, rendered));
        }
        match self.repo.create_join_request(&r, &audit, &mails).await {
            Err(DirectoryError::Conflict(_)) => Err(duplicate()),
            Err(e) => Err(e),
            Ok(()) => {
                self.mail_queued.notify_one();
                Ok(r)
            }
        }
    }

    /// The pending requests to the groups `owner` manages, by group.
    pub async fn pending_for_owner(
        &self,
        owner: Uuid,
    ) -> Result<Vec<(Group, Vec<PendingRequest>)>, DirectoryError> {
        let mut out = Vec::new();
        for ss in self.self_service_groups().await? {
            if !ss.managers.contains(&owner) {
                continue;
            }
            let mut pending = Vec::new();
            for r in self.repo.group_join_requests(ss.group.id).await? {
                if r.state != JoinState::Pending {
                    continue;
                }
                if let Some(user) = self.users.find_user(r.user_id).await? {
                    pending.push(PendingRequest { request: r, user });
                }
            }
            if !pending.is_empty() {
                out.push((ss.group, pending));
            }
        }
        Ok(out)
    }

    /// The group's requests, newest first (the admin API).
    pub async fn of_group(&self, group_id: Uuid) -> Result<Vec<JoinRequest>, DirectoryError> {
        self.groups
            .find_group(group_id)
            .await?
            .ok_or(DirectoryError::NotFound)?;
        self.repo.group_join_requests(group_id).await
    }

    /// Approves (or declines) request `id`. With `group_id`, the request must
    /// be to that group (the API's path). An owner must manage the group:
    /// otherwise `Forbidden`, and nothing changes.
    pub async fn decide(
        &self,
        id: Uuid,
        group_id: Option<Uuid>,
        approve: bool,
        decider: Decider,
        actor: &Actor,
    ) -> Result<JoinRequest, DirectoryError> {
        let r = self
            .repo
            .find_join_request(id)
            .await?
            .filter(|r| group_id.is_none_or(|g| g == r.group_id))
            .ok_or(DirectoryError::NotFound)?;
        let group = self
            .groups
            .find_group(r.group_id)
            .await?
            .ok_or(DirectoryError::NotFound)?;
        let app_name = match decider {
            Decider::Owner(owner) => {
                let ss = self
                    .self_service(r.group_id)
                    .await
                    .ok()
                    .filter(|ss| ss.managers.contains(&owner))
                    .ok_or_else(|| {
                        DirectoryError::Forbidden(
                            "You can decide only on requests to the groups you manage.".into(),
                        )
                    })?;
                ss.app_name
            }
            Decider::Admin => self
                .repo
                .self_service_groups()
                .await?
                .into_iter()
                .find(|g| g.group.id == r.group_id)
                .map(|g| g.app_name)
                .unwrap_or_else(|| group.display_name.clone()),
        };
        let already = |state: JoinState| {
            DirectoryError::Conflict(format!("This request was already {}.", state.as_str()))
        };
        if r.state != JoinState::Pending {
            return Err(already(r.state));
        }
        let user = self.users.find_user(r.user_id).await?;
        let now = self.clock.now();
        let decided = JoinRequest {
            state: if approve {
                JoinState::Approved
            } else {
                JoinState::Declined
            },
            decided_at: Some(now),
            decided_by: Some(actor.clone()),
            ..r.clone()
        };
        let activity = if approve {
            "Approve request to join group"
        } else {
            "Decline request to join group"
        };
        let mut audits = vec![
            self.entry(actor, activity, &group)
                .before(serde_json::json!({"requestId": r.id, "userId": r.user_id, "state": r.state.as_str()}))
                .after(serde_json::json!({"requestId": r.id, "userId": r.user_id, "state": decided.state.as_str()})),
        ];
        if approve {
            audits.push(self.entry(actor, "Add member to group", &group).after(
                serde_json::json!({
                    "userId": r.user_id,
                    "displayName": user.as_ref().map(|u| u.display_name.clone()),
                }),
            ));
        }
        let mail = user.as_ref().filter(|u| !u.mail.is_empty()).map(|u| {
            let rendered = self.mail.join_decided(&JoinDecidedMessage {
                organization: self.organization.clone(),
                requester_name: u.display_name.clone(),
                group_name: group.display_name.clone(),
                app_name: app_name.clone(),
                approved: approve,
                myapps_url: self.myapps_url.clone(),
            });
            self.outgoing(&u.mail, rendered)
        });
        if user.is_none() {
            return Err(DirectoryError::NotFound);
        }
        if self
            .repo
            .decide_join_request(&decided, &audits, mail.as_ref())
            .await?
        {
            self.mail_queued.notify_one();
            Ok(decided)
        } else {
            let now_state = self
                .repo
                .find_join_request(id)
                .await?
                .map_or(JoinState::Declined, |r| r.state);
            Err(already(now_state))
        }
    }
}
