//! Groups, memberships and app role assignments: `GroupRepo` and
//! `AssignmentRepo` (directory) and `GroupStore` (provider), over `groups`,
//! `group_memberships` and `app_role_assignments`. Every write carries its
//! audit entry into the same transaction.

use super::audit::insert_audits;
use super::user_rows::with_identities;
use super::{db_err, internal, is_unique_violation, page_limit};
use crate::Storage;
use crate::entity::{app_owners, app_role_assignments, clients, group_memberships, groups, users};
use async_trait::async_trait;
use portico_directory::groups::{
    AccessVia, AppRoleAssignment, AssignmentRepo, Group, GroupRepo, PrincipalType, Relation,
    UserAppAccess,
};
use portico_directory::{AuditEntry, DirectoryError, User};
use portico_oidc::store::{GroupStore, StoreResult};
use sea_orm::ActiveValue::Set;
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
};
use std::collections::HashMap;
use uuid::Uuid;

fn group_row(g: &Group) -> groups::ActiveModel {
    groups::ActiveModel {
        id: Set(g.id),
        display_name: Set(g.display_name.clone()),
        description: Set(g.description.clone()),
        security_enabled: Set(g.security_enabled),
        created_at: Set(g.created_at),
        updated_at: Set(g.updated_at),
    }
}

fn group_from(m: groups::Model) -> Group {
    Group {
        id: m.id,
        display_name: m.display_name,
        description: m.description,
        security_enabled: m.security_enabled,
        created_at: m.created_at,
        updated_at: m.updated_at,
    }
}

/// Deletes every membership of `user_id` and every assignment to it (the
/// user is being deleted, in the caller's transaction).
pub(crate) async fn forget_principal<C: ConnectionTrait>(
    db: &C,
    principal_id: Uuid,
) -> Result<(), sea_orm::DbErr> {
    group_memberships::Entity::delete_many()
        .filter(group_memberships::Column::UserId.eq(principal_id))
        .exec(db)
        .await?;
    app_role_assignments::Entity::delete_many()
        .filter(app_role_assignments::Column::PrincipalId.eq(principal_id))
        .exec(db)
        .await?;
    app_owners::Entity::delete_many()
        .filter(app_owners::Column::UserId.eq(principal_id))
        .exec(db)
        .await?;
    super::join_requests::forget_join_requests(db, principal_id).await?;
    Ok(())
}

/// Makes `user_id` a member of `group_id` in the caller's transaction:
/// `Ok(true)` when the membership is new, `Ok(false)` when it was already
/// there, and an `Invalid` error when the group no longer exists.
pub(crate) async fn join_group<C: ConnectionTrait>(
    db: &C,
    group_id: Uuid,
    user_id: Uuid,
    at: chrono::DateTime<chrono::Utc>,
) -> Result<bool, DirectoryError> {
    let there = groups::Entity::find_by_id(group_id)
        .count(db)
        .await
        .map_err(db_err)?
        > 0;
    if !there {
        return Err(DirectoryError::Invalid(format!(
            "The group {group_id} no longer exists."
        )));
    }
    let row = group_memberships::ActiveModel {
        group_id: Set(group_id),
        relation: Set(Relation::Member.as_str().to_string()),
        user_id: Set(user_id),
        created_at: Set(at),
    };
    let inserted = group_memberships::Entity::insert(row)
        .on_conflict(
            sea_orm::sea_query::OnConflict::columns([
                group_memberships::Column::GroupId,
                group_memberships::Column::Relation,
                group_memberships::Column::UserId,
            ])
            .do_nothing()
            .to_owned(),
        )
        .exec_without_returning(db)
        .await
        .map_err(db_err)?;
    Ok(inserted > 0)
}

/// Deletes the assignments of an application being deleted (caller's transaction).
pub(crate) async fn forget_resource<C: ConnectionTrait>(
    db: &C,
    resource_id: Uuid,
) -> Result<(), sea_orm::DbErr> {
    app_role_assignments::Entity::delete_many()
        .filter(app_role_assignments::Column::ResourceId.eq(resource_id))
        .exec(db)
        .await?;
    app_owners::Entity::delete_many()
        .filter(app_owners::Column::ResourceId.eq(resource_id))
        .exec(db)
        .await?;
    Ok(())
}

