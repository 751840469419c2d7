//! The sign-in log page: every sign-in, newest first, 50 a page, optionally
//! only those with one result (`?result=failed`) and only those a conditional
//! access policy (`?policy=<id>`, or any) applied to with one result
//! (`?caResult=reportOnlyFailure`), paged by id (`?before=<id of the last
//! sign-in shown>`, keeping the filters).

use super::auth::Admin;
use super::error::PortalError;
use super::parse::{PAGE_SIZE, field, parse_cursor, show_time};
use super::views::{Chrome, Section};
use crate::http::UiState;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use portico_oidc::signin_log::{PolicyResultFilter, SignInQuery, SignInRecord, SignInResult};
use serde::Deserialize;
use uuid::Uuid;

/// The conditional access results the log is indexed by, as Entra's sign-in
/// log names them.
const POLICY_RESULTS: [(&str, &str); 4] = [
    ("success", "Success"),
    ("failure", "Failure"),
    ("reportOnlySuccess", "Report-only: success"),
    ("reportOnlyFailure", "Report-only: failure"),
];

const RESULTS: [(SignInResult, &str); 4] = [
    (SignInResult::Success, "Success"),
    (SignInResult::Failed, "Failed"),
    (SignInResult::Denied, "Denied"),
    (SignInResult::Aborted, "Aborted"),
];

#[derive(Template, WebTemplate)]
#[template(path = "admin_signins.html")]
struct SignInsPage {
    chrome: Chrome,
    /// The result filter, as a `SignInResult` code ("" for all).
    filter_result: String,
    /// The conditional access filter: a policy id ("" for any policy) and
    /// a result ("" for no conditional access filter).
    filter_policy: String,
    filter_ca_result: String,
    /// Every policy, for the filter: (id, name).
    policies: Vec<(String, String)>,
    rows: Vec<SignInRow>,
    next: Option<String>,
    /// Set on later pages: the newest page, with the same filter.
    newest: Option<String>,
    error: Option<String>,
}

impl SignInsPage {
    /// The result options of the filter form, with the selected one marked.
    fn result_options(&self) -> Vec<(&'static str, &'static str, bool)> {
        let mut out = vec![("", "All results", self.filter_result.is_empty())];
        out.extend(
            RESULTS
                .iter()
                .map(|(r, label)| (r.as_str(), *label, self.filter_result == r.as_str())),
        );
        out
    }

    fn policy_options(&self) -> Vec<(String, String, bool)> {
        let mut out = vec![(
            String::new(),
            "Any policy".to_string(),
            self.filter_policy.is_empty(),
        )];
        out.extend(
            self.policies
                .iter()
                .map(|(id, name)| (id.clone(), name.clone(), *id == self.filter_policy)),
        );
        out
    }

    fn ca_result_options(&self) -> Vec<(&'static str, &'static str, bool)> {
        let mut out = vec![("", "Any", self.filter_ca_result.is_empty())];
        out.extend(
            POLICY_RESULTS
                .iter()
                .map(|(v, label)| (*v, *label, self.filter_ca_result == *v)),
        );
        out
    }
}

/// One row of the table, as display strings.
struct SignInRow {
    when: String,
    user: String,
    user_detail: String,
    app: String,
    client_id: String,
    result: &'static str,
    /// The portal's status style: `completed` (success) or `failed`.
    result_class: &'static str,
    reason: String,
    reason_code: String,
    ip: String,
    methods: String,
    correlation_id: String,
    /// The policies that applied, with their results ("" when none did).
    conditional_access: String,
}

impl SignInRow {
    fn new(r: &SignInRecord) -> Self {
        let (user, user_detail) = match (&r.user_display_name, &r.user_principal_name) {
            (Some(name), Some(upn)) => (name.clone(), upn.clone()),
            (Some(name), None) => (name.clone(), String::new()),
            (None, Some(upn)) => (upn.clone(), String::new()),
            (None, None) => match r.user_id {
                Some(id) => (id.to_string(), String::new()),
                None => ("Unknown user".into(), String::new()),
            },
        };
        let result = RESULTS
            .iter()
            .find(|(x, _)| *x == r.result)
            .map(|(_, label)| *label)
            .unwrap_or_default();
        let methods = r.methods_used().join(", ");
        SignInRow {
            when: show_time(r.created_at),
            user,
            user_detail,
            app: r.app_display_name.clone(),
            client_id: r.client_id.clone(),
            result,
            result_class: if r.result == SignInResult::Success {
                "completed"
            } else {
                "failed"
            },
            reason: r.failure_message.clone().unwrap_or_default(),
            reason_code: r.failure_reason.clone().unwrap_or_default(),
            ip: r.ip_address.clone().unwrap_or_else(|| "—".into()),
            methods: if methods.is_empty() {
                "—".into()
            } else {
                methods
            },
            correlation_id: r.correlation_id.clone(),
            conditional_access: r
                .applied_policies
                .iter()
                .filter_map(|p| {
                    POLICY_RESULTS
                        .iter()
                        .find(|(v, _)| *v == p.result)
                        .map(|(_, label)| format!("{}: {label}", p.display_name))
                })
                .collect::<Vec<_>>()
                .join("; "),
        }
    }
}

#[derive(Deserialize)]
pub struct SignInsParams {
    result: Option<String>,
    policy: Option<String>,
    #[serde(rename = "caResult")]
    ca_result: Option<String>,
    before: Option<String>,
}

