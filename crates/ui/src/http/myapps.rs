//! `/myapps`, the access panel: the applications the signed-in user may use,
//! each tile with its launch link and why access exists (assigned directly,
//! through which group, by invitation, or open to everyone) and until when;
//! the user's consents with revoke (the app's grants and refresh tokens die
//! with it); and, for guests, "leave this organization". The page is the
//! first-party client `portico` (`first_party::MYAPPS`): the user signs in
//! through `/authorize` like for any app, so the pipeline's rules apply.
//!
//! Which apps: Portico's own clients never show; an app without the
//! authorization-code grant has no one to sign in; an app that requires
//! assignment shows only through an assignment to the user or to a group
//! the user is a direct member of.

use super::UiState;
use super::first_party::{CallbackQuery, MYAPPS, SignInFailed};
use crate::pages::show_date;
use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::CookieJar;
use axum_extra::extract::cookie::Cookie;
use portico_directory::groups::{AccessVia, Relation};
use portico_directory::{User, UserType};
use portico_oidc::PageError;
use portico_oidc::http::{SESSION_COOKIE, request_id};
use portico_oidc::model::{Client, GRANT_AUTHORIZATION_CODE};
use serde::Deserialize;

const CSRF_PURPOSE: &str = "myapps-csrf";

/// My Apps' images may come from the apps' own sites (their logos); the rest
/// of the policy is the server's default.
const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: https:; frame-ancestors 'none'; base-uri 'none'; object-src 'none'";

pub struct Tile {
    pub name: String,
    pub initial: String,
    pub logo: Option<String>,
    pub launch: Option<String>,
    /// Why the user has access, one sentence per way.
    pub reasons: Vec<String>,
    pub until: String,
}

/// An application the user owns, with the groups it may manage there.
pub struct OwnedApp {
    pub name: String,
    pub groups: Vec<ManagedGroup>,
}

pub struct ManagedGroup {
    pub id: String,
    pub name: String,
    /// (user id, display name, address)
    pub members: Vec<(String, String, String)>,
}

pub struct ConsentRow {
    pub client_id: String,
    pub name: String,
    pub scopes: String,
    pub granted: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "myapps.html")]
struct MyAppsPage {
    name: String,
    email: String,
    organization: String,
    csrf: String,
    tiles: Vec<Tile>,
    consents: Vec<ConsentRow>,
    owned: Vec<OwnedApp>,
    joinable: Vec<super::myapps_join::Joinable>,
    requests: Vec<super::myapps_join::RequestsToGroup>,
    guest: bool,
    notice: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "myapps_left.html")]
struct LeftPage {
    organization: String,
}

pub(super) type Me = crate::http::first_party::SignedIn;

pub(super) fn fail(e: PageError, headers: &HeaderMap) -> Response {
    crate::pages::error_response(&e, &request_id(headers))
}

pub(super) fn internal(e: impl std::fmt::Debug) -> PageError {
    tracing::error!(error = ?e, "my apps failure");
    PageError::internal()
}

pub(super) async fn me(s: &UiState, jar: &CookieJar) -> Result<Option<Me>, PageError> {
    MYAPPS.signed_in(s, jar, CSRF_PURPOSE).await
}

pub(super) fn check_csrf(s: &UiState, jar: &CookieJar, presented: &str) -> Result<(), PageError> {
    let ok = MYAPPS
        .token(s, jar)
        .is_some_and(|(token, _)| s.provider.hasher.verify(CSRF_PURPOSE, &token, presented));
    if ok {
        Ok(())
    } else {
        Err(PageError::new(
            "invalid_csrf",
            "This form has expired. Open the page again.",
        )
        .with_status(403))
    }
}

/// `scheme://host[:port]/` of `url`.
fn origin(url: &str) -> Option<String> {
    let u = url::Url::parse(url).ok()?;
    matches!(u.scheme(), "https" | "http").then(|| format!("{}/", u.origin().ascii_serialization()))
}