impl Storage {
    /// The ids of the groups `user_id` is a direct member of, ascending (with
    /// `security_only`, security groups only). The one query behind
    /// `GroupRepo::user_group_ids` (directory) and `GroupStore` (provider):
    /// conditional access, the `groups` claim and assignments through groups.
    pub async fn user_group_ids(
        &self,
        user_id: Uuid,
        security_only: bool,
    ) -> Result<Vec<Uuid>, sea_orm::DbErr> {
        let mut ids: Vec<Uuid> = group_memberships::Entity::find()
            .select_only()
            .column(group_memberships::Column::GroupId)
            .filter(group_memberships::Column::UserId.eq(user_id))
            .filter(group_memberships::Column::Relation.eq(Relation::Member.as_str()))
            .into_tuple()
            .all(self.db())
            .await?;
        if security_only && !ids.is_empty() {
            ids = groups::Entity::find()
                .select_only()
                .column(groups::Column::Id)
                .filter(groups::Column::Id.is_in(ids))
                .filter(groups::Column::SecurityEnabled.eq(true))
                .into_tuple()
                .all(self.db())
                .await?;
        }
        ids.sort();
        Ok(ids)
    }

    async fn principal_names(
        &self,
        rows: &[app_role_assignments::Model],
    ) -> Result<HashMap<Uuid, String>, DirectoryError> {
        let ids: Vec<Uuid> = rows.iter().map(|r| r.principal_id).collect();
        let mut names = HashMap::new();
        if ids.is_empty() {
            return Ok(names);
        }
        let us: Vec<(Uuid, String)> = users::Entity::find()
            .select_only()
            .column(users::Column::Id)
            .column(users::Column::DisplayName)
            .filter(users::Column::Id.is_in(ids.clone()))
            .into_tuple()
            .all(self.db())
            .await
            .map_err(db_err)?;
        let gs: Vec<(Uuid, String)> = groups::Entity::find()
            .select_only()
            .column(groups::Column::Id)
            .column(groups::Column::DisplayName)
            .filter(groups::Column::Id.is_in(ids))
            .into_tuple()
            .all(self.db())
            .await
            .map_err(db_err)?;
        names.extend(us);
        names.extend(gs);
        Ok(names)
    }

    async fn assignments_from(
        &self,
        rows: Vec<app_role_assignments::Model>,
    ) -> Result<Vec<AppRoleAssignment>, DirectoryError> {
        let names = self.principal_names(&rows).await?;
        let resource_ids: Vec<Uuid> = rows.iter().map(|r| r.resource_id).collect();
        let apps: HashMap<Uuid, String> = clients::Entity::find()
            .select_only()
            .column(clients::Column::Id)
            .column(clients::Column::DisplayName)
            .filter(clients::Column::Id.is_in(resource_ids))
            .into_tuple::<(Uuid, String)>()
            .all(self.db())
            .await
            .map_err(db_err)?
            .into_iter()
            .collect();
        rows.into_iter()
            .map(|r| {
                Ok(AppRoleAssignment {
                    id: r.id,
                    principal_id: r.principal_id,
                    principal_type: PrincipalType::parse(&r.principal_type)
                        .ok_or_else(|| super::bad_value("principal_type", &r.principal_type))?,
                    principal_display_name: names.get(&r.principal_id).cloned().unwrap_or_default(),
                    resource_id: r.resource_id,
                    resource_display_name: apps.get(&r.resource_id).cloned().unwrap_or_default(),
                    app_role_id: r.app_role_id,
                    created_at: r.created_at,
                })
            })
            .collect()
    }
}

#[async_trait]
impl GroupRepo for Storage {
    async fn create_group(&self, g: &Group, audit: &AuditEntry) -> Result<(), DirectoryError> {
        let tx = self.write_tx().await.map_err(db_err)?;
        groups::Entity::insert(group_row(g))
            .exec_without_returning(&tx)
            .await
            .map_err(db_err)?;
        insert_audits(&tx, std::slice::from_ref(audit)).await?;
        tx.commit().await.map_err(db_err)
    }

    async fn find_group(&self, id: Uuid) -> Result<Option<Group>, DirectoryError> {
        Ok(groups::Entity::find_by_id(id)
            .one(self.db())
            .await
            .map_err(db_err)?
            .map(group_from))
    }

    async fn list_groups(
        &self,
        after: Option<Uuid>,
        limit: u64,
    ) -> Result<Vec<Group>, DirectoryError> {
        let mut find = groups::Entity::find();
        if let Some(a) = after {
            find = find.filter(groups::Column::Id.gt(a));
        }
        Ok(find
            .order_by_asc(groups::Column::Id)
            .limit(page_limit(limit))
            .all(self.db())
            .await
            .map_err(db_err)?
            .into_iter()
            .map(group_from)
            .collect())
    }

