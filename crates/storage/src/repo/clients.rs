//! `ClientStore`: registered applications.

use super::audit::write_audits;
use super::revoke::{Grants, revoke_grants};
use super::{internal, is_unique_violation, list_from_json, list_to_json};
use crate::Storage;
use crate::entity::{clients, consents};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use portico_core::audit::AuditEntry;
use portico_oidc::model::{AuthMethod, Client, ClientType, GroupMembershipClaims};
use portico_oidc::store::{ClientStore, StoreError, StoreResult};
use sea_orm::ActiveValue::Set;
use sea_orm::{ColumnTrait, DbErr, EntityTrait, QueryFilter, QueryOrder};
use uuid::Uuid;

const DUPLICATE: &str = "A client with this client_id already exists.";

fn client_type_str(t: ClientType) -> &'static str {
    match t {
        ClientType::Confidential => "confidential",
        ClientType::Public => "public",
    }
}

fn parse_client_type(s: &str) -> anyhow::Result<ClientType> {
    match s {
        "confidential" => Ok(ClientType::Confidential),
        "public" => Ok(ClientType::Public),
        other => anyhow::bail!("unknown client_type {other:?}"),
    }
}

fn parse_auth_method(s: &str) -> anyhow::Result<AuthMethod> {
    [
        AuthMethod::ClientSecretBasic,
        AuthMethod::ClientSecretPost,
        AuthMethod::None,
    ]
    .into_iter()
    .find(|m| m.as_str() == s)
    .ok_or_else(|| anyhow::anyhow!("unknown auth_method {s:?}"))
}

fn to_row(c: &Client) -> clients::ActiveModel {
    clients::ActiveModel {
        id: Set(c.id),
        client_id: Set(c.client_id.clone()),
        secret_hash: Set(c.secret_hash.clone()),
        display_name: Set(c.display_name.clone()),
        client_type: Set(client_type_str(c.client_type).to_owned()),
        auth_method: Set(c.auth_method.as_str().to_owned()),
        redirect_uris: Set(list_to_json(&c.redirect_uris)),
        post_logout_redirect_uris: Set(list_to_json(&c.post_logout_redirect_uris)),
        grant_types: Set(list_to_json(&c.grant_types)),
        backchannel_logout_uri: Set(c.backchannel_logout_uri.clone()),
        permissions: Set(list_to_json(&c.permissions)),
        delegated_permissions: Set(list_to_json(&c.delegated_permissions)),
        require_mfa: Set(c.require_mfa),
        first_party: Set(c.first_party),
        require_pkce: Set(c.require_pkce),
        app_role_assignment_required: Set(c.app_role_assignment_required),
        group_membership_claims: Set(c.group_membership_claims.as_str().to_owned()),
        initiate_login_uri: Set(c.initiate_login_uri.clone()),
        logo_uri: Set(c.logo_uri.clone()),
        id_token_signed_response_alg: Set(c
            .id_token_signed_response_alg
            .map(|a| a.as_str().to_owned())),
        created_at: Set(c.created_at),
    }
}

fn from_row(m: clients::Model) -> StoreResult<Client> {
    Ok(Client {
        id: m.id,
        client_id: m.client_id,
        secret_hash: m.secret_hash,
        display_name: m.display_name,
        client_type: parse_client_type(&m.client_type)?,
        auth_method: parse_auth_method(&m.auth_method)?,
        redirect_uris: list_from_json(m.redirect_uris)?,
        post_logout_redirect_uris: list_from_json(m.post_logout_redirect_uris)?,
        grant_types: list_from_json(m.grant_types)?,
        backchannel_logout_uri: m.backchannel_logout_uri,
        permissions: list_from_json(m.permissions)?,
        delegated_permissions: list_from_json(m.delegated_permissions)?,
        require_mfa: m.require_mfa,
        first_party: m.first_party,
        require_pkce: m.require_pkce,
        app_role_assignment_required: m.app_role_assignment_required,
        group_membership_claims: GroupMembershipClaims::parse(&m.group_membership_claims)
            .ok_or_else(|| {
                anyhow::anyhow!(
                    "unknown group_membership_claims {:?}",
                    m.group_membership_claims
                )
            })?,
        initiate_login_uri: m.initiate_login_uri,
        logo_uri: m.logo_uri,
        id_token_signed_response_alg: m
            .id_token_signed_response_alg
            .map(|a| a.parse())
            .transpose()
            .map_err(|e| StoreError::Internal(anyhow::anyhow!("client: {e}")))?,
        created_at: m.created_at,
    })
}

