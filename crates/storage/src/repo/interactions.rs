//! `InteractionStore`: pending authorization requests, stored as JSON.

use super::internal;
use crate::Storage;
use crate::entity::interactions;
use async_trait::async_trait;
use portico_oidc::interaction::Interaction;
use portico_oidc::store::{InteractionStore, StoreError, StoreResult};
use sea_orm::ActiveValue::Set;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

fn encode(i: &Interaction) -> StoreResult<serde_json::Value> {
    serde_json::to_value(i).map_err(|e| StoreError::Internal(e.into()))
}

#[async_trait]
impl InteractionStore for Storage {
    async fn create_interaction(&self, i: &Interaction) -> StoreResult<()> {
        let row = interactions::ActiveModel {
            id: Set(i.id.clone()),
            data: Set(encode(i)?),
            expires_at: Set(i.expires_at),
        };
        interactions::Entity::insert(row)
            .exec_without_returning(self.db())
            .await
            .map_err(internal)?;
        Ok(())
    }

    async fn find_interaction(&self, id: &str) -> StoreResult<Option<Interaction>> {
        let Some(row) = interactions::Entity::find_by_id(id)
            .one(self.db())
            .await
            .map_err(internal)?
        else {
            return Ok(None);
        };
        let i = serde_json::from_value(row.data).map_err(|e| StoreError::Internal(e.into()))?;
        Ok(Some(i))
    }

    async fn update_interaction(&self, i: &Interaction) -> StoreResult<()> {
        interactions::Entity::update_many()
            .col_expr(interactions::Column::Data, Expr::value(encode(i)?))
            .col_expr(interactions::Column::ExpiresAt, Expr::value(i.expires_at))
            .filter(interactions::Column::Id.eq(i.id.as_str()))
            .exec(self.db())
            .await
            .map_err(internal)?;
        Ok(())
    }

    async fn delete_interaction(&self, id: &str) -> StoreResult<bool> {
        let res = interactions::Entity::delete_by_id(id)
            .exec(self.db())
            .await
            .map_err(internal)?;
        Ok(res.rows_affected > 0)
    }
}
