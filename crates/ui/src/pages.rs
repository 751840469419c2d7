//! The askama views and the [`Pages`] the authorization server renders through.

use askama::Template;
use askama_web::WebTemplate;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use portico_oidc::error::PageError;
use portico_oidc::http::Pages;

#[derive(Template, WebTemplate)]
#[template(path = "signin.html")]
pub struct SignInPage {
    pub id: String,
    pub csrf: String,
    pub client_name: String,
    pub email: String,
    pub error: Option<String>,
    /// Reached through "use another way to sign in": the guest form must
    /// not send the browser to the home IdP again.
    pub other: bool,
    /// Offer a passkey alone (`passkeyOnlySignIn`).
    pub passkey: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "consent.html")]
pub struct ConsentPage {
    pub id: String,
    pub csrf: String,
    pub client_name: String,
    pub scopes: Vec<String>,
    pub claims: Vec<String>,
    pub user_name: String,
    pub user_mail: String,
    /// The organization the app belongs to, and its privacy statement.
    pub organization: String,
    pub privacy_url: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "error.html")]
pub struct ErrorPage {
    pub code: String,
    pub message: String,
    pub request_id: String,
    /// "Return to the application" (the refusal goes with it).
    pub back_to_app: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "form_post.html")]
pub struct FormPostPage {
    pub action: String,
    pub params: Vec<(String, String)>,
}

#[derive(Template, WebTemplate)]
#[template(path = "logout_confirm.html")]
pub struct LogoutConfirmPage {
    pub client_name: Option<String>,
    pub hidden: Vec<(String, String)>,
    pub csrf: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "logged_out.html")]
pub struct LoggedOutPage;

/// Describes a scope for the consent page.
pub fn describe_scope(s: &str) -> String {
    match s {
        "openid" => "Sign you in".into(),
        "profile" => "See your name and whether you are a member or a guest".into(),
        "email" => "See your email address".into(),
        "offline_access" => "Stay signed in to keep access when you are away".into(),
        other => other.into(),
    }
}

pub fn error_response(err: &PageError, request_id: &str) -> Response {
    let status = StatusCode::from_u16(err.status).unwrap_or(StatusCode::BAD_REQUEST);
    let page = ErrorPage {
        code: err.code.to_string(),
        message: err.message.clone(),
        request_id: request_id.to_string(),
        back_to_app: err.back_to_app.clone(),
    };
    (status, page).into_response()
}

#[derive(Clone, Default)]
pub struct UiPages;

impl Pages for UiPages {
    fn error(&self, err: &PageError, request_id: &str) -> Response {
        error_response(err, request_id)
    }

    fn form_post(&self, action: &str, params: &[(String, String)]) -> Response {
        let page = FormPostPage {
            action: action.to_string(),
            params: params.to_vec(),
        };
        ([(axum::http::header::CACHE_CONTROL, "no-store")], page).into_response()
    }

    fn logout_confirm(
        &self,
        client_name: Option<&str>,
        hidden: &[(String, String)],
        csrf: &str,
    ) -> Response {
        LogoutConfirmPage {
            client_name: client_name.map(str::to_string),
            hidden: hidden.to_vec(),
            csrf: csrf.to_string(),
        }
        .into_response()
    }

    fn logged_out(&self) -> Response {
        LoggedOutPage.into_response()
    }
}

/// The date a link expires, as the pages and the emails show it.
pub(crate) fn show_date(t: chrono::DateTime<chrono::Utc>) -> String {
    t.format("%-d %B %Y").to_string()
}
