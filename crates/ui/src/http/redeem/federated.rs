//! Redemption through the guest's home IdP: the landing page's button leaves
//! for the IdP serving the invited address; the callback (`http/federation`)
//! verifies the ID token and sends the browser to `GET /redeem/federated`.
//! There the invited mailbox must be proven before the consent page: the
//! home IdP asserted the invited address as verified, or the guest enters a
//! code sent to it. The guest's identity becomes (issuer, subject).

use super::link::{Step, StepForm, code_page, consent_page_with, open_step, signed_in};
use super::problem::{code_spent, redeem_error, stale_form};
use super::{REDEEM, UiState};
use crate::http::federation::{self, Exits, FlowQuery, problem_response};
use axum::Form;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::CookieJar;
use portico_directory::invitations::{FederatedProof, Invitation, RedeemError};
use portico_federation::{FederationError, FlowPurpose, UpstreamIdentity, UpstreamProblem};
use portico_oidc::http::request_id;
use portico_oidc::interaction::StepDone;
use portico_policy::Method;
use uuid::Uuid;

fn link_exits(s: &UiState, inv: &Invitation) -> Exits {
    let link = format!("/redeem?i={}&t={}", inv.id, s.invitations.link_token(inv));
    Exits {
        other_way: Some(format!("{link}&other=1")),
        retry: Some(link),
    }
}

fn proof_of(id: &UpstreamIdentity) -> FederatedProof {
    FederatedProof {
        issuer: id.issuer.clone(),
        subject: id.subject.clone(),
        email: id.email.clone(),
        email_verified: id.email_verified,
    }
}

fn wrong_flow() -> FederationError {
    FederationError::Upstream {
        problem: UpstreamProblem::InvalidState,
        detail: "the flow belongs to another invitation".into(),
    }
}

/// The flow's verified identity, if it belongs to this invitation as it is now.
async fn flow_identity(
    s: &UiState,
    flow: &str,
    step: &Step,
) -> Result<(Uuid, UpstreamIdentity), FederationError> {
    let id = Uuid::parse_str(flow.trim()).map_err(|_| wrong_flow())?;
    let (purpose, identity) = s.federation.result(id, &step.binding).await?;
    let expected = FlowPurpose::Redeem {
        invitation_id: step.inv.id,
        link_generation: step.inv.link_generation,
    };
    if purpose != expected {
        return Err(wrong_flow());
    }
    Ok((id, identity))
}

/// `POST /redeem/federation`: off to the home IdP serving the invited address.
pub async fn federation_post(
    State(s): State<UiState>,
    jar: CookieJar,
    headers: HeaderMap,
    Form(f): Form<StepForm>,
) -> Response {
    let rid = request_id(&headers);
    let step = match open_step(&s, &jar, &f, &rid).await {
        Ok(step) => step,
        Err(resp) => return resp,
    };
    let idp = match s.federation.idp_for_email(&step.inv.email).await {
        Ok(Some(idp)) => idp,
        // Turned off meanwhile: the email code it is.
        Ok(None) => {
            let link = format!("/redeem?i={}&t={}&other=1", f.i, f.t);
            return Redirect::to(&link).into_response();
        }
        Err(e) => return problem_response(&e, None, link_exits(&s, &step.inv), &rid),
    };
    let purpose = FlowPurpose::Redeem {
        invitation_id: step.inv.id,
        link_generation: step.inv.link_generation,
    };
    let exits = link_exits(&s, &step.inv);
    let hint = Some(step.inv.email.as_str());
    federation::start(&s, &idp, purpose, &step.binding, hint, exits, &rid).await
}

