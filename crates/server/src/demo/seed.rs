//! What the demo starts with: Fabrikam has a member, Alice, and knows
//! Contoso's Portico as an app; Contoso has an admin, trusts Fabrikam for
//! `fabrikam.example`, and has registered the sample app. Every object is
//! made through the same services the CLI uses, so each is audited.
//! Passwords are random on every run (the demo listens on loopback only,
//! but a well-known password is still a bad habit to teach).

use crate::App;
use crate::commands::{self, AppAdd};
use anyhow::Context;
use portico_core::random_token;
use portico_directory::{Actor, NewUser, UserType};
use portico_federation::IdpInput;
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
    let sample = register(
        contoso,
        "Contoso Trials",
        vec![format!("{app_url}/callback")],
        vec![format!("{app_url}/")],
    )
    .await?;
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
