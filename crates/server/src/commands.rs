//! CLI commands other than `serve`: bootstrap, app add/list, keys rotate,
//! secrets reseal.

use crate::ALL_PERMISSIONS;
use crate::app::App;
use anyhow::{Context, bail};
use portico_directory::{Actor, NewUser, UserType};
use portico_oidc::clients::NewClient;
use portico_oidc::model::{AuthMethod, ClientType, GRANT_CLIENT_CREDENTIALS};
use serde_json::json;

/// Creates the first admin and a management client; refuses when an admin exists.
pub async fn bootstrap(
    app: &App,
    email: &str,
    password: &str,
) -> anyhow::Result<serde_json::Value> {
    if app.directory.repo().count_admins().await? > 0 {
        bail!(
            "Portico is already bootstrapped: an admin exists. Use the admin API or portal to add more."
        );
    }
    let admin = app
        .directory
        .create_user(
            NewUser {
                display_name: "Administrator".into(),
                mail: email.into(),
                password: Some(password.into()),
                user_type: UserType::Member,
                is_admin: true,
                email_verified: false,
            },
            &Actor::system("portico bootstrap"),
        )
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let client = NewClient {
        display_name: "Portico management".into(),
        redirect_uris: vec![],
        post_logout_redirect_uris: vec![],
        client_type: ClientType::Confidential,
        token_endpoint_auth_method: Some(AuthMethod::ClientSecretBasic),
        grant_types: Some(vec![GRANT_CLIENT_CREDENTIALS.into()]),
        backchannel_logout_uri: None,
        require_mfa: false,
        require_pkce: None,
        app_role_assignment_required: false,
        group_membership_claims: None,
        initiate_login_uri: None,
        logo_uri: None,
        id_token_signed_response_alg: None,
        delegated_permissions: None,
    };
    let permissions = ALL_PERMISSIONS.iter().map(|p| p.to_string()).collect();
    let registered = app
        .provider
        .register_client(client, permissions, &Actor::system("portico bootstrap"))
        .await;
    let (client, secret) = match registered {
        Ok(r) => r,
        Err(e) => {
            // Undo the admin so that bootstrap can be run again.
            let _ = app
                .directory
                .delete_user(admin.id, &Actor::system("portico bootstrap"))
                .await;
            bail!("cannot create the management client: {e}");
        }
    };
    Ok(json!({
        "adminUserId": admin.id,
        "clientId": client.client_id,
        "clientSecret": secret.context("a confidential client has a secret")?,
    }))
}

pub struct AppAdd {
    pub name: String,
    pub redirect_uris: Vec<String>,
    pub post_logout_redirect_uris: Vec<String>,
    pub public: bool,
    pub auth_method: Option<String>,
    pub grant_types: Vec<String>,
    /// `--no-pkce`: a confidential client that cannot send PKCE.
    pub no_pkce: bool,
}

pub async fn app_add(app: &App, a: AppAdd) -> anyhow::Result<serde_json::Value> {
    let auth_method = match a.auth_method.as_deref() {
        None => None,
        Some("client_secret_basic") => Some(AuthMethod::ClientSecretBasic),
        Some("client_secret_post") => Some(AuthMethod::ClientSecretPost),
        Some("none") => Some(AuthMethod::None),
        Some(other) => bail!("unknown --auth-method {other}"),
    };
    let new = NewClient {
        display_name: a.name,
        redirect_uris: a.redirect_uris,
        post_logout_redirect_uris: a.post_logout_redirect_uris,
        client_type: if a.public {
            ClientType::Public
        } else {
            ClientType::Confidential
        },
        token_endpoint_auth_method: auth_method,
        grant_types: (!a.grant_types.is_empty()).then_some(a.grant_types),
        backchannel_logout_uri: None,
        require_mfa: false,
        // Only an explicit opt-out; a public client refuses it.
        require_pkce: a.no_pkce.then_some(false),
        app_role_assignment_required: false,
        group_membership_claims: None,
        initiate_login_uri: None,
        logo_uri: None,
        id_token_signed_response_alg: None,
        delegated_permissions: None,
    };
    let (client, secret) = app
        .provider
        .register_client(new, vec![], &Actor::system("portico app add"))
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut v = json!({
        "id": client.id,
        "clientId": client.client_id,
        "requirePkce": client.require_pkce,
    });
    if let (Some(s), Some(m)) = (secret, v.as_object_mut()) {
        m.insert("clientSecret".into(), json!(s));
    }
    Ok(v)
}

pub async fn app_reset_secret(app: &App, client_id: &str) -> anyhow::Result<serde_json::Value> {
    let Some(client) = app.provider.store.find_client(client_id).await? else {
        bail!("no application with clientId {client_id}");
    };
    let (client, secret) = app
        .provider
        .reset_client_secret(client.id, &Actor::system("portico app reset-secret"))
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(json!({"clientId": client.client_id, "clientSecret": secret}))
}

pub async fn app_list(app: &App) -> anyhow::Result<serde_json::Value> {
    let list = app.provider.store.list_clients().await?;
    Ok(serde_json::Value::Array(
        list.iter().map(crate::api::application_json).collect(),
    ))
}

/// Re-seals every secret at rest under the current master key, in one
/// transaction; afterwards `PORTICO_MASTER_KEY_PREVIOUS` is no longer needed.
pub async fn secrets_reseal(app: &App) -> anyhow::Result<serde_json::Value> {
    let r = app
        .storage
        .seal_secrets_at_rest(portico_storage::SealPass::ResealAll)
        .await?;
    Ok(json!({"resealed": r.resealed, "sealed": r.sealed, "unchanged": r.unchanged}))
}

pub async fn keys_rotate(app: &App) -> anyhow::Result<serde_json::Value> {
    let rotated = app
        .provider
        .rotate_keys(&Actor::system("portico keys rotate"))
        .await?;
    let k = rotated
        .first()
        .context("no signing algorithm is configured")?;
    Ok(json!({
        "kid": k.kid,
        "activatesDateTime": k.activates_at,
        "keys": rotated.iter().map(|k| json!({"kid": k.kid, "alg": k.alg})).collect::<Vec<_>>(),
    }))
}
