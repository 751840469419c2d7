//! `sign_ins`: the sign-in log, one row per sign-in (UUIDv7 ids, so ordering
//! by id is ordering by time). `result` is a `SignInResult` code; `steps` and
//! `amr` are JSON arrays.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "sign_ins")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub created_at: DateTimeUtc,
    pub user_id: Option<Uuid>,
    pub user_principal_name: Option<String>,
    pub user_display_name: Option<String>,
    pub client_id: String,
    pub app_display_name: String,
    pub home_idp: Option<String>,
    pub ip_address: Option<String>,
    pub user_agent: Option<String>,
    /// `StepRecord`s as JSON.
    pub steps: Json,
    /// RFC 8176 `amr` values as a JSON array of strings.
    pub amr: Json,
    pub acr: Option<String>,
    pub result: String,
    pub failure_reason: Option<String>,
    pub failure_message: Option<String>,
    pub correlation_id: String,
    pub platform: Option<String>,
    pub country: Option<String>,
    /// Graph's `appliedConditionalAccessPolicies` as JSON.
    pub applied_ca_policies: Option<Json>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
