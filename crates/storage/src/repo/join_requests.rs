//! `JoinRequestRepo` over `group_join_requests`: requests to join a
//! self-service group and their decisions. A request, its audit and the
//! owners' mail are one transaction; so are a decision, the membership it
//! adds, its audits and the requester's mail.

use super::audit::insert_audits;
use super::outbox::enqueue_mail;
use super::{bad_value, db_err, from_json, is_unique_violation, to_json};
use crate::Storage;
use crate::entity::{
    app_owners, app_role_assignments, clients, group_join_requests, group_memberships, groups,
};
use async_trait::async_trait;
use portico_core::OutgoingMail;
use portico_directory::groups::{Group, PrincipalType, Relation};
use portico_directory::join_requests::{JoinRequest, JoinRequestRepo, JoinState, SelfServiceGroup};
use portico_directory::{AuditEntry, DirectoryError};
use sea_orm::ActiveValue::Set;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, ExprTrait, QueryFilter, QueryOrder};
use std::collections::HashMap;
use uuid::Uuid;

fn from_row(m: group_join_requests::Model) -> Result<JoinRequest, DirectoryError> {
    Ok(JoinRequest {
        id: m.id,
        group_id: m.group_id,
        user_id: m.user_id,
        state: JoinState::parse(&m.state).ok_or_else(|| bad_value("state", &m.state))?,
        created_at: m.created_at,
        decided_at: m.decided_at,
        decided_by: m.decided_by.map(from_json).transpose()?,
    })
}

/// Deletes the join requests of a user or a group being deleted (caller's
/// transaction).
pub(crate) async fn forget_join_requests<C: ConnectionTrait>(
    db: &C,
    id: Uuid,
) -> Result<(), sea_orm::DbErr> {
    group_join_requests::Entity::delete_many()
        .filter(
            group_join_requests::Column::UserId
                .eq(id)
                .or(group_join_requests::Column::GroupId.eq(id)),
        )
        .exec(db)
        .await?;
    Ok(())
}

#[async_trait]
impl JoinRequestRepo for Storage {
    async fn self_service_groups(&self) -> Result<Vec<SelfServiceGroup>, DirectoryError> {
        let assigned = app_role_assignments::Entity::find()
            .filter(app_role_assignments::Column::PrincipalType.eq(PrincipalType::Group.as_str()))
            .order_by_asc(app_role_assignments::Column::CreatedAt)
            .all(self.db())
            .await
            .map_err(db_err)?;
        if assigned.is_empty() {
            return Ok(Vec::new());
        }
        let group_ids: Vec<Uuid> = assigned.iter().map(|a| a.principal_id).collect();
        let app_ids: Vec<Uuid> = assigned.iter().map(|a| a.resource_id).collect();
        let group_owners = group_memberships::Entity::find()
            .filter(group_memberships::Column::GroupId.is_in(group_ids.clone()))
            .filter(group_memberships::Column::Relation.eq(Relation::Owner.as_str()))
            .all(self.db())
            .await
            .map_err(db_err)?;
        let app_owner_rows = app_owners::Entity::find()
            .filter(app_owners::Column::ResourceId.is_in(app_ids.clone()))
            .all(self.db())
            .await
            .map_err(db_err)?;
        let groups_by_id: HashMap<Uuid, groups::Model> = groups::Entity::find()
            .filter(groups::Column::Id.is_in(group_ids))
            .all(self.db())
            .await
            .map_err(db_err)?
            .into_iter()
            .map(|g| (g.id, g))
            .collect();
        let app_names: HashMap<Uuid, String> = clients::Entity::find()
            .filter(clients::Column::Id.is_in(app_ids))
            .all(self.db())
            .await
            .map_err(db_err)?
            .into_iter()
            .map(|c| (c.id, c.display_name))
            .collect();
        let mut out = Vec::new();
        for a in assigned {
            let (Some(g), Some(app_name)) = (
                groups_by_id.get(&a.principal_id),
                app_names.get(&a.resource_id),
            ) else {
                continue;
            };
            let managers: Vec<Uuid> = group_owners
                .iter()
                .filter(|m| m.group_id == g.id)
                .filter(|m| {
                    app_owner_rows
                        .iter()
                        .any(|o| o.resource_id == a.resource_id && o.user_id == m.user_id)
                })
                .map(|m| m.user_id)
                .collect();
            if managers.is_empty() {
                continue;
            }
            out.push(SelfServiceGroup {
                app_id: a.resource_id,
                app_name: app_name.clone(),
                group: Group {
                    id: g.id,
                    display_name: g.display_name.clone(),
                    description: g.description.clone(),
                    security_enabled: g.security_enabled,
                    created_at: g.created_at,
                    updated_at: g.updated_at,
                },
                managers,
            });
        }
        Ok(out)
    }

