//! `IdpRepo` and `FlowRepo`: trusted upstream identity providers with the
//! domains they serve, and the sign-in flows through them.
//!
//! An IdP and its domains are written in one transaction. A domain is the
//! primary key of `identity_provider_domains`, so the database itself refuses
//! a domain to a second IdP; the repository checks first (inside the
//! transaction, to name the domain) and still maps a unique violation from a
//! concurrent writer to `DomainTaken`.
//!
//! Every change of an IdP or its domains bumps the `identity_providers`
//! counter in its transaction: home-realm discovery and `mfaTrust` (by
//! domain, by issuer) read this node's copy of every IdP ([`IdpIndex`]), at
//! most `cache::CHANGE_BOUND` behind a change made on another node. The admin
//! reads (by id, the list, the issuer check) read the tables.
//!
//! A flow's `state` is consumed and its result claimed by single conditional
//! UPDATEs (`… RETURNING` for the state), so exactly one caller wins each.

use super::audit::write_audits;
use super::{is_unique_violation, list_from_json, list_to_json};
use crate::Storage;
use crate::entity::{federation_flows, identity_provider_domains as domains, identity_providers};
use crate::sealing::idp_secret_context;
use anyhow::anyhow;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use portico_core::audit::AuditEntry;
use portico_federation::{
    FederationFlow, FlowRepo, FlowStatus, IdentityProvider, IdpRepo, StoreError, UpstreamIdentity,
};
use sea_orm::ActiveValue::{NotSet, Set, Unchanged};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder};
use std::collections::HashMap;
use uuid::Uuid;

type StoreResult<T> = Result<T, StoreError>;

/// Any database failure the caller cannot act on.
fn internal(e: DbErr) -> StoreError {
    StoreError::Other(e.into())
}

fn json_err(e: serde_json::Error) -> StoreError {
    StoreError::Other(e.into())
}

/// Writing the `identity_providers` row: its id is fresh or checked, so a
/// unique violation can only be the issuer.
fn idp_write_err(e: DbErr, issuer: &str) -> StoreError {
    if is_unique_violation(&e) {
        StoreError::Other(anyhow!(
            "the issuer {issuer} is already used by another identity provider"
        ))
    } else {
        internal(e)
    }
}

/// Writing a domain row: a unique violation is a concurrent writer that took it.
fn domain_write_err(e: DbErr, domain: &str) -> StoreError {
    if is_unique_violation(&e) {
        StoreError::DomainTaken(domain.to_owned())
    } else {
        internal(e)
    }
}

/// The row of `idp`, its client secret sealed under the master key.
fn idp_to_row(
    storage: &Storage,
    idp: &IdentityProvider,
) -> StoreResult<identity_providers::ActiveModel> {
    Ok(identity_providers::ActiveModel {
        id: Set(idp.id),
        display_name: Set(idp.display_name.clone()),
        issuer: Set(idp.issuer.clone()),
        client_id: Set(idp.client_id.clone()),
        client_secret: Set(storage.seal(&idp_secret_context(idp.id), &idp.client_secret)?),
        scopes: Set(list_to_json(&idp.scopes)),
        claims_mapping: Set(serde_json::to_value(&idp.claims_mapping).map_err(json_err)?),
        enabled: Set(idp.enabled),
        // The policy reads this column back as `portico_policy::MfaTrust`
        // (`repo/policy.rs`); both types have the same JSON shape.
        mfa_trust: Set(idp
            .mfa_trust
            .as_ref()
            .map(serde_json::to_value)
            .transpose()
            .map_err(json_err)?),
        created_at: Set(idp.created_at),
        updated_at: Set(idp.updated_at),
    })
}