fn write_err(e: DbErr) -> StoreError {
    if is_unique_violation(&e) {
        StoreError::Conflict(DUPLICATE.into())
    } else {
        internal(e)
    }
}

#[async_trait]
impl ClientStore for Storage {
    /// Through this node's cache, never staler than `cache::CHANGE_BOUND`.
    async fn find_client(&self, client_id: &str) -> StoreResult<Option<Client>> {
        let cache = &self.caches.clients;
        self.check_counter(cache).await.map_err(internal)?;
        let (hit, stamp) = cache.read(|m| m.get(client_id).cloned());
        cache.count(hit.is_some());
        if hit.is_some() {
            return Ok(hit);
        }
        let row = clients::Entity::find()
            .filter(clients::Column::ClientId.eq(client_id))
            .one(self.db())
            .await
            .map_err(internal)?;
        let client = row.map(from_row).transpose()?;
        if let Some(c) = &client {
            cache.put(stamp, c.client_id.clone(), c.clone());
        }
        Ok(client)
    }

    async fn find_client_by_id(&self, id: Uuid) -> StoreResult<Option<Client>> {
        let row = clients::Entity::find_by_id(id)
            .one(self.db())
            .await
            .map_err(internal)?;
        row.map(from_row).transpose()
    }

    async fn list_clients(&self) -> StoreResult<Vec<Client>> {
        clients::Entity::find()
            .order_by_asc(clients::Column::CreatedAt)
            .order_by_asc(clients::Column::Id)
            .all(self.db())
            .await
            .map_err(internal)?
            .into_iter()
            .map(from_row)
            .collect()
    }

    async fn create_client(&self, client: &Client, audit: Option<&AuditEntry>) -> StoreResult<()> {
        let tx = self.write_tx().await.map_err(internal)?;
        clients::Entity::insert(to_row(client))
            .exec_without_returning(&tx)
            .await
            .map_err(write_err)?;
        write_audits(&tx, audit.map(std::slice::from_ref).unwrap_or_default())
            .await
            .map_err(internal)?;
        tx.commit().await.map_err(internal)
    }

    async fn update_client(&self, client: &Client, audit: Option<&AuditEntry>) -> StoreResult<()> {
        let mut row = to_row(client);
        row.id = sea_orm::ActiveValue::Unchanged(client.id);
        row.created_at = sea_orm::ActiveValue::NotSet;
        let tx = self.write_tx().await.map_err(internal)?;
        clients::Entity::update_many()
            .set(row)
            .filter(clients::Column::Id.eq(client.id))
            .exec(&tx)
            .await
            .map_err(write_err)?;
        write_audits(&tx, audit.map(std::slice::from_ref).unwrap_or_default())
            .await
            .map_err(internal)?;
        self.commit_change(tx, &self.caches.clients)
            .await
            .map_err(internal)?;
        Ok(())
    }

    async fn delete_client(
        &self,
        id: Uuid,
        now: DateTime<Utc>,
        audit: &AuditEntry,
    ) -> StoreResult<bool> {
        let tx = self.write_tx().await.map_err(internal)?;
        let Some(client) = clients::Entity::find_by_id(id)
            .one(&tx)
            .await
            .map_err(internal)?
        else {
            return Ok(false);
        };
        revoke_grants(&tx, Grants::OfClient(&client.client_id), now)
            .await
            .map_err(internal)?;
        super::groups::forget_resource(&tx, client.id)
            .await
            .map_err(internal)?;
        consents::Entity::delete_many()
            .filter(consents::Column::ClientId.eq(client.client_id.as_str()))
            .exec(&tx)
            .await
            .map_err(internal)?;
        clients::Entity::delete_by_id(id)
            .exec(&tx)
            .await
            .map_err(internal)?;
        write_audits(&tx, std::slice::from_ref(audit))
            .await
            .map_err(internal)?;
        self.commit_change(tx, &self.caches.clients)
            .await
            .map_err(internal)?;
        self.caches.access_checks.clear();
        Ok(true)
    }
}
