//! Who is using the portal: the [`Admin`] extractor and the CSRF tokens.
//!
//! The admin is looked up on every request (portal grant → user → `is_admin`
//! and `can_sign_in(now)`), so revoking admin rights, disabling the account or
//! its access expiring takes effect on the next click, not at session end.

use super::error::PortalError;
use crate::http::UiState;
use crate::http::first_party::PORTAL;
use axum::extract::FromRequestParts;
use axum::http::Method;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::CookieJar;
use portico_directory::{Actor, ActorKind, DirectoryError, User};
use uuid::Uuid;

const CSRF_PURPOSE: &str = "portal-csrf";

/// A signed-in, enabled administrator.
pub struct Admin {
    pub user: User,
    /// The portal cookie's value (the CSRF tokens derive from it).
    pub token: String,
    /// The portal's grant: revoking it signs the portal out.
    pub grant_id: Uuid,
    /// The CSRF token every form of this session carries.
    pub csrf: String,
}

impl Admin {
    /// The audit log's "who" for changes made in the portal.
    pub fn actor(&self) -> Actor {
        Actor {
            kind: ActorKind::User,
            id: self.user.id.to_string(),
            display_name: self.user.display_name.clone(),
        }
    }

    /// The hasher compares in constant time, so the token cannot be found
    /// byte by byte.
    pub fn check_csrf(&self, s: &UiState, presented: &str) -> Result<(), PortalError> {
        if s.provider
            .hasher
            .verify(CSRF_PURPOSE, &self.token, presented)
        {
            Ok(())
        } else {
            Err(PortalError::Forbidden)
        }
    }
}

/// The admin whose portal session `jar` holds: a live grant of the portal
/// client (`first_party::PORTAL`) of an admin who may still sign in.
pub async fn current_admin(s: &UiState, jar: &CookieJar) -> Result<Option<Admin>, PortalError> {
    let Some((token, grant)) = PORTAL
        .session(s, jar)
        .await
        .map_err(PortalError::internal)?
    else {
        return Ok(None);
    };
    let Some(user_id) = grant.user_id else {
        return Ok(None);
    };
    // A grant whose user was deleted signs in no one.
    let user = match s.directory.find_user(user_id).await {
        Ok(user) => user,
        Err(DirectoryError::NotFound) => return Ok(None),
        Err(e) => return Err(PortalError::internal(e)),
    };
    let now = s.provider.clock.now();
    Ok(Some(user)
        .filter(|u| u.is_admin && u.can_sign_in(now))
        .map(|user| Admin {
            user,
            csrf: s.provider.hasher.hash(CSRF_PURPOSE, &token),
            token,
            grant_id: grant.id,
        }))
}

impl FromRequestParts<UiState> for Admin {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, s: &UiState) -> Result<Self, Response> {
        let jar = CookieJar::from_headers(&parts.headers);
        match current_admin(s, &jar).await {
            Ok(Some(admin)) => Ok(admin),
            // A page view goes to sign-in; a form post without a session is
            // refused rather than redirected, so it is never replayed later.
            Ok(None) if parts.method == Method::GET || parts.method == Method::HEAD => {
                Err(Redirect::to("/admin/signin").into_response())
            }
            Ok(None) => Err(PortalError::Forbidden.into_response()),
            Err(e) => Err(e.into_response()),
        }
    }
}