/// Where a tile launches the app: its `initiate_login_uri` (OIDC third-party
/// initiated login), else its home page (the first redirect URI's origin).
fn launch_link(c: &Client) -> Option<String> {
    c.initiate_login_uri
        .clone()
        .or_else(|| c.redirect_uris.iter().find_map(|u| origin(u)))
}

/// The tiles for `user`, in the order the apps were registered.
pub async fn tiles(s: &UiState, user: &User) -> Result<Vec<Tile>, PageError> {
    let clients = s.provider.store.list_clients().await?;
    let access = s.groups.user_app_access(user.id).await.map_err(internal)?;
    let invited_origin = if user.user_type == UserType::Guest {
        s.invitations
            .latest_for(user.id)
            .await
            .map_err(internal)?
            .and_then(|i| origin(&i.redirect_url))
    } else {
        None
    };
    let until = match user.access_expires_at {
        Some(t) => format!("Until {}", show_date(t)),
        None => "No end date".to_string(),
    };
    let mut out = Vec::new();
    for c in clients
        .iter()
        .filter(|c| !c.first_party && c.allows_grant(GRANT_AUTHORIZATION_CODE))
    {
        let mut reasons: Vec<String> = access
            .iter()
            .filter(|a| a.resource_id == c.id)
            .map(|a| match &a.via {
                AccessVia::Direct => format!("Assigned to you on {}", show_date(a.since)),
                AccessVia::Group { display_name, .. } => {
                    format!("Through the group {display_name}")
                }
            })
            .collect();
        let launch = launch_link(c);
        let invited = invited_origin.is_some()
            && c.redirect_uris
                .iter()
                .chain(c.initiate_login_uri.iter())
                .any(|u| origin(u) == invited_origin);
        if invited {
            reasons.push("You were invited to it".into());
        }
        if !c.app_role_assignment_required && reasons.is_empty() {
            reasons.push("Open to everyone in the organization".into());
        }
        if reasons.is_empty() {
            continue;
        }
        out.push(Tile {
            initial: c
                .display_name
                .chars()
                .next()
                .map(|ch| ch.to_uppercase().to_string())
                .unwrap_or_default(),
            name: c.display_name.clone(),
            logo: c.logo_uri.clone(),
            launch,
            reasons,
            until: until.clone(),
        });
    }
    Ok(out)
}

async fn consents(s: &UiState, user: &User) -> Result<Vec<ConsentRow>, PageError> {
    let mut rows = Vec::new();
    for c in s.provider.store.list_consents(user.id).await? {
        let Some(client) = s.provider.store.find_client(&c.client_id).await? else {
            continue;
        };
        rows.push(ConsentRow {
            name: client.display_name,
            client_id: c.client_id,
            scopes: c.scopes.join(" "),
            granted: show_date(c.granted_at),
        });
    }
    Ok(rows)
}

/// The applications the user owns and, for each, the groups assigned to it
/// that the user owns too (the only ones it may manage).
async fn owned_apps(s: &UiState, user: &User) -> Result<Vec<OwnedApp>, PageError> {
    let mut out = Vec::new();
    if !owners_may_manage(s).await? {
        return Ok(out);
    }
    for (app_id, groups) in s.groups.managed_groups(user.id).await.map_err(internal)? {
        let Some(c) = s.provider.store.find_client_by_id(app_id).await? else {
            continue;
        };
        let mut managed = Vec::new();
        for g in groups {
            let members = s
                .groups
                .list_users(g.id, Relation::Member)
                .await
                .map_err(internal)?
                .into_iter()
                .map(|u| (u.id.to_string(), u.display_name, u.mail))
                .collect();
            managed.push(ManagedGroup {
                id: g.id.to_string(),
                name: g.display_name,
                members,
            });
        }
        out.push(OwnedApp {
            name: c.display_name,
            groups: managed,
        });
    }
    Ok(out)
}