fn idp_from_row(
    storage: &Storage,
    m: identity_providers::Model,
    domains: Vec<String>,
) -> StoreResult<IdentityProvider> {
    Ok(IdentityProvider {
        id: m.id,
        display_name: m.display_name,
        issuer: m.issuer,
        client_id: m.client_id,
        client_secret: storage.open(&idp_secret_context(m.id), &m.client_secret)?,
        scopes: list_from_json(m.scopes)?,
        domains,
        claims_mapping: serde_json::from_value(m.claims_mapping).map_err(json_err)?,
        enabled: m.enabled,
        mfa_trust: m
            .mfa_trust
            .filter(|t| !t.is_null())
            .map(serde_json::from_value)
            .transpose()
            .map_err(json_err)?,
        created_at: m.created_at,
        updated_at: m.updated_at,
    })
}

/// The domains of `idp_id`, in alphabetical order (the order they are returned in).
async fn domains_of<C: ConnectionTrait>(db: &C, idp_id: Uuid) -> StoreResult<Vec<String>> {
    Ok(domains::Entity::find()
        .filter(domains::Column::IdpId.eq(idp_id))
        .order_by_asc(domains::Column::Domain)
        .all(db)
        .await
        .map_err(internal)?
        .into_iter()
        .map(|d| d.domain)
        .collect())
}

/// `row` with its domains.
async fn with_domains<C: ConnectionTrait>(
    storage: &Storage,
    db: &C,
    row: identity_providers::Model,
) -> StoreResult<IdentityProvider> {
    let ds = domains_of(db, row.id).await?;
    idp_from_row(storage, row, ds)
}

/// Every IdP row with its domains (each list alphabetical), oldest first; two
/// queries whatever the number of IdPs: the IdPs, then every domain.
async fn rows_with_domains<C: ConnectionTrait>(
    db: &C,
) -> StoreResult<Vec<(identity_providers::Model, Vec<String>)>> {
    let rows = identity_providers::Entity::find()
        .order_by_asc(identity_providers::Column::CreatedAt)
        .order_by_asc(identity_providers::Column::Id)
        .all(db)
        .await
        .map_err(internal)?;
    let mut by_idp: HashMap<Uuid, Vec<String>> = HashMap::new();
    for d in domains::Entity::find()
        .order_by_asc(domains::Column::Domain)
        .all(db)
        .await
        .map_err(internal)?
    {
        by_idp.entry(d.idp_id).or_default().push(d.domain);
    }
    Ok(rows
        .into_iter()
        .map(|r| {
            let ds = by_idp.remove(&r.id).unwrap_or_default();
            (r, ds)
        })
        .collect())
}

/// Every IdP row with its domains, found by domain and by issuer.
#[derive(Default)]
pub(crate) struct IdpIndex {
    idps: Vec<(identity_providers::Model, Vec<String>)>,
    by_domain: HashMap<String, usize>,
    by_issuer: HashMap<String, usize>,
}

impl IdpIndex {
    fn by_domain(&self, domain: &str) -> Option<&(identity_providers::Model, Vec<String>)> {
        self.by_domain.get(domain).map(|&i| &self.idps[i])
    }

    fn by_issuer(&self, issuer: &str) -> Option<&identity_providers::Model> {
        self.by_issuer.get(issuer).map(|&i| &self.idps[i].0)
    }
}

impl Storage {
    /// This node's copy of every IdP (two queries when it has none).
    pub(crate) async fn idp_index(&self) -> StoreResult<std::sync::Arc<IdpIndex>> {
        let load = async {
            let mut index = IdpIndex::default();
            for (i, (row, ds)) in rows_with_domains(self.db()).await?.into_iter().enumerate() {
                index.by_issuer.insert(row.issuer.clone(), i);
                for d in &ds {
                    index.by_domain.insert(d.clone(), i);
                }
                index.idps.push((row, ds));
            }
            Ok(index)
        };
        self.snapshot(&self.caches.idps, internal, load).await
    }

    /// The enabled IdP serving `domain` (exact), by id; from [`IdpIndex`].
    pub(crate) async fn enabled_idp_for_domain(&self, domain: &str) -> StoreResult<Option<Uuid>> {
        Ok(self
            .idp_index()
            .await?
            .by_domain(domain)
            .filter(|(row, _)| row.enabled)
            .map(|(row, _)| row.id))
    }

