//! `passkey_credentials`: users' WebAuthn credentials (public keys only),
//! as webauthn-rs's `Passkey` JSON with its signature counter beside it.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "passkey_credentials")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub user_id: Uuid,
    /// base64url of the WebAuthn credential id; unique across users.
    pub credential_id: String,
    pub name: String,
    pub credential: String,
    pub counter: i64,
    pub aaguid: Option<String>,
    pub created_at: DateTimeUtc,
    pub last_used_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
