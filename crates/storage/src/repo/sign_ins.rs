//! `SignInLog`: the sign-in log. Rows are inserted once and read newest first
//! (ids are UUIDv7, so `ORDER BY id DESC` is newest first and `id < before` is
//! a stable keyset page even when sign-ins share a timestamp).
//!
//! Much of a record comes from the browser (user agent) or from an upstream
//! IdP (issuer, display names), so every string is cut to a fixed length and
//! loses its control characters before it is stored: one hostile request can
//! neither bloat the log nor forge a line in an export of it.

use super::{internal, page_limit};
use crate::Storage;
use crate::entity::{sign_in_policy_results, sign_ins};
use async_trait::async_trait;
use portico_oidc::signin_log::{
    AppliedPolicy, INDEXED_POLICY_RESULTS, SignInLog, SignInQuery, SignInRecord, SignInResult,
    StepRecord,
};
use portico_oidc::store::{StoreError, StoreResult};
use sea_orm::ActiveValue::Set;
use sea_orm::sea_query::Query;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, TransactionTrait};
use uuid::Uuid;

/// Longest stored user agent, in characters (Entra keeps about as much).
const USER_AGENT_MAX: usize = 512;
/// Issuers and other URLs.
const URL_MAX: usize = 512;
/// Names, addresses, client ids, `acr` values.
const NAME_MAX: usize = 256;
/// An IPv6 address with a zone is at most 45 + a few characters.
const IP_MAX: usize = 64;
/// Reason codes, step methods, `amr` values, correlation ids.
const CODE_MAX: usize = 128;
const MESSAGE_MAX: usize = 1024;
/// A sign-in has a handful of steps; more means a loop upstream of the log.
const STEPS_MAX: usize = 32;
const AMR_MAX: usize = 16;
/// Conditional access policies recorded per sign-in (the evaluation's cap).
const POLICIES_MAX: usize = 1_000;

/// `s` without control characters, cut to `max` characters (never inside one).
fn bounded(s: &str, max: usize) -> String {
    s.chars().filter(|c| !c.is_control()).take(max).collect()
}

fn bounded_opt(s: &Option<String>, max: usize) -> Option<String> {
    s.as_deref().map(|s| bounded(s, max))
}

fn to_json<T: serde::Serialize>(v: &T) -> StoreResult<serde_json::Value> {
    serde_json::to_value(v).map_err(|e| StoreError::Internal(e.into()))
}

fn from_json<T: serde::de::DeserializeOwned>(v: serde_json::Value) -> StoreResult<T> {
    serde_json::from_value(v).map_err(|e| StoreError::Internal(e.into()))
}

fn to_row(r: &SignInRecord) -> StoreResult<sign_ins::ActiveModel> {
    let steps: Vec<StepRecord> = r
        .steps
        .iter()
        .take(STEPS_MAX)
        .map(|s| StepRecord {
            method: bounded(&s.method, CODE_MAX),
            at: s.at,
            amr: bounded_opt(&s.amr, CODE_MAX),
        })
        .collect();
    let amr: Vec<String> = r
        .amr
        .iter()
        .take(AMR_MAX)
        .map(|a| bounded(a, CODE_MAX))
        .collect();
    let applied: Vec<AppliedPolicy> = r
        .applied_policies
        .iter()
        .take(POLICIES_MAX)
        .map(|p| AppliedPolicy {
            id: bounded(&p.id, CODE_MAX),
            display_name: bounded(&p.display_name, NAME_MAX),
            result: bounded(&p.result, CODE_MAX),
            enforced_grant_controls: p
                .enforced_grant_controls
                .iter()
                .take(AMR_MAX)
                .map(|c| bounded(c, CODE_MAX))
                .collect(),
        })
        .collect();
    Ok(sign_ins::ActiveModel {
        id: Set(r.id),
        created_at: Set(r.created_at),
        user_id: Set(r.user_id),
        user_principal_name: Set(bounded_opt(&r.user_principal_name, NAME_MAX)),
        user_display_name: Set(bounded_opt(&r.user_display_name, NAME_MAX)),
        client_id: Set(bounded(&r.client_id, NAME_MAX)),
        app_display_name: Set(bounded(&r.app_display_name, NAME_MAX)),
        home_idp: Set(bounded_opt(&r.home_idp, URL_MAX)),
        ip_address: Set(bounded_opt(&r.ip_address, IP_MAX)),
        user_agent: Set(bounded_opt(&r.user_agent, USER_AGENT_MAX)),
        steps: Set(to_json(&steps)?),
        amr: Set(to_json(&amr)?),
        acr: Set(bounded_opt(&r.acr, NAME_MAX)),
        result: Set(r.result.as_str().to_owned()),
        failure_reason: Set(bounded_opt(&r.failure_reason, CODE_MAX)),
        failure_message: Set(bounded_opt(&r.failure_message, MESSAGE_MAX)),
        correlation_id: Set(bounded(&r.correlation_id, CODE_MAX)),
        platform: Set(bounded_opt(&r.platform, CODE_MAX)),
        country: Set(bounded_opt(&r.country, CODE_MAX)),
        applied_ca_policies: Set(if applied.is_empty() {
            None
        } else {
            Some(to_json(&applied)?)
        }),
    })
}

