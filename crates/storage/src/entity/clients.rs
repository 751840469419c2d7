//! `clients`: registered applications. URI and grant lists are JSON arrays.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "clients")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    #[sea_orm(unique)]
    pub client_id: String,
    pub secret_hash: Option<String>,
    pub display_name: String,
    pub client_type: String,
    pub auth_method: String,
    pub redirect_uris: Json,
    pub post_logout_redirect_uris: Json,
    pub grant_types: Json,
    pub backchannel_logout_uri: Option<String>,
    pub permissions: Json,
    /// Permissions the app may use for a signed-in user (JSON array).
    pub delegated_permissions: Json,
    pub require_mfa: bool,
    pub first_party: bool,
    pub require_pkce: bool,
    pub app_role_assignment_required: bool,
    /// `None`, `SecurityGroup` or `All`.
    pub group_membership_claims: String,
    pub initiate_login_uri: Option<String>,
    pub logo_uri: Option<String>,
    /// `RS256`, `ES256` or `EdDSA`; NULL means RS256.
    pub id_token_signed_response_alg: Option<String>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