    /// The `mfaTrust` JSON of the IdP with this issuer; from [`IdpIndex`].
    pub(crate) async fn mfa_trust_of(
        &self,
        issuer: &str,
    ) -> StoreResult<Option<serde_json::Value>> {
        Ok(self
            .idp_index()
            .await?
            .by_issuer(issuer)
            .and_then(|row| row.mfa_trust.clone())
            .filter(|t| !t.is_null()))
    }

    /// Commits a change of an IdP or its domains with a bump of their counter.
    async fn commit_idp_change(&self, tx: sea_orm::DatabaseTransaction) -> StoreResult<()> {
        self.commit_change(tx, &self.caches.idps)
            .await
            .map_err(internal)
    }
}

/// Each of `list` once, in its first position.
fn distinct(list: &[String]) -> Vec<&str> {
    let mut out: Vec<&str> = Vec::with_capacity(list.len());
    for d in list {
        if !out.contains(&d.as_str()) {
            out.push(d);
        }
    }
    out
}

/// The first (alphabetically) of `wanted` that an IdP other than `idp_id` serves.
async fn first_taken<C: ConnectionTrait>(
    db: &C,
    idp_id: Uuid,
    wanted: &[String],
) -> StoreResult<Option<String>> {
    if wanted.is_empty() {
        return Ok(None);
    }
    let taken = domains::Entity::find()
        .filter(domains::Column::Domain.is_in(distinct(wanted)))
        .filter(domains::Column::IdpId.ne(idp_id))
        .order_by_asc(domains::Column::Domain)
        .one(db)
        .await
        .map_err(internal)?;
    Ok(taken.map(|t| t.domain))
}

/// Makes the domains of `idp_id` exactly `wanted`, or refuses, naming it, the
/// first one another IdP serves. Runs inside the caller's write transaction,
/// after the IdP row was written: an error drops (rolls back) all of it. A
/// concurrent writer that takes a domain after the check is still a
/// `DomainTaken`, from the primary key.
async fn replace_domains<C: ConnectionTrait>(
    tx: &C,
    idp_id: Uuid,
    wanted: &[String],
) -> StoreResult<()> {
    if let Some(d) = first_taken(tx, idp_id, wanted).await? {
        return Err(StoreError::DomainTaken(d));
    }
    domains::Entity::delete_many()
        .filter(domains::Column::IdpId.eq(idp_id))
        .exec(tx)
        .await
        .map_err(internal)?;
    // One row at a time: a conflict from a concurrent writer then names its domain.
    for d in distinct(wanted) {
        let row = domains::ActiveModel {
            domain: Set(d.to_owned()),
            idp_id: Set(idp_id),
        };
        domains::Entity::insert(row)
            .exec_without_returning(tx)
            .await
            .map_err(|e| domain_write_err(e, d))?;
    }
    Ok(())
}

fn flow_to_row(f: &FederationFlow) -> StoreResult<federation_flows::ActiveModel> {
    Ok(federation_flows::ActiveModel {
        id: Set(f.id),
        state_hash: Set(f.state_hash.clone()),
        idp_id: Set(f.idp_id),
        purpose: Set(serde_json::to_value(&f.purpose).map_err(json_err)?),
        binding_hash: Set(f.binding_hash.clone()),
        nonce: Set(f.nonce.clone()),
        pkce_verifier: Set(f.pkce_verifier.clone()),
        status: Set(f.status.as_str().to_owned()),
        result: Set(f
            .result
            .as_ref()
            .map(serde_json::to_value)
            .transpose()
            .map_err(json_err)?),
        created_at: Set(f.created_at),
        expires_at: Set(f.expires_at),
    })
}