    async fn update_group(&self, g: &Group, audit: &AuditEntry) -> Result<(), DirectoryError> {
        let tx = self.write_tx().await.map_err(db_err)?;
        let mut row = group_row(g);
        row.created_at = sea_orm::ActiveValue::NotSet;
        let res = groups::Entity::update_many()
            .set(row)
            .filter(groups::Column::Id.eq(g.id))
            .exec(&tx)
            .await
            .map_err(db_err)?;
        if res.rows_affected == 0 {
            return Err(DirectoryError::NotFound);
        }
        insert_audits(&tx, std::slice::from_ref(audit)).await?;
        tx.commit().await.map_err(db_err)
    }

    async fn delete_group(&self, id: Uuid, audit: &AuditEntry) -> Result<bool, DirectoryError> {
        let tx = self.write_tx().await.map_err(db_err)?;
        group_memberships::Entity::delete_many()
            .filter(group_memberships::Column::GroupId.eq(id))
            .exec(&tx)
            .await
            .map_err(db_err)?;
        app_role_assignments::Entity::delete_many()
            .filter(app_role_assignments::Column::PrincipalId.eq(id))
            .exec(&tx)
            .await
            .map_err(db_err)?;
        super::join_requests::forget_join_requests(&tx, id)
            .await
            .map_err(db_err)?;
        let res = groups::Entity::delete_by_id(id)
            .exec(&tx)
            .await
            .map_err(db_err)?;
        if res.rows_affected == 0 {
            return Ok(false);
        }
        insert_audits(&tx, std::slice::from_ref(audit)).await?;
        tx.commit().await.map_err(db_err)?;
        Ok(true)
    }

    async fn add_to_group(
        &self,
        group_id: Uuid,
        relation: Relation,
        user_id: Uuid,
        audit: &AuditEntry,
    ) -> Result<bool, DirectoryError> {
        let tx = self.write_tx().await.map_err(db_err)?;
        // The group and the user must still exist when the row is written.
        let group_there = groups::Entity::find_by_id(group_id)
            .count(&tx)
            .await
            .map_err(db_err)?
            > 0;
        let user_there = users::Entity::find_by_id(user_id)
            .count(&tx)
            .await
            .map_err(db_err)?
            > 0;
        if !group_there || !user_there {
            return Err(DirectoryError::NotFound);
        }
        let row = group_memberships::ActiveModel {
            group_id: Set(group_id),
            relation: Set(relation.as_str().to_string()),
            user_id: Set(user_id),
            created_at: Set(audit.at),
        };
        match group_memberships::Entity::insert(row)
            .exec_without_returning(&tx)
            .await
        {
            Ok(_) => {}
            Err(e) if is_unique_violation(&e) => return Ok(false),
            Err(e) => return Err(db_err(e)),
        }
        insert_audits(&tx, std::slice::from_ref(audit)).await?;
        tx.commit().await.map_err(db_err)?;
        Ok(true)
    }

    async fn remove_from_group(
        &self,
        group_id: Uuid,
        relation: Relation,
        user_id: Uuid,
        audit: &AuditEntry,
    ) -> Result<bool, DirectoryError> {
        let tx = self.write_tx().await.map_err(db_err)?;
        let res = group_memberships::Entity::delete_many()
            .filter(group_memberships::Column::GroupId.eq(group_id))
            .filter(group_memberships::Column::Relation.eq(relation.as_str()))
            .filter(group_memberships::Column::UserId.eq(user_id))
            .exec(&tx)
            .await
            .map_err(db_err)?;
        if res.rows_affected == 0 {
            return Ok(false);
        }
        insert_audits(&tx, std::slice::from_ref(audit)).await?;
        tx.commit().await.map_err(db_err)?;
        Ok(true)
    }

    async fn group_users(
        &self,
        group_id: Uuid,
        relation: Relation,
    ) -> Result<Vec<User>, DirectoryError> {
        let ids: Vec<Uuid> = group_memberships::Entity::find()
            .select_only()
            .column(group_memberships::Column::UserId)
            .filter(group_memberships::Column::GroupId.eq(group_id))
            .filter(group_memberships::Column::Relation.eq(relation.as_str()))
            .into_tuple()
            .all(self.db())
            .await
            .map_err(db_err)?;
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let rows = users::Entity::find()
            .filter(users::Column::Id.is_in(ids))
            .order_by_asc(users::Column::Id)
            .all(self.db())
            .await
            .map_err(db_err)?;
        with_identities(self.db(), rows).await
    }

