//! `sessions`: browser SSO sessions, keyed by the keyed hash of the cookie.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "sessions")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id_hash: String,
    #[sea_orm(unique)]
    pub sid: String,
    pub user_id: Uuid,
    pub auth_time: DateTimeUtc,
    pub amr: Json,
    /// The home IdP's issuer, when a guest signed in there.
    pub idp: Option<String>,
    /// The authentication's steps, home-IdP assertion and `acr` (`AuthDetail`).
    pub detail: Option<Json>,
    pub created_at: DateTimeUtc,
    pub expires_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