fn flow_from_row(m: federation_flows::Model) -> StoreResult<FederationFlow> {
    let status = FlowStatus::parse(&m.status).ok_or_else(|| {
        StoreError::Other(anyhow!(
            "unknown federation flow status {:?} in the database",
            m.status
        ))
    })?;
    Ok(FederationFlow {
        id: m.id,
        state_hash: m.state_hash,
        idp_id: m.idp_id,
        purpose: serde_json::from_value(m.purpose).map_err(json_err)?,
        binding_hash: m.binding_hash,
        nonce: m.nonce,
        pkce_verifier: m.pkce_verifier,
        status,
        // Some drivers store "no result" as a JSON null; treat it as absent.
        result: m
            .result
            .filter(|v| !v.is_null())
            .map(serde_json::from_value)
            .transpose()
            .map_err(json_err)?,
        created_at: m.created_at,
        expires_at: m.expires_at,
    })
}

#[async_trait]
impl IdpRepo for Storage {
    async fn create_idp(&self, idp: &IdentityProvider, audit: &AuditEntry) -> StoreResult<()> {
        let tx = self.write_tx().await.map_err(internal)?;
        identity_providers::Entity::insert(idp_to_row(self, idp)?)
            .exec_without_returning(&tx)
            .await
            .map_err(|e| idp_write_err(e, &idp.issuer))?;
        replace_domains(&tx, idp.id, &idp.domains).await?;
        write_audits(&tx, std::slice::from_ref(audit))
            .await
            .map_err(internal)?;
        self.commit_idp_change(tx).await
    }

    async fn find_idp(&self, id: Uuid) -> StoreResult<Option<IdentityProvider>> {
        let Some(row) = identity_providers::Entity::find_by_id(id)
            .one(self.db())
            .await
            .map_err(internal)?
        else {
            return Ok(None);
        };
        with_domains(self, self.db(), row).await.map(Some)
    }

    async fn list_idps(&self) -> StoreResult<Vec<IdentityProvider>> {
        rows_with_domains(self.db())
            .await?
            .into_iter()
            .map(|(r, ds)| idp_from_row(self, r, ds))
            .collect()
    }

    /// Every column but `id` and `created_at` is replaced, and the domain set
    /// with it.
    async fn update_idp(&self, idp: &IdentityProvider, audit: &AuditEntry) -> StoreResult<bool> {
        let tx = self.write_tx().await.map_err(internal)?;
        let exists = identity_providers::Entity::find_by_id(idp.id)
            .one(&tx)
            .await
            .map_err(internal)?
            .is_some();
        if !exists {
            return Ok(false);
        }
        let mut row = idp_to_row(self, idp)?;
        row.id = Unchanged(idp.id);
        row.created_at = NotSet;
        identity_providers::Entity::update_many()
            .set(row)
            .filter(identity_providers::Column::Id.eq(idp.id))
            .exec(&tx)
            .await
            .map_err(|e| idp_write_err(e, &idp.issuer))?;
        replace_domains(&tx, idp.id, &idp.domains).await?;
        write_audits(&tx, std::slice::from_ref(audit))
            .await
            .map_err(internal)?;
        self.commit_idp_change(tx).await?;
        Ok(true)
    }

    /// The domains and flows go with it (the foreign keys cascade too, but
    /// the repository does not rely on them).
    async fn delete_idp(&self, id: Uuid, audit: &AuditEntry) -> StoreResult<bool> {
        let tx = self.write_tx().await.map_err(internal)?;
        federation_flows::Entity::delete_many()
            .filter(federation_flows::Column::IdpId.eq(id))
            .exec(&tx)
            .await
            .map_err(internal)?;
        domains::Entity::delete_many()
            .filter(domains::Column::IdpId.eq(id))
            .exec(&tx)
            .await
            .map_err(internal)?;
        let res = identity_providers::Entity::delete_by_id(id)
            .exec(&tx)
            .await
            .map_err(internal)?;
        if res.rows_affected == 0 {
            return Ok(false);
        }
        write_audits(&tx, std::slice::from_ref(audit))
            .await
            .map_err(internal)?;
        self.commit_idp_change(tx).await?;
        Ok(true)
    }

