//! The pages a redemption ends on when it cannot go on. Each problem has its
//! own status (so monitoring and tests can tell them apart) and says what the
//! guest can do next; none of them says more than the link already proves.

use super::UiState;
use super::pages::{LinkFields, ProblemPage};
use crate::pages::error_response;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use portico_directory::invitations::{Invitation, RedeemError, RedeemProblem};
use portico_oidc::PageError;
use uuid::Uuid;

fn page(code: &'static str, title: &str, message: String) -> ProblemPage {
    ProblemPage {
        code,
        title: title.into(),
        message,
        resend: None,
        action: None,
    }
}

fn respond(status: StatusCode, p: ProblemPage) -> Response {
    (status, p).into_response()
}

/// The invitation behind a link whose token was already checked (the
/// directory checks the token before it looks at the state), for the
/// expired and accepted pages that name the inviter or the app.
async fn checked_invitation(s: &UiState, i: &str) -> Option<Invitation> {
    let id = Uuid::parse_str(i).ok()?;
    s.invitations.find(id).await.ok()
}

/// The page for a link that cannot be redeemed (any step may find one: an
/// invitation can be resent or revoked while the guest reads the email).
pub async fn link_problem(s: &UiState, i: &str, p: RedeemProblem) -> Response {
    let org = s.invitations.config().organization.clone();
    match p {
        RedeemProblem::InvalidLink | RedeemProblem::Revoked => respond(
            StatusCode::NOT_FOUND,
            page("invitation_invalid",
                "This invitation link is no longer valid",
                "The invitation may have been withdrawn, or replaced by a newer email. Use the link in the most recent invitation email, or ask the person who invited you to send a new one.".into(),
            ),
        ),
        RedeemProblem::Expired => {
            let inviter = checked_invitation(s, i)
                .await
                .map(|inv| inv.invited_by.display_name)
                .filter(|n| !n.trim().is_empty())
                .unwrap_or_else(|| "the person who invited you".into());
            let message = format!("This invitation from {org} has expired. Ask {inviter} to resend it.");
            respond(StatusCode::GONE, page("invitation_expired", "This invitation has expired", message))
        }
        RedeemProblem::AlreadyAccepted => {
            let mut p = page("invitation_accepted",
                "You already accepted this invitation",
                format!("You are a guest of {org}: sign in to its applications with this email address."),
            );
            p.action = checked_invitation(s, i)
                .await
                .map(|inv| (inv.redirect_url, "Go to the application".to_string()));
            respond(StatusCode::OK, p)
        }
        RedeemProblem::AccountDisabled => respond(
            StatusCode::FORBIDDEN,
            page("account_disabled",
                "Your access is turned off",
                format!("Your guest access to {org} is disabled or has ended. Contact {org} if you think this is a mistake."),
            ),
        ),
        RedeemProblem::DomainBlocked => respond(
            StatusCode::FORBIDDEN,
            page("guest_domain_blocked",
                "Your email domain is not accepted",
                format!("{org} no longer accepts guests from your email domain, so this invitation cannot be accepted. Ask the person who invited you."),
            ),
        ),
    }
}

/// A form posted without this browser's binding cookie, or with a stale token.
pub fn stale_form(start_again: &str) -> Response {
    respond(
        StatusCode::FORBIDDEN,
        page(
            "invalid_csrf",
            "This page has expired",
            format!(
                "For your security, each step must happen in the same browser, within an hour. {start_again}"
            ),
        ),
    )
}

/// The code is spent (expired, used, out of attempts): offer a new one.
pub fn code_spent(link: LinkFields) -> Response {
    let mut p = page(
        "code_spent",
        "This code can no longer be used",
        "The code expired, was already used, or was typed wrong too many times. Ask for a new one."
            .into(),
    );
    p.resend = Some(link);
    respond(StatusCode::BAD_REQUEST, p)
}

/// Any other failure of a redemption step.
pub async fn redeem_error(s: &UiState, i: &str, e: RedeemError, request_id: &str) -> Response {
    match e {
        RedeemError::Link(p) => link_problem(s, i, p).await,
        RedeemError::TooManyCodes => respond(
            StatusCode::TOO_MANY_REQUESTS,
            page("too_many_codes",
                "Too many codes",
                "We already sent several codes to this address in the last hour. Use the newest one, or wait a while and try again.".into(),
            ),
        ),
        RedeemError::WrongCode { .. } | RedeemError::CodeSpent => respond(
            StatusCode::BAD_REQUEST,
            page("code_spent",
                "This code can no longer be used",
                "Open the link in your invitation email again to get a new code.".into(),
            ),
        ),
        RedeemError::IdentityInUse => respond(
            StatusCode::CONFLICT,
            page("identity_in_use",
                "This account is already in use here",
                "The account you signed in with is already linked to another guest of this organization. Sign in with the account you were invited with, or use another way to sign in.".into(),
            ),
        ),
        RedeemError::Directory(err) => {
            tracing::error!(error = ?err, "directory failure during redemption");
            error_response(&PageError::internal(), request_id).into_response()
        }
    }
}
