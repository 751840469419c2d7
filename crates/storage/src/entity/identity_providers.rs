//! `identity_providers`: trusted upstream OpenID providers. `scopes` is a JSON
//! array, `claims_mapping` a JSON object; the domains are in
//! `identity_provider_domains`.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "identity_providers")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub display_name: String,
    #[sea_orm(unique)]
    pub issuer: String,
    pub client_id: String,
    pub client_secret: String,
    pub scopes: Json,
    pub claims_mapping: Json,
    pub enabled: bool,
    /// Which upstream `amr`/`acr` count as MFA (`MfaTrust`), if any.
    pub mfa_trust: Option<Json>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
