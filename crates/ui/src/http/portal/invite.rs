//! The invite form: one guest at a time. The form is turned into Graph's
//! invitation body and validated by the same code as `POST /api/v1/invitations`,
//! so the portal and the API accept exactly the same invitations.

use super::auth::Admin;
use super::error::PortalError;
use super::parse::field;
use super::views::{Chrome, Section};
use crate::http::UiState;
use crate::http::myapps::invite_into_group;
use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use portico_directory::DirectoryError;
use portico_directory::invitations::{GraphInvitation, MAX_MESSAGE_CHARS, MessageInfo};
use serde::Deserialize;

#[derive(Template, WebTemplate)]
#[template(path = "admin_invite.html")]
struct InvitePage {
    chrome: Chrome,
    form: InviteForm,
    /// (id, name) of the groups the guest may be added to, by name.
    groups: Vec<(String, String)>,
    max_message: usize,
    error: Option<String>,
}

/// The form as entered; re-shown unchanged when it is refused.
#[derive(Deserialize, Default)]
pub struct InviteForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    display_name: String,
    #[serde(default)]
    message: String,
    #[serde(default)]
    redirect_url: String,
    /// The group the guest joins with the invitation; empty for none.
    #[serde(default)]
    group: String,
    /// A checkbox: present ("on") when ticked, absent otherwise.
    send: Option<String>,
}

impl InviteForm {
    fn is_send_checked(&self) -> bool {
        self.send.is_some()
    }

    fn to_graph(&self) -> GraphInvitation {
        let own = |s: &str| field(Some(s)).map(str::to_string);
        GraphInvitation {
            invited_user_email_address: own(&self.email),
            invite_redirect_url: own(&self.redirect_url),
            invited_user_display_name: own(&self.display_name),
            send_invitation_message: Some(self.is_send_checked()),
            invited_user_message_info: Some(MessageInfo {
                customized_message_body: own(&self.message),
                ..Default::default()
            }),
            ..Default::default()
        }
    }
}

/// The groups a select can reasonably list; a larger directory adds guests
/// to groups from the group's page or the API.
const MAX_GROUPS_LISTED: u64 = 500;

async fn render(
    s: &UiState,
    admin: &Admin,
    form: InviteForm,
    error: Option<String>,
) -> Result<Response, PortalError> {
    let status = if error.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    let mut groups: Vec<(String, String)> = s
        .groups
        .repo()
        .list_groups(None, MAX_GROUPS_LISTED)
        .await?
        .into_iter()
        .map(|g| (g.id.to_string(), g.display_name))
        .collect();
    groups.sort_by_key(|g| g.1.to_lowercase());
    let page = InvitePage {
        chrome: Chrome::new(admin, Section::Invite),
        form,
        groups,
        max_message: MAX_MESSAGE_CHARS,
        error,
    };
    Ok((status, page).into_response())
}

pub async fn invite_get(admin: Admin, State(s): State<UiState>) -> Result<Response, PortalError> {
    // Guests land on the organization's Portico after redeeming unless the
    // admin names an app; that is the useful default.
    let form = InviteForm {
        redirect_url: format!("{}/", s.invitations.config().base_url.trim_end_matches('/')),
        send: Some("on".into()),
        ..Default::default()
    };
    render(&s, &admin, form, None).await
}

pub async fn invite_post(
    admin: Admin,
    State(s): State<UiState>,
    Form(form): Form<InviteForm>,
) -> Result<Response, PortalError> {
    admin.check_csrf(&s, &form.csrf)?;
    let req = match form.to_graph().validate() {
        Ok(r) => r,
        Err(DirectoryError::Invalid(m)) => return render(&s, &admin, form, Some(m)).await,
        Err(e) => return Err(e.into()),
    };
    let invited = match form.group.trim() {
        "" => s.invitations.invite(&req, &admin.actor(), None).await,
        id => match uuid::Uuid::parse_str(id).ok() {
            Some(gid) => match s.groups.find_group(gid).await {
                Ok(g) => invite_into_group(&s, req, &g, &admin.actor())
                    .await
                    .map(|(o, _)| o),
                Err(DirectoryError::NotFound) => Err(DirectoryError::Invalid(
                    "The group no longer exists; choose another.".into(),
                )),
                Err(e) => Err(e),
            },
            None => Err(DirectoryError::Invalid(
                "Choose a group from the list.".into(),
            )),
        },
    };
    let outcome = match invited {
        Ok(o) => o,
        Err(
            DirectoryError::Invalid(m) | DirectoryError::Conflict(m) | DirectoryError::Forbidden(m),
        ) => {
            return render(&s, &admin, form, Some(m)).await;
        }
        Err(e) => return Err(e.into()),
    };
    // An email that already had a guest gets that guest back, unchanged:
    // the user page says so rather than pretending a new invitation went out.
    let notice = if outcome.created {
        "invited"
    } else {
        "existing"
    };
    let to = format!("/admin/users/{}?notice={notice}", outcome.user.id);
    Ok(Redirect::to(&to).into_response())
}
