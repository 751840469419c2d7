//! What the demo starts with: Fabrikam has a member, Alice, and knows
//! Contoso's Portico as an app; Contoso has an admin, trusts Fabrikam for
//! `fabrikam.example`, requires MFA of guests, and has registered the sample
//! app, which only members of the group "Contoso Trials users" may use (its
//! My Apps tile launches its sign-in page). Every object is made through the
//! same services the CLI and the admin API use, so each is audited.
//! Passwords are random on every run (the demo listens on loopback only,
//! but a well-known password is still a bad habit to teach).

use crate::App;
use crate::commands::{self, AppAdd};
use anyhow::Context;
use portico_core::random_token;
use portico_directory::groups::NewGroup;
use portico_directory::{Actor, NewUser, UserType};
use portico_federation::IdpInput;
use portico_oidc::auth_policy::AuthenticationPolicyPatch;
use portico_oidc::clients::NewClient;
use portico_oidc::model::ClientType;
use serde_json::Value;

/// The sign-ins the demo prints.
#[derive(Debug, Clone)]
pub struct Credentials {
    pub admin_email: String,
    pub admin_password: String,
    pub guest_email: String,
    pub guest_password: String,
    /// Contoso's management client (client credentials, every permission).
    pub api_client_id: String,
    pub api_client_secret: String,
}

pub struct Seeded {
    pub credentials: Credentials,
    pub app_client_id: String,
    pub app_client_secret: String,
}

const ADMIN: &str = "admin@contoso.example";
const GUEST: &str = "alice@fabrikam.example";
/// The group that gives access to the sample app.
pub const TRIALS_GROUP: &str = "Contoso Trials users";
/// The sample app's name.
pub const TRIALS_APP: &str = "Contoso Trials";

pub async fn seed(contoso: &App, fabrikam: &App, app_url: &str) -> anyhow::Result<Seeded> {
    let actor = Actor::system("portico demo");
    let guest_password = password();
    fabrikam
        .directory
        .create_user(
            NewUser {
                display_name: "Alice Fabrikam".into(),
                mail: GUEST.into(),
                password: Some(guest_password.clone()),
                user_type: UserType::Member,
                is_admin: false,
                // Fabrikam's own member: her employer vouches for the address.
                email_verified: true,
            },
            &actor,
        )
        .await
        .map_err(|e| anyhow::anyhow!("cannot create Fabrikam's user: {e}"))?;
    let contoso_at_fabrikam = register(
        fabrikam,
        "Contoso",
        vec![contoso.federation.redirect_uri()],
        vec![],
    )
    .await?;

    let admin_password = password();
    let bootstrap = commands::bootstrap(contoso, ADMIN, &admin_password).await?;
    contoso
        .federation
        .create(
            IdpInput {
                display_name: Some("Fabrikam".into()),
                kind: None,
                issuer: Some(fabrikam.settings.issuer.clone()),
                client_id: Some(contoso_at_fabrikam.0),
                client_secret: Some(contoso_at_fabrikam.1),
                scopes: None,
                domains: Some(vec!["fabrikam.example".into()]),
                claims_mapping: None,
                enabled: Some(true),
                mfa_trust: None,
            },
            &actor,
        )
        .await
        .map_err(|e| anyhow::anyhow!("cannot trust Fabrikam: {e}"))?;
    let sample = trials_app(contoso, app_url, &actor).await?;
    contoso
        .provider
        .update_authentication_policy(
            &AuthenticationPolicyPatch {
                require_mfa_for: Some("guests".into()),
                ..Default::default()
            },
            ("Application", "portico-demo".into(), "portico demo".into()),
        )
        .await
        .map_err(|e| anyhow::anyhow!("cannot require MFA of guests: {e}"))?;
    Ok(Seeded {
        credentials: Credentials {
            admin_email: ADMIN.into(),
            admin_password,
            guest_email: GUEST.into(),
            guest_password,
            api_client_id: text(&bootstrap, "clientId")?,
            api_client_secret: text(&bootstrap, "clientSecret")?,
        },
        app_client_id: sample.0,
        app_client_secret: sample.1,
    })
}

/// The sample app: assignment required, assigned to [`TRIALS_GROUP`], and
/// launched from My Apps at its `/signin` (third-party initiated login).
/// Returns its client id and secret.
async fn trials_app(
    contoso: &App,
    app_url: &str,
    actor: &Actor,
) -> anyhow::Result<(String, String)> {
    let (client, secret) = contoso
        .provider
        .register_client(
            NewClient {
                display_name: TRIALS_APP.into(),
                redirect_uris: vec![format!("{app_url}/callback")],
                post_logout_redirect_uris: vec![format!("{app_url}/")],
                client_type: ClientType::Confidential,
                token_endpoint_auth_method: None,
                grant_types: None,
                backchannel_logout_uri: None,
                require_mfa: false,
                require_pkce: None,
                app_role_assignment_required: true,
                group_membership_claims: None,
                initiate_login_uri: Some(format!("{app_url}/signin")),
                logo_uri: None,
                id_token_signed_response_alg: None,
                delegated_permissions: None,
            },
            vec![],
            actor,
        )
        .await
        .map_err(|e| anyhow::anyhow!("cannot register {TRIALS_APP}: {e}"))?;
    let groups = crate::api::groups::service(contoso);
    let group = groups
        .create_group(
            NewGroup {
                display_name: TRIALS_GROUP.into(),
                description: Some(format!("Who may use {TRIALS_APP}")),
                security_enabled: Some(true),
                mail_enabled: Some(false),
                mail_nickname: None,
                group_types: None,
            },
            actor,
        )
        .await
        .map_err(|e| anyhow::anyhow!("cannot create {TRIALS_GROUP}: {e}"))?;
    groups
        .assign(client.id, group.id, actor)
        .await
        .map_err(|e| anyhow::anyhow!("cannot assign {TRIALS_GROUP} to {TRIALS_APP}: {e}"))?;
    let secret = secret.context("a confidential app has a secret")?;
    Ok((client.client_id, secret))
}

/// A confidential web app; returns its client id and secret.
async fn register(
    app: &App,
    name: &str,
    redirect_uris: Vec<String>,
    post_logout_redirect_uris: Vec<String>,
) -> anyhow::Result<(String, String)> {
    let v = commands::app_add(
        app,
        AppAdd {
            name: name.into(),
            redirect_uris,
            post_logout_redirect_uris,
            public: false,
            auth_method: None,
            grant_types: vec![],
            no_pkce: false,
        },
    )
    .await
    .with_context(|| format!("cannot register {name}"))?;
    Ok((text(&v, "clientId")?, text(&v, "clientSecret")?))
}

fn text(v: &Value, key: &str) -> anyhow::Result<String> {
    v[key]
        .as_str()
        .map(str::to_string)
        .with_context(|| format!("{key} missing from {v}"))
}

/// Sixteen random URL-safe characters (96 bits).
fn password() -> String {
    random_token(12)
}