/// One index row per policy that applied (as stored: bounded, at most
/// `POLICIES_MAX`, one per policy id).
fn policy_rows(r: &SignInRecord) -> Vec<sign_in_policy_results::ActiveModel> {
    let mut seen = std::collections::HashSet::new();
    r.applied_policies
        .iter()
        .take(POLICIES_MAX)
        .filter(|p| INDEXED_POLICY_RESULTS.contains(&p.result.as_str()))
        .filter(|p| seen.insert(bounded(&p.id, CODE_MAX)))
        .map(|p| sign_in_policy_results::ActiveModel {
            sign_in_id: Set(r.id),
            policy_id: Set(bounded(&p.id, CODE_MAX)),
            result: Set(p.result.clone()),
        })
        .collect()
}

fn from_row(m: sign_ins::Model) -> StoreResult<SignInRecord> {
    let result = SignInResult::parse(&m.result).ok_or_else(|| {
        StoreError::Internal(anyhow::anyhow!(
            "unknown sign-in result {:?} in the database",
            m.result
        ))
    })?;
    Ok(SignInRecord {
        id: m.id,
        created_at: m.created_at,
        user_id: m.user_id,
        user_principal_name: m.user_principal_name,
        user_display_name: m.user_display_name,
        client_id: m.client_id,
        app_display_name: m.app_display_name,
        home_idp: m.home_idp,
        ip_address: m.ip_address,
        user_agent: m.user_agent,
        steps: from_json(m.steps)?,
        amr: from_json(m.amr)?,
        acr: m.acr,
        result,
        failure_reason: m.failure_reason,
        failure_message: m.failure_message,
        correlation_id: m.correlation_id,
        platform: m.platform,
        country: m.country,
        applied_policies: match m.applied_ca_policies {
            Some(v) if !v.is_null() => from_json(v)?,
            _ => vec![],
        },
    })
}

#[async_trait]
impl SignInLog for Storage {
    /// The record and, in the same transaction, the index of the policies
    /// that applied to it.
    async fn record_sign_in(&self, record: &SignInRecord) -> StoreResult<()> {
        let row = to_row(record)?;
        let applied = policy_rows(record);
        if applied.is_empty() {
            sign_ins::Entity::insert(row)
                .exec_without_returning(self.db())
                .await
                .map_err(internal)?;
            return Ok(());
        }
        let tx = self.db().begin().await.map_err(internal)?;
        sign_ins::Entity::insert(row)
            .exec_without_returning(&tx)
            .await
            .map_err(internal)?;
        sign_in_policy_results::Entity::insert_many(applied)
            .exec_without_returning(&tx)
            .await
            .map_err(internal)?;
        tx.commit().await.map_err(internal)
    }

    /// Each filter is an equality on the leading column of an index that ends
    /// in `id`, so the page is read in order from the index.
    async fn list_sign_ins(&self, q: &SignInQuery) -> StoreResult<Vec<SignInRecord>> {
        use sign_ins::Column as C;
        let mut find = sign_ins::Entity::find();
        if let Some(u) = q.user_id {
            find = find.filter(C::UserId.eq(u));
        }
        if let Some(c) = &q.client_id {
            find = find.filter(C::ClientId.eq(c.as_str()));
        }
        if let Some(r) = q.result {
            find = find.filter(C::Result.eq(r.as_str()));
        }
        if let Some(f) = &q.policy_result {
            use sign_in_policy_results::Column as P;
            let mut ids = Query::select();
            ids.column(P::SignInId)
                .from(sign_in_policy_results::Entity)
                .and_where(P::Result.eq(f.result.as_str()));
            if let Some(p) = &f.policy_id {
                ids.and_where(P::PolicyId.eq(p.as_str()));
            }
            if let Some(b) = q.before {
                ids.and_where(P::SignInId.lt(b));
            }
            find = find.filter(C::Id.in_subquery(ids.to_owned()));
        }
        if let Some(b) = q.before {
            find = find.filter(C::Id.lt(b));
        }
        find.order_by_desc(C::Id)
            .limit(page_limit(q.limit))
            .all(self.db())
            .await
            .map_err(internal)?
            .into_iter()
            .map(from_row)
            .collect()
    }

    async fn find_sign_in(&self, id: Uuid) -> StoreResult<Option<SignInRecord>> {
        sign_ins::Entity::find_by_id(id)
            .one(self.db())
            .await
            .map_err(internal)?
            .map(from_row)
            .transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::bounded;

    #[test]
    fn bounded_cuts_on_characters_and_drops_control_characters() {
        assert_eq!(bounded("abc", 5), "abc");
        assert_eq!(bounded("abcdef", 3), "abc");
        assert_eq!(bounded("ééé", 2), "éé");
        assert_eq!(bounded("a\r\nb\u{1b}[0m", 10), "ab[0m");
    }
}
