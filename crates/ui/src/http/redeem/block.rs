//! The "block further invitations" link from the invitation email. The GET
//! only shows a confirmation (mail scanners follow links); the block itself
//! is a POST from the same browser, bound like the redemption steps.

use super::pages::{BlockConfirmPage, BlockDonePage, LinkFields};
use super::problem::{redeem_error, stale_form};
use super::{BLOCK, UiState};
use axum::Form;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum_extra::extract::CookieJar;
use portico_directory::invitations::InvitationState;
use portico_oidc::http::request_id;
use serde::Deserialize;

#[derive(Deserialize, Default)]
pub struct BlockForm {
    #[serde(default)]
    i: String,
    #[serde(default)]
    t: String,
    #[serde(default)]
    csrf: String,
}

/// `GET /invitations/block?i&t`: asks to confirm.
pub async fn block_get(
    State(s): State<UiState>,
    jar: CookieJar,
    headers: HeaderMap,
    q: Result<Query<BlockForm>, QueryRejection>,
) -> Response {
    let q = q.map(|Query(q)| q).unwrap_or_default();
    let inv = match s.invitations.open_block_link(&q.i, &q.t).await {
        Ok(inv) => inv,
        Err(e) => return redeem_error(&s, &q.i, e, &request_id(&headers)).await,
    };
    let (jar, binding) = BLOCK.ensure(&s, jar);
    let page = BlockConfirmPage {
        link: LinkFields {
            i: q.i,
            t: q.t,
            csrf: BLOCK.csrf(&s, &binding),
            flow: String::new(),
        },
        organization: s.invitations.config().organization.clone(),
        email: inv.email,
        is_pending: inv.state == InvitationState::Pending,
    };
    (jar, page).into_response()
}

/// `POST /invitations/block`: blocks the address (idempotent).
pub async fn block_post(
    State(s): State<UiState>,
    jar: CookieJar,
    headers: HeaderMap,
    Form(f): Form<BlockForm>,
) -> Response {
    let rid = request_id(&headers);
    if BLOCK.check(&s, &jar, &f.csrf).is_none() {
        return stale_form("Open the block link in your invitation email again.");
    }
    let inv = match s.invitations.open_block_link(&f.i, &f.t).await {
        Ok(inv) => inv,
        Err(e) => return redeem_error(&s, &f.i, e, &rid).await,
    };
    if let Err(e) = s.invitations.block(&inv).await {
        return redeem_error(&s, &f.i, e, &rid).await;
    }
    let page = BlockDonePage {
        organization: s.invitations.config().organization.clone(),
        email: inv.email,
    };
    (BLOCK.remove(jar), page).into_response()
}
