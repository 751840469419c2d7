//! Join requests in My Apps: anyone signed in asks to join an application's
//! self-service group (`POST /myapps/groups/{id}/join`); the group's managing
//! owners see the pending requests and approve or decline them
//! (`POST /myapps/requests/{id}/approve|decline`). The rules (who may ask,
//! who may decide, one pending request, audits and mail) are
//! `portico_directory::join_requests`'; here are the forms.

use super::UiState;
use super::myapps::{Me, actor_of, check_csrf, fail, internal, me, show};
use crate::pages::show_date;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::CookieJar;
use portico_directory::DirectoryError;
use portico_directory::join_requests::Decider;
use portico_directory::{User, UserType};
use portico_oidc::PageError;
use serde::Deserialize;

/// A group the user may ask to join.
pub struct Joinable {
    pub id: String,
    pub name: String,
    pub app: String,
    pub pending: bool,
}

/// The pending requests to one group the user manages.
pub struct RequestsToGroup {
    pub group: String,
    /// (request id, requester's name, address, guest?, asked on)
    pub requests: Vec<(String, String, String, bool, String)>,
}

pub(super) async fn joinable(s: &UiState, user: &User) -> Result<Vec<Joinable>, PageError> {
    Ok(s.join_requests
        .joinable(user.id)
        .await
        .map_err(internal)?
        .into_iter()
        .map(|(g, pending)| Joinable {
            id: g.group.id.to_string(),
            name: g.group.display_name,
            app: g.app_name,
            pending,
        })
        .collect())
}

pub(super) async fn requests(s: &UiState, user: &User) -> Result<Vec<RequestsToGroup>, PageError> {
    Ok(s.join_requests
        .pending_for_owner(user.id)
        .await
        .map_err(internal)?
        .into_iter()
        .map(|(g, rs)| RequestsToGroup {
            group: g.display_name,
            requests: rs
                .into_iter()
                .map(|p| {
                    (
                        p.request.id.to_string(),
                        p.user.display_name,
                        p.user.mail,
                        p.user.user_type == UserType::Guest,
                        show_date(p.request.created_at),
                    )
                })
                .collect(),
        })
        .collect())
}

fn not_found() -> PageError {
    PageError::new("not_found", "There is no such group or request here.").with_status(404)
}

/// The page with `notice`, answered with `status`.
async fn answer(
    s: &UiState,
    me: &Me,
    notice: String,
    status: StatusCode,
) -> Result<Response, PageError> {
    let mut resp = show(s, me, Some(notice)).await?;
    *resp.status_mut() = status;
    Ok(resp)
}

#[derive(Deserialize)]
pub struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

/// `POST /myapps/groups/{id}/join`: ask to join a self-service group.
pub async fn join_post(
    State(s): State<UiState>,
    jar: CookieJar,
    headers: HeaderMap,
    Path(group): Path<String>,
    Form(f): Form<CsrfForm>,
) -> Response {
    let result = async {
        let Some(me) = me(&s, &jar).await? else {
            return Ok(Redirect::to("/myapps/signin").into_response());
        };
        check_csrf(&s, &jar, &f.csrf)?;
        let gid = uuid::Uuid::parse_str(&group).map_err(|_| not_found())?;
        match s.join_requests.request(gid, &me.user).await {
            Ok(_) => {
                answer(
                    &s,
                    &me,
                    "Your request was sent to the group's owners. You will get an email when they decide.".into(),
                    StatusCode::OK,
                )
                .await
            }
            Err(DirectoryError::Conflict(m)) => answer(&s, &me, m, StatusCode::CONFLICT).await,
            Err(DirectoryError::NotFound) => Err(not_found()),
            Err(e) => Err(internal(e)),
        }
    }
    .await;
    result.unwrap_or_else(|e| fail(e, &headers))
}

/// `POST /myapps/requests/{id}/approve` (or `decline`): an owner decides on a
/// request to a group it manages.
pub async fn decide_post(
    State(s): State<UiState>,
    jar: CookieJar,
    headers: HeaderMap,
    Path((id, decision)): Path<(String, String)>,
    Form(f): Form<CsrfForm>,
) -> Response {
    let result = async {
        let approve = match decision.as_str() {
            "approve" => true,
            "decline" => false,
            _ => return Err(not_found()),
        };
        let Some(me) = me(&s, &jar).await? else {
            return Ok(Redirect::to("/myapps/signin").into_response());
        };
        check_csrf(&s, &jar, &f.csrf)?;
        let rid = uuid::Uuid::parse_str(&id).map_err(|_| not_found())?;
        match s
            .join_requests
            .decide(
                rid,
                None,
                approve,
                Decider::Owner(me.user.id),
                &actor_of(&me.user),
            )
            .await
        {
            Ok(_) => {
                let notice = if approve {
                    "Approved: they are now a member of the group."
                } else {
                    "Declined."
                };
                answer(&s, &me, notice.into(), StatusCode::OK).await
            }
            Err(DirectoryError::Conflict(m)) => answer(&s, &me, m, StatusCode::CONFLICT).await,
            Err(DirectoryError::Forbidden(m)) => {
                Err(PageError::new("not_group_owner", m).with_status(403))
            }
            Err(DirectoryError::NotFound) => Err(not_found()),
            Err(e) => Err(internal(e)),
        }
    }
    .await;
    result.unwrap_or_else(|e| fail(e, &headers))
}