pub(super) async fn show(
    s: &UiState,
    me: &Me,
    notice: Option<String>,
) -> Result<Response, PageError> {
    let page = MyAppsPage {
        name: me.user.display_name.clone(),
        email: me.user.mail.clone(),
        organization: s.invitations.config().organization.clone(),
        csrf: me.csrf.clone(),
        tiles: tiles(s, &me.user).await?,
        consents: consents(s, &me.user).await?,
        owned: owned_apps(s, &me.user).await?,
        joinable: super::myapps_join::joinable(s, &me.user).await?,
        requests: super::myapps_join::requests(s, &me.user).await?,
        guest: me.user.user_type == UserType::Guest,
        notice,
    };
    let mut resp = page.into_response();
    resp.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    Ok(resp)
}

/// `GET /myapps`.
pub async fn myapps_get(State(s): State<UiState>, jar: CookieJar, headers: HeaderMap) -> Response {
    let result = async {
        match me(&s, &jar).await? {
            None => Ok(Redirect::to("/myapps/signin").into_response()),
            Some(me) => show(&s, &me, None).await,
        }
    }
    .await;
    result.unwrap_or_else(|e| fail(e, &headers))
}

/// `GET /myapps/signin`: to `/authorize` as the first-party client.
pub async fn signin_get(State(s): State<UiState>, jar: CookieJar) -> Response {
    MYAPPS.begin(&s, jar, &[])
}

/// `GET /myapps/callback`.
pub async fn callback_get(
    State(s): State<UiState>,
    jar: CookieJar,
    headers: HeaderMap,
    q: Result<Query<CallbackQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let q = q.map(|Query(q)| q).unwrap_or_default();
    match MYAPPS.finish(&s, jar, q).await {
        (jar, Ok(_)) => (jar, Redirect::to("/myapps")).into_response(),
        (jar, Err(SignInFailed(msg))) => {
            let e = PageError::new("myapps_signin_failed", msg).with_status(403);
            (jar, fail(e, &headers)).into_response()
        }
    }
}

#[derive(Deserialize)]
pub struct RevokeForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    client_id: String,
}

/// `POST /myapps/consents/revoke`: the consent goes, and with it the user's
/// grants at that app (access and refresh tokens). The next sign-in asks again.
pub async fn revoke_consent_post(
    State(s): State<UiState>,
    jar: CookieJar,
    headers: HeaderMap,
    Form(f): Form<RevokeForm>,
) -> Response {
    let result = async {
        let Some(me) = me(&s, &jar).await? else {
            return Ok(Redirect::to("/myapps/signin").into_response());
        };
        check_csrf(&s, &jar, &f.csrf)?;
        let name = s
            .provider
            .store
            .find_client(&f.client_id)
            .await?
            .map(|c| c.display_name)
            .unwrap_or_else(|| f.client_id.clone());
        let revoked = s
            .provider
            .store
            .revoke_consent(me.user.id, &f.client_id, s.provider.clock.now())
            .await?;
        let notice = if revoked {
            format!("{name} no longer has your consent; it was signed out.")
        } else {
            format!("{name} had no consent to revoke.")
        };
        show(&s, &me, Some(notice)).await
    }
    .await;
    result.unwrap_or_else(|e| fail(e, &headers))
}

#[derive(Deserialize)]
pub struct LeaveForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    confirm: String,
}

