//! `SessionStore` and `ConsentStore`.

use super::backchannel::end_sessions;
use super::revoke::{Grants, revoke_grants};
use super::{internal, list_from_json, list_to_json};
use crate::Storage;
use crate::entity::{consents, sessions};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use portico_oidc::model::{Authentication, Consent, Session};
use portico_oidc::store::{ConsentStore, SessionStore, StoreError, StoreResult};
use sea_orm::ActiveValue::Set;
use sea_orm::sea_query::OnConflict;
use sea_orm::{ColumnTrait, Condition, EntityTrait, QueryFilter, QueryOrder};
use uuid::Uuid;

fn session_from_row(m: sessions::Model) -> StoreResult<Session> {
    Ok(Session {
        id_hash: m.id_hash,
        sid: m.sid,
        auth: Authentication {
            user_id: m.user_id,
            auth_time: m.auth_time,
            amr: list_from_json(m.amr)?,
            idp: m.idp,
            detail: m
                .detail
                .filter(|d| !d.is_null())
                .map(serde_json::from_value)
                .transpose()
                .map_err(|e| StoreError::Internal(e.into()))?
                .unwrap_or_default(),
        },
        created_at: m.created_at,
        expires_at: m.expires_at,
    })
}

#[async_trait]
impl SessionStore for Storage {
    async fn create_session(&self, s: &Session) -> StoreResult<()> {
        let row = sessions::ActiveModel {
            id_hash: Set(s.id_hash.clone()),
            sid: Set(s.sid.clone()),
            user_id: Set(s.auth.user_id),
            auth_time: Set(s.auth.auth_time),
            amr: Set(list_to_json(&s.auth.amr)),
            idp: Set(s.auth.idp.clone()),
            detail: Set(Some(
                serde_json::to_value(&s.auth.detail).map_err(|e| StoreError::Internal(e.into()))?,
            )),
            created_at: Set(s.created_at),
            expires_at: Set(s.expires_at),
        };
        sessions::Entity::insert(row)
            .exec_without_returning(self.db())
            .await
            .map_err(internal)?;
        Ok(())
    }

    async fn find_session(&self, id_hash: &str) -> StoreResult<Option<Session>> {
        let row = sessions::Entity::find_by_id(id_hash)
            .one(self.db())
            .await
            .map_err(internal)?;
        row.map(session_from_row).transpose()
    }

    /// Ends it and queues its back-channel logouts, in one transaction.
    async fn end_session(&self, id_hash: &str, now: DateTime<Utc>) -> StoreResult<()> {
        let tx = self.write_tx().await.map_err(internal)?;
        let which = Condition::all().add(sessions::Column::IdHash.eq(id_hash));
        end_sessions(&tx, which, now).await.map_err(internal)?;
        tx.commit().await.map_err(internal)
    }
}

#[async_trait]
impl ConsentStore for Storage {
    async fn find_consent(&self, user_id: Uuid, client_id: &str) -> StoreResult<Option<Consent>> {
        let Some(m) = consents::Entity::find_by_id((user_id, client_id.to_owned()))
            .one(self.db())
            .await
            .map_err(internal)?
        else {
            return Ok(None);
        };
        Ok(Some(Consent {
            user_id: m.user_id,
            client_id: m.client_id,
            scopes: list_from_json(m.scopes)?,
            granted_at: m.granted_at,
            privacy_version: m.privacy_version,
        }))
    }

    /// Insert or replace: a new consent supersedes the previous one.
    async fn save_consent(&self, c: &Consent) -> StoreResult<()> {
        let row = consents::ActiveModel {
            user_id: Set(c.user_id),
            client_id: Set(c.client_id.clone()),
            scopes: Set(list_to_json(&c.scopes)),
            granted_at: Set(c.granted_at),
            privacy_version: Set(c.privacy_version.clone()),
        };
        consents::Entity::insert(row)
            .on_conflict(
                OnConflict::columns([consents::Column::UserId, consents::Column::ClientId])
                    .update_columns([
                        consents::Column::Scopes,
                        consents::Column::GrantedAt,
                        consents::Column::PrivacyVersion,
                    ])
                    .to_owned(),
            )
            .exec_without_returning(self.db())
            .await
            .map_err(internal)?;
        Ok(())
    }

    async fn list_consents(&self, user_id: Uuid) -> StoreResult<Vec<Consent>> {
        consents::Entity::find()
            .filter(consents::Column::UserId.eq(user_id))
            .order_by_asc(consents::Column::GrantedAt)
            .all(self.db())
            .await
            .map_err(internal)?
            .into_iter()
            .map(|m| {
                Ok(Consent {
                    user_id: m.user_id,
                    client_id: m.client_id,
                    scopes: list_from_json(m.scopes)?,
                    granted_at: m.granted_at,
                    privacy_version: m.privacy_version,
                })
            })
            .collect()
    }

    async fn revoke_consent(
        &self,
        user_id: Uuid,
        client_id: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<bool> {
        let tx = self.write_tx().await.map_err(internal)?;
        let res = consents::Entity::delete_many()
            .filter(consents::Column::UserId.eq(user_id))
            .filter(consents::Column::ClientId.eq(client_id))
            .exec(&tx)
            .await
            .map_err(internal)?;
        if res.rows_affected == 0 {
            return Ok(false);
        }
        revoke_grants(&tx, Grants::OfUserAtClient(user_id, client_id), now)
            .await
            .map_err(internal)?;
        tx.commit().await.map_err(internal)?;
        self.caches.access_checks.clear();
        Ok(true)
    }
}
