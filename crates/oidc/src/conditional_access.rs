//! Conditional access (issue 13): the policies and named locations the
//! admin API edits (`/api/v1/identity/conditionalAccess/*`, Graph's shapes)
//! and that every authorization request and refresh evaluates
//! (`portico_policy::conditional_access::evaluate`). The store trait is
//! here; storage keeps each policy and location as its Graph JSON and writes
//! the audit entry of a change in the change's transaction.

use crate::Provider;
use crate::signin_log::{AppliedPolicy, RequestContext};
use crate::store::{SettingsChange, StoreError, StoreResult};
use async_trait::async_trait;
use portico_policy::conditional_access::{
    AccessContext, ImportError, NamedLocation, Platform, Policy, PolicyResult, evaluate,
};
use portico_policy::{Denial, Reason, UserType};
use serde_json::Value;
use uuid::Uuid;

/// The audit target of a change: `ConditionalAccessPolicy` or `NamedLocation`.
#[derive(Debug, Clone)]
pub struct CaChange {
    pub change: SettingsChange,
    pub target_kind: &'static str,
    pub target_id: String,
    pub target_name: String,
}

#[async_trait]
pub trait ConditionalAccessStore: Send + Sync {
    /// Every policy, oldest first (ids are UUIDv7): the order What-If and the log show.
    async fn list_ca_policies(&self) -> StoreResult<Vec<Policy>>;
    async fn list_named_locations(&self) -> StoreResult<Vec<NamedLocation>>;
    /// Brings this node's copy of both lists up to the database (one read),
    /// so what the next list calls return is current: every change calls it
    /// before it reads what it merges into or checks against.
    async fn catch_up_ca(&self) -> StoreResult<()>;
    /// Inserts or replaces the policy (by id), with the audit entry, in one transaction.
    async fn save_ca_policy(&self, p: &Policy, change: &CaChange) -> StoreResult<()>;
    /// Deletes it with the audit entry; false when it was not there.
    async fn delete_ca_policy(&self, id: &str, change: &CaChange) -> StoreResult<bool>;
    async fn save_named_location(&self, l: &NamedLocation, change: &CaChange) -> StoreResult<()>;
    async fn delete_named_location(&self, id: &str, change: &CaChange) -> StoreResult<bool>;
}