/// `POST /myapps/leave` (guests): the guest's account is deleted with its
/// sessions, tokens and consents (audited, the guest as actor); the browser's
/// cookies go too.
pub async fn leave_post(
    State(s): State<UiState>,
    jar: CookieJar,
    headers: HeaderMap,
    Form(f): Form<LeaveForm>,
) -> Response {
    let result = async {
        let Some(me) = me(&s, &jar).await? else {
            return Ok(Redirect::to("/myapps/signin").into_response());
        };
        check_csrf(&s, &jar, &f.csrf)?;
        if f.confirm != "leave" {
            return show(
                &s,
                &me,
                Some("Tick the box to confirm that you want to leave.".into()),
            )
            .await;
        }
        s.directory
            .leave_organization(me.user.id)
            .await
            .map_err(|e| match e {
                portico_directory::DirectoryError::Forbidden(m) => {
                    PageError::new("not_a_guest", m).with_status(403)
                }
                other => internal(other),
            })?;
        if let Some(session) = jar.get(SESSION_COOKIE).map(|c| c.value().to_string()) {
            s.provider.end_session(&session).await?;
        }
        let _ = me.grant;
        let jar = MYAPPS.sign_out(jar.remove(Cookie::build(SESSION_COOKIE).path("/")));
        let page = LeftPage {
            organization: s.invitations.config().organization.clone(),
        };
        Ok::<_, PageError>((jar, page).into_response())
    }
    .await;
    result.unwrap_or_else(|e| fail(e, &headers))
}

/// The tenant setting `ownersMayManageMembership`.
async fn owners_may_manage(s: &UiState) -> Result<bool, PageError> {
    Ok(s.invitations
        .collaboration_policy()
        .await
        .map_err(internal)?
        .owners_may_manage_membership)
}

/// The signed-in owner of a group it may manage here (it owns the group and
/// an application the group is assigned to), after the CSRF check.
async fn owner_of(
    s: &UiState,
    jar: &CookieJar,
    csrf: &str,
    group: &str,
) -> Result<Option<(Me, uuid::Uuid)>, PageError> {
    let Some(me) = me(s, jar).await? else {
        return Ok(None);
    };
    check_csrf(s, jar, csrf)?;
    let forbidden = || {
        PageError::new(
            "not_group_owner",
            "You can manage only the groups you own of the applications you own.",
        )
        .with_status(403)
    };
    let gid = uuid::Uuid::parse_str(group).map_err(|_| forbidden())?;
    if !owners_may_manage(s).await?
        || !s
            .groups
            .may_manage(me.user.id, gid)
            .await
            .map_err(internal)?
    {
        return Err(forbidden());
    }
    Ok(Some((me, gid)))
}

pub(super) fn actor_of(u: &User) -> portico_directory::Actor {
    portico_directory::Actor {
        kind: portico_directory::ActorKind::User,
        id: u.id.to_string(),
        display_name: u.display_name.clone(),
    }
}

/// A refusal the owner can act on, shown on the page.
fn said(e: portico_directory::DirectoryError) -> Result<String, PageError> {
    use portico_directory::DirectoryError as E;
    match e {
        E::Invalid(m) | E::Conflict(m) | E::Forbidden(m) => Ok(m),
        E::NotFound => Ok("Not found.".into()),
        other => Err(internal(other)),
    }
}

#[derive(Deserialize)]
pub struct MemberForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    display_name: String,
}

/// `POST /myapps/groups/{id}/members/add`: an owner adds someone who is
/// already in the directory (by address) to a group it manages.
pub async fn add_member_post(
    State(s): State<UiState>,
    jar: CookieJar,
    headers: HeaderMap,
    axum::extract::Path(group): axum::extract::Path<String>,
    Form(f): Form<MemberForm>,
) -> Response {
    let result = async {
        let Some((me, gid)) = owner_of(&s, &jar, &f.csrf, &group).await? else {
            return Ok(Redirect::to("/myapps/signin").into_response());
        };
        let email = f.email.trim().to_lowercase();
        let target = s
            .directory
            .repo()
            .find_user_by_mail(&email)
            .await
            .map_err(internal)?;
        let notice = match target {
            None => {
                format!("Nobody in the directory has the address {email}: invite them as a guest.")
            }
            Some(u) => match s
                .groups
                .add(gid, Relation::Member, u.id, &actor_of(&me.user))
                .await
            {
                Ok(()) => format!("{} was added.", u.display_name),
                Err(e) => said(e)?,
            },
        };
        show(&s, &me, Some(notice)).await
    }
    .await;
    result.unwrap_or_else(|e| fail(e, &headers))
}

