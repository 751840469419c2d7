//! `cache_versions`: one change counter per cache the nodes keep in memory
//! (`clients`, `keys`, `revoked_access_tokens`, `tenant_settings`,
//! `conditional_access`, `identity_providers`: `crate::cache`), bumped in the
//! transaction of every change it covers.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "cache_versions")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub name: String,
    pub version: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
