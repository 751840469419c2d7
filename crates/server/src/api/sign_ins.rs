//! `GET /api/v1/auditLogs/signIns` and `/signIns/{id}` (`AuditLog.Read.All`):
//! the sign-in log in Microsoft Graph's `signIn` shape, newest first, paged
//! like every list here (`$top`, `$skiptoken`, `@odata.nextLink`), filtered by
//! the `$filter` subset of [`super::sign_in_filter`].
//!
//! Graph's properties keep Graph's names and meanings, so scripts written for
//! Entra read Portico's log unchanged; what Graph has no property for is
//! added under Portico's own names (`homeIdentityProvider`, `amr`, `acr`,
//! `result`, `authenticationSteps`).

use super::sign_in_filter::parse_sign_in_filter;
use super::{ApiError, Caller, ErrorBody, Page, Paging, parse_id};
use crate::app::App;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use portico_oidc::signin_log::{
    AppliedPolicy, SignInQuery, SignInRecord, SignInResult, StepRecord,
};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

const PERMISSION: &str = "AuditLog.Read.All";
const PATH: &str = "/api/v1/auditLogs/signIns";

/// Graph's `signIn`, plus Portico's extensions.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(as = SignIn)]
pub struct SignInView<'a> {
    id: Uuid,
    created_date_time: DateTime<Utc>,
    user_id: Option<Uuid>,
    user_principal_name: Option<&'a str>,
    user_display_name: Option<&'a str>,
    /// Graph's `appId` is the application's client id.
    app_id: &'a str,
    app_display_name: &'a str,
    ip_address: Option<&'a str>,
    /// Every Portico sign-in happens in a browser.
    #[schema(value_type = String, example = "Browser")]
    client_app_used: &'static str,
    user_agent: Option<&'a str>,
    correlation_id: &'a str,
    status: Status<'a>,
    authentication_methods_used: Vec<&'a str>,
    #[schema(value_type = AuthenticationRequirementName)]
    authentication_requirement: &'static str,
    home_identity_provider: Option<&'a str>,
    #[schema(value_type = Vec<String>)]
    amr: &'a [String],
    acr: Option<&'a str>,
    #[schema(value_type = SignInResultName)]
    result: SignInResult,
    #[schema(value_type = Vec<StepView>)]
    authentication_steps: &'a [StepRecord],
    /// Graph's `deviceDetail`: the platform the client claimed.
    device_detail: DeviceDetail<'a>,
    /// Graph's `signInLocation`: the country of the IP address (`null`: unknown).
    location: Location<'a>,
    #[schema(value_type = Vec<AppliedPolicyView>)]
    applied_conditional_access_policies: &'a [AppliedPolicy],
    /// Graph's `conditionalAccessStatus`.
    #[schema(value_type = ConditionalAccessStatusName)]
    conditional_access_status: &'static str,
}

/// How a sign-in ended.
#[derive(ToSchema)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)]
pub enum SignInResultName {
    Success,
    Denied,
    Aborted,
    Failed,
}

/// Graph's `authenticationRequirement`.
#[derive(ToSchema)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)]
pub enum AuthenticationRequirementName {
    SingleFactorAuthentication,
    MultiFactorAuthentication,
}

/// Graph's `conditionalAccessStatus`.
#[derive(ToSchema)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)]
pub enum ConditionalAccessStatusName {
    Success,
    Failure,
    NotApplied,
}

/// One step the user performed.
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub struct StepView {
    /// `password`, `emailCode`, `upstream`, `redemption`, `totp`,
    /// `recoveryCode`, `emailOtp`, `passkey`, `consent`.
    method: String,
    at: DateTime<Utc>,
    /// The RFC 8176 `amr` value the step contributes (absent: none).
    amr: Option<String>,
}

/// Graph's `appliedConditionalAccessPolicy`.
#[derive(ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[allow(dead_code)]
pub struct AppliedPolicyView {
    id: String,
    display_name: String,
    #[schema(value_type = AppliedPolicyResultName)]
    result: String,
    /// `Block`, `Mfa` (what the policy asked, when it applied).
    enforced_grant_controls: Vec<String>,
}

