//! `directory_audits`: the audit log of directory changes (UUIDv7 ids, so
//! ordering by id is ordering by time).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "directory_audits")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub at: DateTimeUtc,
    /// An `Actor` as JSON.
    pub actor: Json,
    pub activity: String,
    pub category: String,
    pub target_type: String,
    pub target_id: String,
    pub target_name: String,
    pub before: Option<Json>,
    pub after: Option<Json>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