    async fn create_join_request(
        &self,
        r: &JoinRequest,
        audit: &AuditEntry,
        mails: &[OutgoingMail],
    ) -> Result<(), DirectoryError> {
        let tx = self.write_tx().await.map_err(db_err)?;
        let row = group_join_requests::ActiveModel {
            id: Set(r.id),
            group_id: Set(r.group_id),
            user_id: Set(r.user_id),
            state: Set(r.state.as_str().to_string()),
            created_at: Set(r.created_at),
            decided_at: Set(r.decided_at),
            decided_by: Set(r.decided_by.as_ref().map(to_json).transpose()?),
        };
        match group_join_requests::Entity::insert(row)
            .exec_without_returning(&tx)
            .await
        {
            Ok(_) => {}
            Err(e) if is_unique_violation(&e) => {
                return Err(DirectoryError::Conflict(
                    "A request to join this group is already pending.".into(),
                ));
            }
            Err(e) => return Err(db_err(e)),
        }
        insert_audits(&tx, std::slice::from_ref(audit)).await?;
        for m in mails {
            enqueue_mail(&tx, m).await.map_err(db_err)?;
        }
        tx.commit().await.map_err(db_err)
    }

    async fn find_join_request(&self, id: Uuid) -> Result<Option<JoinRequest>, DirectoryError> {
        group_join_requests::Entity::find_by_id(id)
            .one(self.db())
            .await
            .map_err(db_err)?
            .map(from_row)
            .transpose()
    }

    async fn group_join_requests(
        &self,
        group_id: Uuid,
    ) -> Result<Vec<JoinRequest>, DirectoryError> {
        group_join_requests::Entity::find()
            .filter(group_join_requests::Column::GroupId.eq(group_id))
            .order_by_desc(group_join_requests::Column::CreatedAt)
            .order_by_desc(group_join_requests::Column::Id)
            .all(self.db())
            .await
            .map_err(db_err)?
            .into_iter()
            .map(from_row)
            .collect()
    }

    async fn pending_join_requests_of(
        &self,
        user_id: Uuid,
    ) -> Result<Vec<JoinRequest>, DirectoryError> {
        group_join_requests::Entity::find()
            .filter(group_join_requests::Column::UserId.eq(user_id))
            .filter(group_join_requests::Column::State.eq(JoinState::Pending.as_str()))
            .all(self.db())
            .await
            .map_err(db_err)?
            .into_iter()
            .map(from_row)
            .collect()
    }

    async fn decide_join_request(
        &self,
        decided: &JoinRequest,
        audits: &[AuditEntry],
        mail: Option<&OutgoingMail>,
    ) -> Result<bool, DirectoryError> {
        let tx = self.write_tx().await.map_err(db_err)?;
        let decided_by = decided.decided_by.as_ref().map(to_json).transpose()?;
        let res = group_join_requests::Entity::update_many()
            .col_expr(
                group_join_requests::Column::State,
                Expr::value(decided.state.as_str()),
            )
            .col_expr(
                group_join_requests::Column::DecidedAt,
                Expr::value(decided.decided_at),
            )
            .col_expr(
                group_join_requests::Column::DecidedBy,
                Expr::value(decided_by),
            )
            .filter(group_join_requests::Column::Id.eq(decided.id))
            .filter(group_join_requests::Column::State.eq(JoinState::Pending.as_str()))
            .exec(&tx)
            .await
            .map_err(db_err)?;
        if res.rows_affected == 0 {
            return Ok(false);
        }
        if decided.state == JoinState::Approved {
            let row = group_memberships::ActiveModel {
                group_id: Set(decided.group_id),
                relation: Set(Relation::Member.as_str().to_string()),
                user_id: Set(decided.user_id),
                created_at: Set(decided.decided_at.unwrap_or(decided.created_at)),
            };
            // Added meanwhile by an owner or an admin: the request is still approved.
            let exists = group_memberships::Entity::find_by_id((
                decided.group_id,
                Relation::Member.as_str().to_string(),
                decided.user_id,
            ))
            .one(&tx)
            .await
            .map_err(db_err)?
            .is_some();
            if !exists {
                group_memberships::Entity::insert(row)
                    .exec_without_returning(&tx)
                    .await
                    .map_err(db_err)?;
            }
        }
        insert_audits(&tx, audits).await?;
        if let Some(m) = mail {
            enqueue_mail(&tx, m).await.map_err(db_err)?;
        }
        tx.commit().await.map_err(db_err)?;
        Ok(true)
    }
}
