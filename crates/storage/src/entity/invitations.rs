//! `invitations`: guest invitations; `state` is "pending", "accepted" or "revoked".

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "invitations")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub user_id: Uuid,
    pub email: String,
    pub display_name: Option<String>,
    pub redirect_url: String,
    pub message: Option<String>,
    pub message_language: Option<String>,
    pub cc_recipients: Json,
    pub send_message: bool,
    pub user_type: String,
    pub state: String,
    pub link_generation: i32,
    pub expires_at: DateTimeUtc,
    /// An `Actor` as JSON.
    pub invited_by: Json,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub accepted_at: Option<DateTimeUtc>,
    pub revoked_at: Option<DateTimeUtc>,
    /// The group an app owner's invitation adds the guest to.
    pub granted_group_id: Option<Uuid>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