/// Why an edit was refused.
#[derive(Debug, thiserror::Error)]
pub enum CaError {
    /// The Graph JSON is refused; each problem names its field.
    #[error("{0}")]
    Invalid(ImportError),
    #[error("not found")]
    NotFound,
    #[error("{0}")]
    Conflict(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Who makes a change: (`User`|`Application`, id, display name).
pub type ActorRef = (&'static str, String, String);

impl Provider {
    pub async fn ca_policies(&self) -> StoreResult<Vec<Policy>> {
        self.store.list_ca_policies().await
    }

    pub async fn named_locations(&self) -> StoreResult<Vec<NamedLocation>> {
        self.store.list_named_locations().await
    }

    pub async fn ca_policy(&self, id: &str) -> Result<Policy, CaError> {
        self.ca_policies()
            .await?
            .into_iter()
            .find(|p| p.id == id)
            .ok_or(CaError::NotFound)
    }

    pub async fn named_location(&self, id: &str) -> Result<NamedLocation, CaError> {
        self.named_locations()
            .await?
            .into_iter()
            .find(|l| l.id == id)
            .ok_or(CaError::NotFound)
    }

    fn ca_change(
        &self,
        actor: ActorRef,
        activity: &'static str,
        (kind, id, name): (&'static str, &str, &str),
        before: Value,
        after: Value,
    ) -> CaChange {
        CaChange {
            change: SettingsChange {
                at: self.clock.now(),
                actor_kind: actor.0,
                actor_id: actor.1,
                actor_name: actor.2,
                activity,
                before,
                after,
            },
            target_kind: kind,
            target_id: id.to_string(),
            target_name: name.to_string(),
        }
    }

    /// Creates a policy from Graph JSON (an Entra export as-is).
    pub async fn create_ca_policy(&self, body: &Value, actor: ActorRef) -> Result<Policy, CaError> {
        let mut p = Policy::from_graph_json(body).map_err(CaError::Invalid)?;
        self.store.catch_up_ca().await?;
        p.check_references(&self.named_locations().await?)
            .map_err(CaError::Invalid)?;
        let now = self.clock.now();
        p.id = Uuid::now_v7().to_string();
        p.created_date_time = Some(now);
        let change = self.ca_change(
            actor,
            "Add conditional access policy",
            ("ConditionalAccessPolicy", &p.id, &p.display_name),
            Value::Null,
            to_json(&p),
        );
        self.store.save_ca_policy(&p, &change).await?;
        Ok(p)
    }

    /// Graph's PATCH: the fields given replace the stored ones (objects merge
    /// key by key, lists are replaced), then the whole is checked again.
    pub async fn update_ca_policy(
        &self,
        id: &str,
        patch: &Value,
        actor: ActorRef,
    ) -> Result<Policy, CaError> {
        // Merged into what is stored now, not this node's copy of it.
        self.store.catch_up_ca().await?;
        let before = self.ca_policy(id).await?;
        let mut merged = to_json(&before);
        merge_patch(&mut merged, patch);
        let mut p = Policy::from_graph_json(&merged).map_err(CaError::Invalid)?;
        p.check_references(&self.named_locations().await?)
            .map_err(CaError::Invalid)?;
        p.id = before.id.clone();
        p.created_date_time = before.created_date_time;
        p.modified_date_time = Some(self.clock.now());
        let change = self.ca_change(
            actor,
            "Update conditional access policy",
            ("ConditionalAccessPolicy", &p.id, &p.display_name),
            to_json(&before),
            to_json(&p),
        );
        self.store.save_ca_policy(&p, &change).await?;
        Ok(p)
    }

    pub async fn delete_ca_policy(&self, id: &str, actor: ActorRef) -> Result<(), CaError> {
        self.store.catch_up_ca().await?;
        let before = self.ca_policy(id).await?;
        let change = self.ca_change(
            actor,
            "Delete conditional access policy",
            ("ConditionalAccessPolicy", id, &before.display_name),
            to_json(&before),
            Value::Null,
        );
        match self.store.delete_ca_policy(id, &change).await? {
            true => Ok(()),
            false => Err(CaError::NotFound),
        }
    }

    pub async fn create_named_location(
        &self,
        body: &Value,
        actor: ActorRef,
    ) -> Result<NamedLocation, CaError> {
        let mut l = NamedLocation::from_graph_json(body).map_err(CaError::Invalid)?;
        l.id = Uuid::now_v7().to_string();
        let now = self.clock.now();
        l.created_date_time = Some(now);
        l.modified_date_time = Some(now);
        let change = self.ca_change(
            actor,
            "Add named location",
            ("NamedLocation", &l.id, &l.display_name),
            Value::Null,
            to_json(&l),
        );
        self.store.save_named_location(&l, &change).await?;
        Ok(l)
    }

    pub async fn update_named_location(
        &self,
        id: &str,
        patch: &Value,
        actor: ActorRef,
    ) -> Result<NamedLocation, CaError> {
        self.store.catch_up_ca().await?;
        let before = self.named_location(id).await?;
        let mut merged = to_json(&before);
        merge_patch(&mut merged, patch);
        let mut l = NamedLocation::from_graph_json(&merged).map_err(CaError::Invalid)?;
        if std::mem::discriminant(&l.kind) != std::mem::discriminant(&before.kind) {
            return Err(CaError::Conflict(
                "A named location's @odata.type cannot change; create a new one.".into(),
            ));
        }
        l.id = before.id.clone();
        l.created_date_time = before.created_date_time;
        l.modified_date_time = Some(self.clock.now());
        let change = self.ca_change(
            actor,
            "Update named location",
            ("NamedLocation", &l.id, &l.display_name),
            to_json(&before),
            to_json(&l),
        );
        self.store.save_named_location(&l, &change).await?;
        Ok(l)
    }

    /// Refused (409) while a policy names the location, as in Graph.
    pub async fn delete_named_location(&self, id: &str, actor: ActorRef) -> Result<(), CaError> {
        // The policies that name it as stored now: one created on another
        // node within the bound counts.
        self.store.catch_up_ca().await?;
        let before = self.named_location(id).await?;
        let users: Vec<String> = self
            .ca_policies()
            .await?
            .into_iter()
            .filter(|p| {
                p.conditions.locations.as_ref().is_some_and(|l| {
                    l.include_locations
                        .iter()
                        .chain(&l.exclude_locations)
                        .any(|x| x == id)
                })
            })
            .map(|p| p.display_name)
            .collect();
        if !users.is_empty() {
            return Err(CaError::Conflict(format!(
                "The named location is used by these policies: {}. Remove it from them first.",
                users.join(", ")
            )));
        }
        let change = self.ca_change(
            actor,
            "Delete named location",
            ("NamedLocation", id, &before.display_name),
            to_json(&before),
            Value::Null,
        );
        match self.store.delete_named_location(id, &change).await? {
            true => Ok(()),
            false => Err(CaError::NotFound),
        }
    }
}

fn to_json<T: serde::Serialize>(v: &T) -> Value {
    serde_json::to_value(v).unwrap_or_default()
}

/// RFC 7396 JSON merge patch, as Graph's PATCH behaves: `null` removes.
fn merge_patch(target: &mut Value, patch: &Value) {
    match (target, patch) {
        (Value::Object(t), Value::Object(p)) => {
            for (k, v) in p {
                if v.is_null() {
                    t.remove(k);
                } else {
                    merge_patch(t.entry(k.clone()).or_insert(Value::Null), v);
                }
            }
        }
        (t, p) => *t = p.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::merge_patch;
    use serde_json::json;

    #[test]
    fn patches_merge_objects_and_replace_lists() {
        let mut v = json!({"a": {"b": [1, 2], "c": 1}, "d": 1});
        merge_patch(&mut v, &json!({"a": {"b": [3]}, "d": null}));
        assert_eq!(v, json!({"a": {"b": [3], "c": 1}}));
    }
}

/// Where a sign-in's requests come from, as conditional access sees them:
/// kept in the interaction (taken at `/authorize`, refreshed at each resume).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Origin {
    pub ip: Option<String>,
    pub platform: Option<Platform>,
    pub country: Option<String>,
}

impl Origin {
    pub fn of(ctx: &RequestContext) -> Self {
        Origin {
            ip: ctx.ip.clone(),
            platform: ctx.platform,
            country: ctx.country.clone(),
        }
    }
}

/// The denial of a sign-in a policy blocks; the message the user and the
/// app see names the policy ([`blocked_message`]).
pub const BLOCKED: Denial = Denial {
    error: "access_denied",
    code: "conditional_access_blocked",
    explained: true,
    message: "An access policy of this organization blocks this sign-in.",
};

/// What the user is told when `policy` blocks the sign-in: which policy, and
/// what to do.
pub fn blocked_message(policy: &str) -> String {
    format!(
        "The organization's access policy \"{policy}\" blocks this sign-in. \
         Try again from another device or network, or ask the organization's administrator."
    )
}

/// The policy name behind a block, if the decision is one.
pub fn blocking_policy(reasons: &[Reason]) -> Option<&str> {
    reasons.iter().find_map(|r| match r {
        Reason::BlockedByPolicy(name) => Some(name.as_str()),
        _ => None,
    })
}

impl Provider {
    /// The ids of the groups `user_id` is a member of (security or not, as
    /// Entra's conditional access counts them), for `includeGroups` and
    /// `excludeGroups`.
    pub async fn user_group_ids(&self, user_id: Uuid) -> StoreResult<Vec<String>> {
        Ok(self
            .store
            .user_group_ids(user_id, false)
            .await?
            .into_iter()
            .map(|g| g.to_string())
            .collect())
    }

    /// Every policy's verdict on this user signing in to `client_id` from `origin`.
    pub async fn evaluate_access(
        &self,
        user_id: Uuid,
        user_type: UserType,
        client_id: &str,
        origin: &Origin,
    ) -> StoreResult<Vec<PolicyResult>> {
        let policies = self.ca_policies().await?;
        if policies.is_empty() {
            return Ok(Vec::new());
        }
        let locations = self.named_locations().await?;
        let ctx = AccessContext {
            user_id: Some(user_id.to_string()),
            user_type: Some(user_type),
            group_ids: self.user_group_ids(user_id).await?,
            app_id: Some(client_id.to_string()),
            ip: origin.ip.as_deref().and_then(|ip| ip.parse().ok()),
            platform: Some(origin.platform.unwrap_or(Platform::Unknown)),
            country: origin.country.clone(),
        };
        Ok(evaluate(&policies, &locations, &ctx))
    }
}

/// Graph's `appliedConditionalAccessPolicy` for the sign-in log.
pub fn applied_policies(results: &[PolicyResult], mfa_satisfied: bool) -> Vec<AppliedPolicy> {
    results
        .iter()
        .map(|r| AppliedPolicy {
            id: r.id.clone(),
            display_name: r.display_name.clone(),
            result: r.result(mfa_satisfied).as_str().to_string(),
            enforced_grant_controls: r
                .enforced_grant_controls()
                .into_iter()
                .map(str::to_string)
                .collect(),
        })
        .collect()
}

/// What-If's question (`POST …/conditionalAccess/evaluate`): any input may
/// be left out, and is then reported as unknown rather than guessed.
#[derive(Debug, Clone, Default)]
pub struct WhatIf {
    pub user_id: Option<Uuid>,
    pub app_id: Option<String>,
    pub ip: Option<std::net::IpAddr>,
    pub platform: Option<Platform>,
    pub country: Option<String>,
}

/// What-If's answer: every policy's verdict and the inputs that were unknown.
#[derive(Debug, Clone)]
pub struct WhatIfAnswer {
    pub results: Vec<PolicyResult>,
    /// Inputs the question left out (or that named no one: an unknown user).
    pub unknown_inputs: Vec<portico_policy::conditional_access::Input>,
}

/// A draft policy replayed over recorded sign-ins.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReplayReport {
    pub days: i64,
    /// Sign-ins of a known user in the window (the draft was evaluated on each).
    pub evaluated: u64,
    /// The draft applies and blocks.
    pub blocked: u64,
    /// The draft applies and asks MFA the sign-in did not do.
    pub challenged: u64,
    /// The draft applies and asks MFA the sign-in did anyway.
    pub already_mfa: u64,
    pub not_applied: u64,
    /// The record lacks an input the draft needs (older records have no platform).
    pub undecided: u64,
    /// Sign-ins that never identified a user (nothing to evaluate).
    pub skipped: u64,
    /// More sign-ins than the replay reads were in the window (`MAX_REPLAY`).
    pub truncated: bool,
}

/// Most sign-ins one replay reads.
pub const MAX_REPLAY: u64 = 20_000;
/// Longest replay window.
pub const MAX_REPLAY_DAYS: i64 = 90;

fn user_type_of(a: &crate::model::Account) -> UserType {
    if a.user_type == "Guest" {
        UserType::Guest
    } else {
        UserType::Member
    }
}

impl Provider {
    /// What-If: every stored policy, in order, judged on the inputs given.
    pub async fn what_if(&self, q: &WhatIf) -> StoreResult<WhatIfAnswer> {
        use portico_policy::conditional_access::Input;
        let mut unknown = Vec::new();
        let account = match q.user_id {
            Some(id) => self.store.find_account(id).await?,
            None => None,
        };
        if account.is_none() {
            unknown.push(Input::User);
        }
        let mut ctx = AccessContext {
            app_id: q.app_id.clone(),
            ip: q.ip,
            platform: q.platform,
            country: q.country.clone(),
            ..AccessContext::default()
        };
        if let Some(a) = &account {
            ctx.user_id = Some(a.id.to_string());
            ctx.user_type = Some(user_type_of(a));
            ctx.group_ids = self.user_group_ids(a.id).await?;
        }
        for (missing, input) in [
            (ctx.app_id.is_none(), Input::Application),
            (ctx.ip.is_none(), Input::IpAddress),
            (ctx.platform.is_none(), Input::Platform),
            (ctx.country.is_none(), Input::Country),
        ] {
            if missing {
                unknown.push(input);
            }
        }
        let policies = self.ca_policies().await?;
        let locations = self.named_locations().await?;
        Ok(WhatIfAnswer {
            results: evaluate(&policies, &locations, &ctx),
            unknown_inputs: unknown,
        })
    }

    /// Replays a draft policy (Graph JSON, not saved) over the sign-ins of
    /// the last `days` days, as if it were enabled.
    pub async fn replay(&self, draft: &Value, days: i64) -> Result<ReplayReport, CaError> {
        use crate::signin_log::SignInQuery;
        use portico_policy::conditional_access::{Applicability, PolicyState, Requirement};
        if !(1..=MAX_REPLAY_DAYS).contains(&days) {
            return Err(CaError::Conflict(format!(
                "days must be from 1 to {MAX_REPLAY_DAYS}."
            )));
        }
        let mut policy = Policy::from_graph_json(draft).map_err(CaError::Invalid)?;
        let locations = self.named_locations().await?;
        policy
            .check_references(&locations)
            .map_err(CaError::Invalid)?;
        policy.state = PolicyState::Enabled;
        policy.id = "draft".into();
        let since = self.clock.now() - chrono::Duration::days(days);
        let mut report = ReplayReport {
            days,
            ..ReplayReport::default()
        };
        let mut accounts = std::collections::HashMap::new();
        let mut before = None;
        let mut read = 0u64;
        'pages: loop {
            let page = self
                .store
                .list_sign_ins(&SignInQuery {
                    before,
                    limit: 500,
                    ..SignInQuery::default()
                })
                .await?;
            let Some(last) = page.last() else { break };
            before = Some(last.id);
            let full = page.len() == 500;
            for r in page {
                if r.created_at < since {
                    break 'pages;
                }
                read += 1;
                if read > MAX_REPLAY {
                    report.truncated = true;
                    break 'pages;
                }
                let Some(user_id) = r.user_id else {
                    report.skipped += 1;
                    continue;
                };
                if let std::collections::hash_map::Entry::Vacant(e) = accounts.entry(user_id) {
                    let found = self.store.find_account(user_id).await?;
                    e.insert(found.as_ref().map(user_type_of));
                }
                let ctx = AccessContext {
                    user_id: Some(user_id.to_string()),
                    user_type: accounts.get(&user_id).copied().flatten(),
                    group_ids: self.user_group_ids(user_id).await?,
                    app_id: Some(r.client_id.clone()),
                    ip: r.ip_address.as_deref().and_then(|ip| ip.parse().ok()),
                    platform: r.platform.as_deref().and_then(Platform::parse),
                    country: r.country.clone(),
                };
                report.evaluated += 1;
                let result = evaluate(std::slice::from_ref(&policy), &locations, &ctx).remove(0);
                match (&result.applicability, result.requirement) {
                    (Applicability::NotApplied(_), _) => report.not_applied += 1,
                    (Applicability::Undecided, _) => report.undecided += 1,
                    (Applicability::Applies, Requirement::Block) => report.blocked += 1,
                    (Applicability::Applies, Requirement::Mfa) if r.is_multi_factor() => {
                        report.already_mfa += 1
                    }
                    (Applicability::Applies, Requirement::Mfa) => report.challenged += 1,
                }
            }
            if !full {
                break;
            }
        }
        Ok(report)
    }
}
