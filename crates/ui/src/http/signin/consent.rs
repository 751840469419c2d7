//! The Consent step (OIDC Core §3.1.2.4): what the app will receive, for
//! the user to accept (stored per user, app and scope) or cancel (the app
//! gets `access_denied`).

use super::{check_csrf, secret};
use crate::http::UiState;
use crate::pages::{ConsentPage, describe_scope, error_response};
use axum::Form;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::CookieJar;
use portico_oidc::Provider;
use portico_oidc::error::PageError;
use portico_oidc::http::request_id;
use portico_oidc::interaction::InteractionView;
use serde::Deserialize;

/// The consent page for the signed-in user.
pub(super) async fn page(
    s: &UiState,
    view: InteractionView,
    csrf: String,
) -> Result<Response, PageError> {
    let uid = view.user_id.ok_or_else(PageError::internal)?;
    let user = s
        .directory
        .find_user(uid)
        .await
        .map_err(|_| PageError::internal())?;
    Ok(ConsentPage {
        id: view.id,
        csrf,
        client_name: view.client_name,
        scopes: view.scopes.iter().map(|x| describe_scope(x)).collect(),
        claims: view.claims,
        user_name: user.display_name,
        user_mail: user.mail,
        organization: s.invitations.config().organization.clone(),
        privacy_url: s.invitations.config().privacy_url.clone(),
    }
    .into_response())
}

#[derive(Deserialize)]
pub struct ConsentForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    decision: String,
}

pub async fn consent_post(
    State(s): State<UiState>,
    jar: CookieJar,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(f): Form<ConsentForm>,
) -> Response {
    let secret = secret(&jar);
    let result = async {
        check_csrf(&s, secret.as_deref(), &f.csrf)?;
        let accepted = match f.decision.as_str() {
            "accept" => true,
            "cancel" => false,
            _ => {
                return Err(PageError::new(
                    "invalid_request",
                    "Choose Accept or Cancel.",
                ));
            }
        };
        s.provider
            .finish_consent(&id, secret.as_deref(), accepted)
            .await?;
        Ok(Redirect::to(&Provider::resume_path(&id)).into_response())
    }
    .await;
    result.unwrap_or_else(|e| error_response(&e, &request_id(&headers)))
}