#[derive(Deserialize)]
pub struct RemoveMemberForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    user: String,
}

/// `POST /myapps/groups/{id}/members/remove`.
pub async fn remove_member_post(
    State(s): State<UiState>,
    jar: CookieJar,
    headers: HeaderMap,
    axum::extract::Path(group): axum::extract::Path<String>,
    Form(f): Form<RemoveMemberForm>,
) -> Response {
    let result = async {
        let Some((me, gid)) = owner_of(&s, &jar, &f.csrf, &group).await? else {
            return Ok(Redirect::to("/myapps/signin").into_response());
        };
        let Ok(uid) = uuid::Uuid::parse_str(&f.user) else {
            return show(&s, &me, Some("Not found.".into())).await;
        };
        let notice = match s
            .groups
            .remove(gid, Relation::Member, uid, &actor_of(&me.user))
            .await
        {
            Ok(()) => "Removed from the group.".to_string(),
            Err(e) => said(e)?,
        };
        show(&s, &me, Some(notice)).await
    }
    .await;
    result.unwrap_or_else(|e| fail(e, &headers))
}

/// `POST /myapps/groups/{id}/invite`: an owner invites a guest into a group
/// it manages. The invitation obeys the organization's external
/// collaboration settings for this owner (`allowInvitesFrom`, the domain
/// lists) like any other; the guest lands on My Apps after redemption.
pub async fn invite_post(
    State(s): State<UiState>,
    jar: CookieJar,
    headers: HeaderMap,
    axum::extract::Path(group): axum::extract::Path<String>,
    Form(f): Form<MemberForm>,
) -> Response {
    let result = async {
        let Some((me, gid)) = owner_of(&s, &jar, &f.csrf, &group).await? else {
            return Ok(Redirect::to("/myapps/signin").into_response());
        };
        let actor = actor_of(&me.user);
        let graph = portico_directory::invitations::GraphInvitation {
            invited_user_email_address: Some(f.email.clone()),
            invite_redirect_url: Some(s.provider.config.issuer.clone()),
            invited_user_display_name: Some(f.display_name.clone())
                .filter(|n| !n.trim().is_empty()),
            send_invitation_message: Some(true),
            ..Default::default()
        };
        let group = s.groups.find_group(gid).await.map_err(internal)?;
        let invited = match graph.validate() {
            Ok(req) => invite_into_group(&s, req, &group, &actor).await,
            Err(e) => Err(e),
        };
        let notice = match invited {
            Ok((out, true)) => format!("{} was invited and added to the group.", out.user.mail),
            Ok((out, false)) => format!("{} is already in the group.", out.user.mail),
            Err(e) => said(e)?,
        };
        show(&s, &me, Some(notice)).await
    }
    .await;
    result.unwrap_or_else(|e| fail(e, &headers))
}

/// Invites `req`'s guest into `group`. A new invitation joins the group in
/// its own transaction; an existing guest's live invitation comes back
/// unchanged, and the guest is then added like any member. `true` when the
/// guest joined now, `false` when it already was a member.
pub(crate) async fn invite_into_group(
    s: &UiState,
    mut req: portico_directory::invitations::InviteRequest,
    group: &portico_directory::groups::Group,
    actor: &portico_directory::Actor,
) -> Result<(portico_directory::invitations::InviteOutcome, bool), portico_directory::DirectoryError>
{
    req.granted_group = Some(portico_directory::invitations::GrantedGroup {
        id: group.id,
        display_name: group.display_name.clone(),
    });
    let out = s.invitations.invite(&req, actor, None).await?;
    if out.created {
        return Ok((out, true));
    }
    match s
        .groups
        .add(group.id, Relation::Member, out.user.id, actor)
        .await
    {
        Ok(()) => Ok((out, true)),
        // Graph's answer for a reference that already exists.
        Err(portico_directory::DirectoryError::Invalid(_)) => Ok((out, false)),
        Err(e) => Err(e),
    }
}