    async fn groups_of_user(
        &self,
        user_id: Uuid,
        relation: Relation,
    ) -> Result<Vec<Group>, DirectoryError> {
        let ids: Vec<Uuid> = group_memberships::Entity::find()
            .select_only()
            .column(group_memberships::Column::GroupId)
            .filter(group_memberships::Column::UserId.eq(user_id))
            .filter(group_memberships::Column::Relation.eq(relation.as_str()))
            .into_tuple()
            .all(self.db())
            .await
            .map_err(db_err)?;
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        Ok(groups::Entity::find()
            .filter(groups::Column::Id.is_in(ids))
            .order_by_asc(groups::Column::Id)
            .all(self.db())
            .await
            .map_err(db_err)?
            .into_iter()
            .map(group_from)
            .collect())
    }

    async fn user_group_ids(&self, user_id: Uuid) -> Result<Vec<Uuid>, DirectoryError> {
        Storage::user_group_ids(self, user_id, false)
            .await
            .map_err(db_err)
    }
}

#[async_trait]
impl AssignmentRepo for Storage {
    async fn application_name(&self, resource_id: Uuid) -> Result<Option<String>, DirectoryError> {
        clients::Entity::find_by_id(resource_id)
            .select_only()
            .column(clients::Column::DisplayName)
            .into_tuple()
            .one(self.db())
            .await
            .map_err(db_err)
    }

    async fn create_assignment(
        &self,
        a: &AppRoleAssignment,
        audit: &AuditEntry,
    ) -> Result<(), DirectoryError> {
        let tx = self.write_tx().await.map_err(db_err)?;
        let row = app_role_assignments::ActiveModel {
            id: Set(a.id),
            resource_id: Set(a.resource_id),
            principal_id: Set(a.principal_id),
            principal_type: Set(a.principal_type.as_str().to_string()),
            app_role_id: Set(a.app_role_id),
            created_at: Set(a.created_at),
        };
        app_role_assignments::Entity::insert(row)
            .exec_without_returning(&tx)
            .await
            .map_err(|e| {
                if is_unique_violation(&e) {
                    DirectoryError::Conflict(
                        "The principal already has this role on the application.".into(),
                    )
                } else {
                    db_err(e)
                }
            })?;
        insert_audits(&tx, std::slice::from_ref(audit)).await?;
        tx.commit().await.map_err(db_err)
    }

    async fn list_assignments(
        &self,
        resource_id: Uuid,
    ) -> Result<Vec<AppRoleAssignment>, DirectoryError> {
        let rows = app_role_assignments::Entity::find()
            .filter(app_role_assignments::Column::ResourceId.eq(resource_id))
            .order_by_asc(app_role_assignments::Column::Id)
            .all(self.db())
            .await
            .map_err(db_err)?;
        self.assignments_from(rows).await
    }

    async fn principal_assignments(
        &self,
        principal_id: Uuid,
    ) -> Result<Vec<AppRoleAssignment>, DirectoryError> {
        let rows = app_role_assignments::Entity::find()
            .filter(app_role_assignments::Column::PrincipalId.eq(principal_id))
            .order_by_asc(app_role_assignments::Column::Id)
            .all(self.db())
            .await
            .map_err(db_err)?;
        self.assignments_from(rows).await
    }

    async fn find_assignment(
        &self,
        resource_id: Uuid,
        id: Uuid,
    ) -> Result<Option<AppRoleAssignment>, DirectoryError> {
        let rows = app_role_assignments::Entity::find_by_id(id)
            .filter(app_role_assignments::Column::ResourceId.eq(resource_id))
            .all(self.db())
            .await
            .map_err(db_err)?;
        Ok(self.assignments_from(rows).await?.into_iter().next())
    }

    async fn delete_assignment(
        &self,
        resource_id: Uuid,
        id: Uuid,
        audit: &AuditEntry,
    ) -> Result<bool, DirectoryError> {
        let tx = self.write_tx().await.map_err(db_err)?;
        let res = app_role_assignments::Entity::delete_many()
            .filter(app_role_assignments::Column::Id.eq(id))
            .filter(app_role_assignments::Column::ResourceId.eq(resource_id))
            .exec(&tx)
            .await
            .map_err(db_err)?;
        if res.rows_affected == 0 {
            return Ok(false);
        }
        insert_audits(&tx, std::slice::from_ref(audit)).await?;
        tx.commit().await.map_err(db_err)?;
        Ok(true)
    }