/// An applied policy's `result`.
#[derive(ToSchema)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)]
pub enum AppliedPolicyResultName {
    Success,
    Failure,
    NotApplied,
    NotEnabled,
    ReportOnlySuccess,
    ReportOnlyFailure,
    ReportOnlyNotApplied,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DeviceDetail<'a> {
    operating_system: Option<&'a str>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Location<'a> {
    country_or_region: Option<&'a str>,
}

/// Graph's rule: a failure if an enforced policy failed, a success if one
/// applied, else not applied (report-only results do not count).
fn ca_status(r: &SignInRecord) -> &'static str {
    let results = || r.applied_policies.iter().map(|p| p.result.as_str());
    if results().any(|x| x == "failure") {
        "failure"
    } else if results().any(|x| x == "success") {
        "success"
    } else {
        "notApplied"
    }
}

/// Graph's `signInStatus`.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(as = SignInStatus)]
pub struct Status<'a> {
    error_code: u32,
    /// The sentence the user was shown.
    failure_reason: Option<&'a str>,
    /// Portico's stable reason code.
    additional_details: Option<&'a str>,
}

/// Graph's `status.errorCode`: 0 for a success; otherwise a stable number per
/// Portico reason code. Where Entra has an AADSTS error for the same cause its
/// number is used, so alerts written against Entra's log keep matching;
/// reasons Entra has no number for share 90000.
fn error_code(result: SignInResult, reason: Option<&str>) -> u32 {
    if result == SignInResult::Success {
        return 0;
    }
    match reason.unwrap_or_default() {
        // AADSTS50126: invalid username or password.
        "invalid_credentials" => 50126,
        // AADSTS50057: the user account is disabled.
        "account_disabled" | "session_account_disabled" => 50057,
        // AADSTS50074 / 50076: strong authentication is required.
        "mfa_required" => 50074,
        "interaction_required" => 50076,
        // AADSTS50079: the user must register for multi-factor authentication.
        "mfa_not_enrolled" => 50079,
        // AADSTS50053: the account is locked (too many attempts).
        "mfa_locked" | "locked" => 50053,
        // AADSTS65004: the user declined to consent or cancelled.
        "user_cancelled" | "consent_declined" => 65004,
        // AADSTS65001: consent is needed and could not be asked (prompt=none).
        "consent_required" => 65001,
        // AADSTS50058: a silent sign-in found no session.
        "login_required" => 50058,
        // AADSTS50105: the user may not use this application.
        "access_denied" | "not_assigned" => 50105,
        // AADSTS53003: blocked by conditional access.
        "conditional_access_blocked" => 53003,
        // AADSTS90072: the home IdP's account is not a user of this tenant.
        "not_a_guest" => 90072,
        _ => 90000,
    }
}

fn view(r: &SignInRecord) -> SignInView<'_> {
    SignInView {
        id: r.id,
        created_date_time: r.created_at,
        user_id: r.user_id,
        user_principal_name: r.user_principal_name.as_deref(),
        user_display_name: r.user_display_name.as_deref(),
        app_id: &r.client_id,
        app_display_name: &r.app_display_name,
        ip_address: r.ip_address.as_deref(),
        client_app_used: "Browser",
        user_agent: r.user_agent.as_deref(),
        correlation_id: &r.correlation_id,
        status: Status {
            error_code: error_code(r.result, r.failure_reason.as_deref()),
            failure_reason: r.failure_message.as_deref(),
            additional_details: r.failure_reason.as_deref(),
        },
        authentication_methods_used: r.methods_used(),
        authentication_requirement: if r.is_multi_factor() {
            "multiFactorAuthentication"
        } else {
            "singleFactorAuthentication"
        },
        home_identity_provider: r.home_idp.as_deref(),
        amr: &r.amr,
        acr: r.acr.as_deref(),
        result: r.result,
        authentication_steps: &r.steps,
        device_detail: DeviceDetail {
            operating_system: r.platform.as_deref(),
        },
        location: Location {
            country_or_region: r.country.as_deref(),
        },
        applied_conditional_access_policies: &r.applied_policies,
        conditional_access_status: ca_status(r),
    }
}