    /// From this node's [`IdpIndex`] (sign-in: home-realm discovery).
    async fn find_idp_by_domain(&self, domain: &str) -> StoreResult<Option<IdentityProvider>> {
        let index = self.idp_index().await?;
        index
            .by_domain(domain)
            .map(|(row, ds)| idp_from_row(self, row.clone(), ds.clone()))
            .transpose()
    }

    async fn find_idp_by_issuer(&self, issuer: &str) -> StoreResult<Option<IdentityProvider>> {
        let Some(row) = identity_providers::Entity::find()
            .filter(identity_providers::Column::Issuer.eq(issuer))
            .one(self.db())
            .await
            .map_err(internal)?
        else {
            return Ok(None);
        };
        with_domains(self, self.db(), row).await.map(Some)
    }
}

fn status_is(s: FlowStatus) -> sea_orm::sea_query::SimpleExpr {
    federation_flows::Column::Status.eq(s.as_str())
}

#[async_trait]
impl FlowRepo for Storage {
    async fn create_flow(&self, flow: &FederationFlow) -> StoreResult<()> {
        federation_flows::Entity::insert(flow_to_row(flow)?)
            .exec_without_returning(self.db())
            .await
            .map_err(internal)?;
        Ok(())
    }

    /// One conditional UPDATE … RETURNING: the winner gets the row back,
    /// everyone else (and an unknown, used or expired state) gets `None`.
    async fn consume_flow_state(
        &self,
        state_hash: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<FederationFlow>> {
        let won = federation_flows::Entity::update_many()
            .col_expr(
                federation_flows::Column::Status,
                Expr::value(FlowStatus::Returned.as_str()),
            )
            .filter(federation_flows::Column::StateHash.eq(state_hash))
            .filter(status_is(FlowStatus::Pending))
            .filter(federation_flows::Column::ExpiresAt.gt(now))
            .exec_with_returning(self.db())
            .await
            .map_err(internal)?;
        won.into_iter().next().map(flow_from_row).transpose()
    }

    /// Only a `returned` flow can be completed; any other is an error (the
    /// state was never consumed, or the flow was already completed).
    async fn complete_flow(&self, id: Uuid, result: &UpstreamIdentity) -> StoreResult<()> {
        let result = serde_json::to_value(result).map_err(json_err)?;
        let res = federation_flows::Entity::update_many()
            .col_expr(
                federation_flows::Column::Status,
                Expr::value(FlowStatus::Completed.as_str()),
            )
            .col_expr(federation_flows::Column::Result, Expr::value(result))
            .filter(federation_flows::Column::Id.eq(id))
            .filter(status_is(FlowStatus::Returned))
            .exec(self.db())
            .await
            .map_err(internal)?;
        if res.rows_affected == 0 {
            return Err(StoreError::Other(anyhow!(
                "the federation flow {id} is unknown or not waiting for its result"
            )));
        }
        Ok(())
    }

    async fn find_flow(&self, id: Uuid) -> StoreResult<Option<FederationFlow>> {
        let row = federation_flows::Entity::find_by_id(id)
            .one(self.db())
            .await
            .map_err(internal)?;
        row.map(flow_from_row).transpose()
    }

    /// One conditional UPDATE; the affected row count decides the winner.
    async fn claim_flow(&self, id: Uuid, now: DateTime<Utc>) -> StoreResult<bool> {
        let res = federation_flows::Entity::update_many()
            .col_expr(
                federation_flows::Column::Status,
                Expr::value(FlowStatus::Claimed.as_str()),
            )
            .filter(federation_flows::Column::Id.eq(id))
            .filter(status_is(FlowStatus::Completed))
            .filter(federation_flows::Column::ExpiresAt.gt(now))
            .exec(self.db())
            .await
            .map_err(internal)?;
        Ok(res.rows_affected == 1)
    }
}