/// `GET /redeem/federated?flow=F`: back from the home IdP.
pub async fn federated_get(
    State(s): State<UiState>,
    jar: CookieJar,
    headers: HeaderMap,
    q: Result<Query<FlowQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let rid = request_id(&headers);
    let q = q.map(|Query(q)| q).unwrap_or_default();
    let Some(binding) = REDEEM.value(&jar) else {
        return stale_form("Open the link in your invitation email again.");
    };
    let flow = q.flow().to_string();
    let Ok(flow_id) = Uuid::parse_str(flow.trim()) else {
        return problem_response(&wrong_flow(), None, Exits::default(), &rid);
    };
    let (purpose, identity) = match s.federation.result(flow_id, &binding).await {
        Ok(r) => r,
        Err(e) => return problem_response(&e, None, Exits::default(), &rid),
    };
    let FlowPurpose::Redeem {
        invitation_id,
        link_generation,
    } = purpose
    else {
        return problem_response(&wrong_flow(), None, Exits::default(), &rid);
    };
    let inv = match s
        .invitations
        .open_by_generation(invitation_id, link_generation)
        .await
    {
        Ok(inv) => inv,
        Err(e) => return redeem_error(&s, &invitation_id.to_string(), e, &rid).await,
    };
    let f = StepForm {
        i: inv.id.to_string(),
        t: s.invitations.link_token(&inv),
        flow,
        ..StepForm::default()
    };
    let step = Step { inv, binding };
    let proof = proof_of(&identity);
    if proof.proves_mailbox(&step.inv) {
        return consent_page_with(&s, &f, &step, String::new(), Some(identity.idp_name), &rid)
            .await;
    }
    // The home IdP did not vouch for the invited address (another address,
    // or not verified): the guest also proves the mailbox with a code.
    match s
        .invitations
        .send_redeem_code(&step.inv, &step.binding)
        .await
    {
        Ok(code_id) => {
            let mut page = code_page(&s, &f, &step, code_id.to_string(), None);
            page.note = Some(format!(
                "{} did not confirm that {} is your address, so we also need to check that you can read its email.",
                identity.idp_name, step.inv.email
            ));
            page.into_response()
        }
        Err(e) => redeem_error(&s, &f.i, e, &rid).await,
    }
}

/// The idp name for the consent page of a federated redemption.
pub(super) async fn flow_idp_name(s: &UiState, f: &StepForm, step: &Step) -> Option<String> {
    if f.flow.is_empty() {
        return None;
    }
    flow_identity(s, &f.flow, step)
        .await
        .ok()
        .map(|(_, i)| i.idp_name)
}

/// A hand-made consent post: show the choice again.
pub(super) async fn consent_again(s: &UiState, f: &StepForm, step: &Step, rid: &str) -> Response {
    match flow_identity(s, &f.flow, step).await {
        Ok((_, identity)) => {
            consent_page_with(s, f, step, f.code_id.clone(), Some(identity.idp_name), rid).await
        }
        Err(e) => problem_response(&e, None, link_exits(s, &step.inv), rid),
    }
}

/// Accept: the guest joins with (issuer, subject) as their identity.
pub(super) async fn accept(
    s: &UiState,
    jar: CookieJar,
    f: &StepForm,
    step: &Step,
    rid: &str,
) -> Response {
    let (flow_id, identity) = match flow_identity(s, &f.flow, step).await {
        Ok(r) => r,
        Err(e) => return problem_response(&e, None, link_exits(s, &step.inv), rid),
    };
    let code = f.code_id().ok();
    let accepted = s
        .invitations
        .accept_federated(&step.inv, &proof_of(&identity), code, &step.binding)
        .await;
    let user = match accepted {
        Ok(u) => u,
        Err(RedeemError::CodeSpent) => return code_spent(f.link(REDEEM.csrf(s, &step.binding))),
        Err(e) => return redeem_error(s, &f.i, e, rid).await,
    };
    // The result is used up; the invitation is accepted either way.
    if let Err(e) = s.federation.claim_result(flow_id, &step.binding).await {
        tracing::warn!(error = %e, "could not mark a federation flow used");
    }
    tracing::info!(idp = %identity.issuer, user = %user.id, "invitation redeemed through a home IdP");
    let first = StepDone::FirstFactor {
        user_id: user.id,
        method: Method::Upstream,
        idp: Some(identity.issuer.clone()),
        upstream: Some(federation::upstream_assertion(&identity)),
    };
    signed_in(s, jar, &step.inv, first, rid).await
}