#[utoipa::path(
    get,
    path = "/api/v1/auditLogs/signIns",
    tag = "auditLogs",
    description = "The sign-in log, newest first; `$filter` on `userId`, `appId`, `status/errorCode`, `result` \
        and `appliedConditionalAccessPolicies/any(p: [p/id eq '<id>' and] p/result eq '<result>')`. Needs AuditLog.Read.All.",
    extensions(("x-permissions" = json!([PERMISSION]))),
    params(Paging),
    responses(
        (status = 200, description = "A page of sign-ins", body = Page<SignInView>),
        (status = 400, description = "Bad `$top`, `$skiptoken` or `$filter`", body = ErrorBody),
        (status = 401, description = "No valid bearer token", body = ErrorBody),
        (status = 403, description = "The token lacks AuditLog.Read.All", body = ErrorBody),
    ),
)]
pub async fn sign_ins_get(
    State(app): State<App>,
    caller: Caller,
    Query(p): Query<Paging>,
) -> Result<Response, ApiError> {
    caller.require(PERMISSION)?;
    let filter =
        parse_sign_in_filter(p.filter.as_deref().unwrap_or("")).map_err(ApiError::bad_request)?;
    let q = SignInQuery {
        user_id: filter.user_id,
        client_id: filter.client_id,
        result: filter.result,
        policy_result: filter.policy_result,
        before: p.skiptoken()?,
        limit: p.top()?,
    };
    let list = app
        .sign_in_log
        .list_sign_ins(&q)
        .await
        .map_err(ApiError::internal)?;
    let value = list.iter().map(view).collect();
    let last = list.last().map(|r| r.id);
    let body = p.page(&app.settings.issuer, PATH, q.limit, value, last);
    Ok(axum::Json(body).into_response())
}

#[utoipa::path(
    get,
    path = "/api/v1/auditLogs/signIns/{id}",
    tag = "auditLogs",
    description = "One sign-in. Needs AuditLog.Read.All.",
    extensions(("x-permissions" = json!([PERMISSION]))),
    params(("id" = Uuid, Path, description = "The sign-in's id")),
    responses(
        (status = 200, description = "The sign-in", body = SignInView),
        (status = 401, description = "No valid bearer token", body = ErrorBody),
        (status = 403, description = "The token lacks AuditLog.Read.All", body = ErrorBody),
        (status = 404, description = "No such sign-in", body = ErrorBody),
    ),
)]
pub async fn sign_in_get(
    State(app): State<App>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    caller.require(PERMISSION)?;
    let record = app
        .sign_in_log
        .find_sign_in(parse_id(&id)?)
        .await
        .map_err(ApiError::internal)?
        .ok_or_else(ApiError::not_found)?;
    Ok(axum::Json(view(&record)).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_codes_are_zero_only_for_success() {
        use SignInResult::*;
        let check = |result, reason, code| assert_eq!(error_code(result, reason), code);
        check(Success, None, 0);
        check(Success, Some("invalid_credentials"), 0);
        check(Failed, Some("invalid_credentials"), 50126);
        check(Denied, Some("account_disabled"), 50057);
        check(Denied, Some("mfa_required"), 50074);
        check(Denied, Some("interaction_required"), 50076);
        check(Failed, Some("mfa_locked"), 50053);
        check(Aborted, Some("user_cancelled"), 65004);
        check(Aborted, Some("consent_declined"), 65004);
        check(Denied, Some("login_required"), 50058);
        check(Denied, Some("access_denied"), 50105);
        check(Failed, Some("something_new"), 90000);
        check(Failed, None, 90000);
    }
}