    async fn user_app_access(&self, user_id: Uuid) -> Result<Vec<UserAppAccess>, DirectoryError> {
        let group_ids = Storage::user_group_ids(self, user_id, false)
            .await
            .map_err(db_err)?;
        let mut principals = group_ids.clone();
        principals.push(user_id);
        let rows = app_role_assignments::Entity::find()
            .filter(app_role_assignments::Column::PrincipalId.is_in(principals))
            .order_by_asc(app_role_assignments::Column::Id)
            .all(self.db())
            .await
            .map_err(db_err)?;
        let names = self.principal_names(&rows).await?;
        Ok(rows
            .into_iter()
            .map(|r| UserAppAccess {
                resource_id: r.resource_id,
                via: if r.principal_id == user_id {
                    AccessVia::Direct
                } else {
                    AccessVia::Group {
                        id: r.principal_id,
                        display_name: names.get(&r.principal_id).cloned().unwrap_or_default(),
                    }
                },
                since: r.created_at,
            })
            .collect())
    }

    async fn add_app_owner(
        &self,
        resource_id: Uuid,
        user_id: Uuid,
        audit: &AuditEntry,
    ) -> Result<bool, DirectoryError> {
        let tx = self.write_tx().await.map_err(db_err)?;
        let user_there = users::Entity::find_by_id(user_id)
            .count(&tx)
            .await
            .map_err(db_err)?
            > 0;
        if !user_there {
            return Err(DirectoryError::NotFound);
        }
        let row = app_owners::ActiveModel {
            resource_id: Set(resource_id),
            user_id: Set(user_id),
            created_at: Set(audit.at),
        };
        match app_owners::Entity::insert(row)
            .exec_without_returning(&tx)
            .await
        {
            Ok(_) => {}
            Err(e) if is_unique_violation(&e) => return Ok(false),
            Err(e) => return Err(db_err(e)),
        }
        insert_audits(&tx, std::slice::from_ref(audit)).await?;
        tx.commit().await.map_err(db_err)?;
        Ok(true)
    }

    async fn remove_app_owner(
        &self,
        resource_id: Uuid,
        user_id: Uuid,
        audit: &AuditEntry,
    ) -> Result<bool, DirectoryError> {
        let tx = self.write_tx().await.map_err(db_err)?;
        let res = app_owners::Entity::delete_many()
            .filter(app_owners::Column::ResourceId.eq(resource_id))
            .filter(app_owners::Column::UserId.eq(user_id))
            .exec(&tx)
            .await
            .map_err(db_err)?;
        if res.rows_affected == 0 {
            return Ok(false);
        }
        insert_audits(&tx, std::slice::from_ref(audit)).await?;
        tx.commit().await.map_err(db_err)?;
        Ok(true)
    }

    async fn app_owners(&self, resource_id: Uuid) -> Result<Vec<User>, DirectoryError> {
        let ids: Vec<Uuid> = app_owners::Entity::find()
            .select_only()
            .column(app_owners::Column::UserId)
            .filter(app_owners::Column::ResourceId.eq(resource_id))
            .into_tuple()
            .all(self.db())
            .await
            .map_err(db_err)?;
        self.users_by_ids(ids).await
    }

    async fn owned_apps(&self, user_id: Uuid) -> Result<Vec<Uuid>, DirectoryError> {
        let mut ids: Vec<Uuid> = app_owners::Entity::find()
            .select_only()
            .column(app_owners::Column::ResourceId)
            .filter(app_owners::Column::UserId.eq(user_id))
            .into_tuple()
            .all(self.db())
            .await
            .map_err(db_err)?;
        ids.sort();
        Ok(ids)
    }
}

impl Storage {
    async fn users_by_ids(&self, ids: Vec<Uuid>) -> Result<Vec<User>, DirectoryError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let rows = users::Entity::find()
            .filter(users::Column::Id.is_in(ids))
            .order_by_asc(users::Column::Id)
            .all(self.db())
            .await
            .map_err(db_err)?;
        with_identities(self.db(), rows).await
    }
}

#[async_trait]
impl GroupStore for Storage {
    async fn user_group_ids(&self, user_id: Uuid, security_only: bool) -> StoreResult<Vec<Uuid>> {
        Storage::user_group_ids(self, user_id, security_only)
            .await
            .map_err(internal)
    }

    async fn is_assigned(&self, resource_id: Uuid, user_id: Uuid) -> StoreResult<bool> {
        let mut principals = Storage::user_group_ids(self, user_id, false)
            .await
            .map_err(internal)?;
        principals.push(user_id);
        Ok(app_role_assignments::Entity::find()
            .filter(app_role_assignments::Column::ResourceId.eq(resource_id))
            .filter(app_role_assignments::Column::PrincipalId.is_in(principals))
            .count(self.db())
            .await
            .map_err(internal)?
            > 0)
    }
}
