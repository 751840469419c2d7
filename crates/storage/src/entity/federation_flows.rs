//! `federation_flows`: round trips to an upstream IdP, keyed by id and found
//! by the keyed hash of their `state`. `status` is "pending", "returned",
//! "completed" or "claimed"; `purpose` and `result` are JSON.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "federation_flows")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    #[sea_orm(unique)]
    pub state_hash: String,
    pub idp_id: Uuid,
    pub purpose: Json,
    pub binding_hash: String,
    pub nonce: String,
    pub pkce_verifier: String,
    pub status: String,
    pub result: Option<Json>,
    pub created_at: DateTimeUtc,
    pub expires_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
