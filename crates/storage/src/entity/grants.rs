//! `grants`: one authorization, the family of a code and its tokens.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "grants")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub client_id: String,
    pub user_id: Option<Uuid>,
    pub scope: String,
    pub auth_time: Option<DateTimeUtc>,
    pub amr: Json,
    /// The home IdP's issuer, when a guest signed in there.
    pub idp: Option<String>,
    pub acr: Option<String>,
    pub sid: Option<String>,
    pub claims: Option<Json>,
    pub created_at: DateTimeUtc,
    pub revoked_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
