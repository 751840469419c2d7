//! `sign_in_policy_results`: which conditional access policies applied to a
//! sign-in and with what result (`success`, `failure`, `reportOnlySuccess`,
//! `reportOnlyFailure`), indexed so the log can be filtered by them.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "sign_in_policy_results")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub sign_in_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub policy_id: String,
    pub result: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