/// `?policy=` and `?caResult=` into a filter: a policy alone means "applied
/// to", which the index does not hold apart from its results, so a result is
/// required with it.
fn parse_policy_result(
    policy: Option<&str>,
    result: Option<&str>,
) -> Result<Option<PolicyResultFilter>, String> {
    let policy = field(policy);
    match field(result) {
        None if policy.is_some() => {
            Err("Choose the policy result to look for (success, failure, or report-only).".into())
        }
        None => Ok(None),
        Some(r) if POLICY_RESULTS.iter().any(|(v, _)| *v == r) => Ok(Some(PolicyResultFilter {
            policy_id: policy.map(str::to_string),
            result: r.to_string(),
        })),
        Some(_) => Err(
            "The policy result must be success, failure, reportOnlySuccess or reportOnlyFailure."
                .into(),
        ),
    }
}

/// `?result=` into a result; empty means all.
fn parse_result(s: Option<&str>) -> Result<Option<SignInResult>, String> {
    match field(s) {
        None => Ok(None),
        Some(x) => SignInResult::parse(x)
            .map(Some)
            .ok_or_else(|| "The result must be success, failed, denied or aborted.".into()),
    }
}

/// The link to the page before `before` (the newest page when `None`),
/// keeping the filters.
fn sign_ins_link(
    result: Option<SignInResult>,
    policy: Option<&PolicyResultFilter>,
    before: Option<Uuid>,
) -> String {
    let mut ser = url::form_urlencoded::Serializer::new(String::new());
    if let Some(r) = result {
        ser.append_pair("result", r.as_str());
    }
    if let Some(f) = policy {
        if let Some(p) = &f.policy_id {
            ser.append_pair("policy", p);
        }
        ser.append_pair("caResult", &f.result);
    }
    if let Some(b) = before {
        ser.append_pair("before", &b.to_string());
    }
    let query = ser.finish();
    if query.is_empty() {
        "/admin/signins".into()
    } else {
        format!("/admin/signins?{query}")
    }
}

pub async fn sign_ins_get(
    admin: Admin,
    State(s): State<UiState>,
    Query(p): Query<SignInsParams>,
) -> Result<Response, PortalError> {
    let mut page = SignInsPage {
        chrome: Chrome::new(&admin, Section::SignIns),
        filter_result: field(p.result.as_deref()).unwrap_or_default().to_string(),
        filter_policy: field(p.policy.as_deref()).unwrap_or_default().to_string(),
        filter_ca_result: field(p.ca_result.as_deref())
            .unwrap_or_default()
            .to_string(),
        policies: s
            .provider
            .ca_policies()
            .await
            .map_err(PortalError::internal)?
            .into_iter()
            .map(|p| (p.id, p.display_name))
            .collect(),
        rows: Vec::new(),
        next: None,
        newest: None,
        error: None,
    };
    let parsed = parse_result(p.result.as_deref()).and_then(|r| {
        Ok((
            r,
            parse_policy_result(p.policy.as_deref(), p.ca_result.as_deref())?,
            parse_cursor(p.before.as_deref())?,
        ))
    });
    let (result, policy_result, before) = match parsed {
        Ok(x) => x,
        Err(m) => {
            page.error = Some(m);
            return Ok((StatusCode::BAD_REQUEST, page).into_response());
        }
    };
    if before.is_some() {
        page.newest = Some(sign_ins_link(result, policy_result.as_ref(), None));
    }
    let q = SignInQuery {
        result,
        policy_result: policy_result.clone(),
        before,
        limit: PAGE_SIZE + 1,
        ..Default::default()
    };
    let mut list = s
        .sign_in_log
        .list_sign_ins(&q)
        .await
        .map_err(PortalError::internal)?;
    if list.len() as u64 > PAGE_SIZE {
        list.truncate(PAGE_SIZE as usize);
        page.next = list
            .last()
            .map(|r| sign_ins_link(result, policy_result.as_ref(), Some(r.id)));
    }
    page.rows = list.iter().map(SignInRow::new).collect();
    Ok(page.into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_keep_the_filter() {
        let id = Uuid::nil();
        assert_eq!(sign_ins_link(None, None, None), "/admin/signins");
        assert_eq!(
            sign_ins_link(Some(SignInResult::Failed), None, Some(id)),
            format!("/admin/signins?result=failed&before={id}")
        );
        assert_eq!(
            sign_ins_link(None, None, Some(id)),
            format!("/admin/signins?before={id}")
        );
        let trial = PolicyResultFilter {
            policy_id: Some("p-1".into()),
            result: "reportOnlyFailure".into(),
        };
        assert_eq!(
            sign_ins_link(None, Some(&trial), Some(id)),
            format!("/admin/signins?policy=p-1&caResult=reportOnlyFailure&before={id}")
        );
    }

    #[test]
    fn results_parse_or_explain() {
        assert_eq!(parse_result(None), Ok(None));
        assert_eq!(parse_result(Some(" ")), Ok(None));
        assert_eq!(parse_result(Some("denied")), Ok(Some(SignInResult::Denied)));
        assert!(parse_result(Some("Success")).is_err());
    }

    #[test]
    fn policy_results_parse_or_explain() {
        assert_eq!(parse_policy_result(None, None), Ok(None));
        assert_eq!(
            parse_policy_result(Some(""), Some("failure")),
            Ok(Some(PolicyResultFilter {
                policy_id: None,
                result: "failure".into()
            }))
        );
        assert!(parse_policy_result(Some("p-1"), None).is_err());
        assert!(parse_policy_result(None, Some("notApplied")).is_err());
    }
}
