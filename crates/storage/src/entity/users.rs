//! `users`: the directory's people. Their sign-in identities are in
//! [`super::user_identities`].

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "users")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub display_name: String,
    #[sea_orm(unique)]
    pub mail: String,
    pub user_type: String,
    pub account_enabled: bool,
    pub is_admin: bool,
    pub guest_inviter: bool,
    pub email_verified: bool,
    pub password_hash: Option<String>,
    pub external_user_state: Option<String>,
    pub external_user_state_changed_at: Option<DateTimeUtc>,
    pub access_expires_at: Option<DateTimeUtc>,
    /// An `Actor` as JSON.
    pub sponsor: Option<Json>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
