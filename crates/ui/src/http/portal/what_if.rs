//! What-If and replay pages of conditional access (issue 13), the portal's
//! side of `POST /api/v1/identity/conditionalAccess/evaluate` and `…/replay`,
//! through the same services:
//!
//! - `GET /admin/conditional-access/what-if?user=&app=&ip=&platform=&country=`:
//!   every policy, in order, with whether it applies to that sign-in, what it
//!   asks, where it did not apply the first condition that failed, and the
//!   inputs left unknown (any may be). Reading only, so a plain GET form whose
//!   answer can be bookmarked.
//! - `POST /admin/conditional-access/what-if/replay`: a saved policy, or a
//!   draft pasted as Graph JSON, replayed as if enabled over the recorded
//!   sign-ins of the last N days: how many it would have blocked or challenged.
//!   Nothing is saved.

use super::auth::Admin;
use super::ca_editor::{Choice, lookup_user, platform_choices};
use super::conditional_access::{asks_label, problems, state_label};
use super::error::PortalError;
use super::views::{Chrome, Section};
use crate::http::UiState;
use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use portico_oidc::conditional_access::{CaError, MAX_REPLAY_DAYS, ReplayReport, WhatIf};
use portico_policy::conditional_access::{Applicability, Platform};
use serde::Deserialize;
use serde_json::Value;

/// The What-If question as typed (kept to show the form again).
#[derive(Deserialize, Default)]
pub struct WhatIfParams {
    #[serde(default)]
    user: String,
    #[serde(default)]
    app: String,
    #[serde(default)]
    ip: String,
    #[serde(default)]
    platform: String,
    #[serde(default)]
    country: String,
    /// Set by the form's button: the question was asked (all inputs may be empty).
    #[serde(default)]
    ask: Option<String>,
}

/// One policy's verdict, as display strings.
struct VerdictRow {
    name: String,
    state: &'static str,
    /// `applies`, `notApplied` or `undecided` (also the row's style).
    verdict: &'static str,
    verdict_label: &'static str,
    asks: &'static str,
    /// Where it did not apply: the first condition that failed.
    because: String,
    unknown: String,
    enforced: bool,
}

/// A replay's answer, with the policy's name.
struct ReplayView {
    name: String,
    report: ReplayReport,
}

#[derive(Template, WebTemplate)]
#[template(path = "admin_ca_what_if.html")]
struct WhatIfPage {
    chrome: Chrome,
    q: WhatIfParams,
    apps: Vec<Choice>,
    platforms: Vec<Choice>,
    problems: Vec<String>,
    /// `None` until a question is asked.
    rows: Option<Vec<VerdictRow>>,
    unknown: String,
    /// Replay: the saved policies to choose from, the form as sent, its answer.
    policies: Vec<Choice>,
    replay_days: String,
    replay_json: String,
    replay_problems: Vec<String>,
    replay: Option<ReplayView>,
    max_days: i64,
}

/// The question's inputs, each checked; problems name the field.
async fn question(
    s: &UiState,
    q: &WhatIfParams,
    problems: &mut Vec<String>,
) -> Result<WhatIf, PortalError> {
    let mut w = WhatIf::default();
    let user = q.user.trim();
    if !user.is_empty() {
        match lookup_user(s, user).await? {
            Some(id) => w.user_id = Some(id),
            None => problems.push(format!("User: no user has the email or id '{user}'.")),
        }
    }
    let app = q.app.trim();
    if !app.is_empty() {
        match s.provider.store.find_client(app).await {
            Ok(Some(_)) => w.app_id = Some(app.to_string()),
            Ok(None) => problems.push(format!("Application: no application '{app}'.")),
            Err(e) => return Err(PortalError::internal(e)),
        }
    }
    let ip = q.ip.trim();
    if !ip.is_empty() {
        match ip.parse() {
            Ok(a) => w.ip = Some(a),
            Err(_) => problems.push(format!(
                "IP address: '{ip}' is not an IPv4 or IPv6 address."
            )),
        }
    }
    let platform = q.platform.trim();
    if !platform.is_empty() {
        match Platform::parse(platform).filter(|p| *p != Platform::All) {
            Some(p) => w.platform = Some(p),
            None => problems.push(format!(
                "Device platform: '{platform}' is not one Portico knows."
            )),
        }
    }
    let country = q.country.trim();
    if !country.is_empty() {
        if country.len() == 2 && country.bytes().all(|b| b.is_ascii_alphabetic()) {
            w.country = Some(country.to_ascii_uppercase());
        } else {
            problems.push(format!(
                "Country: '{country}' is not a two-letter ISO 3166-1 code (e.g. FR)."
            ));
        }
    }
    Ok(w)
}

/// The page, with What-If's answer when a question was asked and the
/// replay's when one was sent.
struct Answers {
    rows: Option<Vec<VerdictRow>>,
    unknown: String,
    problems: Vec<String>,
    replay_days: String,
    replay_json: String,
    replay_problems: Vec<String>,
    replay: Option<ReplayView>,
    chosen_policy: String,
}

async fn render(
    s: &UiState,
    admin: &Admin,
    q: WhatIfParams,
    a: Answers,
) -> Result<Response, PortalError> {
    let apps = s
        .provider
        .store
        .list_clients()
        .await
        .map_err(PortalError::internal)?
        .into_iter()
        .map(|c| Choice {
            label: format!("{} ({})", c.display_name, c.client_id),
            selected: c.client_id == q.app.trim(),
            value: c.client_id,
        })
        .collect();
    let mut platforms = platform_choices(&[q.platform.trim().to_string()]);
    // "Any platform" is no answer to "which platform": unknown instead.
    if let Some(first) = platforms.first_mut() {
        first.value = String::new();
        first.label = "Unknown".into();
        first.selected = q.platform.trim().is_empty();
    }
    let policies = s
        .provider
        .ca_policies()
        .await
        .map_err(PortalError::internal)?
        .into_iter()
        .map(|p| Choice {
            selected: p.id == a.chosen_policy,
            value: p.id,
            label: p.display_name,
        })
        .collect();
    let status = if a.problems.is_empty() && a.replay_problems.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::BAD_REQUEST
    };
    let page = WhatIfPage {
        chrome: Chrome::new(admin, Section::ConditionalAccess),
        q,
        apps,
        platforms,
        problems: a.problems,
        rows: a.rows,
        unknown: a.unknown,
        policies,
        replay_days: a.replay_days,
        replay_json: a.replay_json,
        replay_problems: a.replay_problems,
        replay: a.replay,
        max_days: MAX_REPLAY_DAYS,
    };
    Ok((status, page).into_response())
}

fn no_answers() -> Answers {
    Answers {
        rows: None,
        unknown: String::new(),
        problems: vec![],
        replay_days: "7".into(),
        replay_json: String::new(),
        replay_problems: vec![],
        replay: None,
        chosen_policy: String::new(),
    }
}

/// `GET /admin/conditional-access/what-if`.
pub async fn what_if_get(
    admin: Admin,
    State(s): State<UiState>,
    Query(q): Query<WhatIfParams>,
) -> Result<Response, PortalError> {
    let mut a = no_answers();
    if q.ask.is_some() {
        let w = question(&s, &q, &mut a.problems).await?;
        if a.problems.is_empty() {
            let answer = s
                .provider
                .what_if(&w)
                .await
                .map_err(PortalError::internal)?;
            a.unknown = answer
                .unknown_inputs
                .iter()
                .map(|i| i.as_str())
                .collect::<Vec<_>>()
                .join(", ");
            a.rows = Some(
                answer
                    .results
                    .iter()
                    .map(|r| {
                        let (verdict, verdict_label, because) = match &r.applicability {
                            Applicability::Applies => ("applies", "Applies", String::new()),
                            Applicability::NotApplied(n) => {
                                ("notApplied", "Does not apply", n.field.to_string())
                            }
                            Applicability::Undecided => (
                                "undecided",
                                "Cannot be ruled out (unknown inputs)",
                                String::new(),
                            ),
                        };
                        VerdictRow {
                            name: r.display_name.clone(),
                            state: state_label(r.state),
                            verdict,
                            verdict_label,
                            asks: asks_label(r.requirement),
                            because,
                            unknown: r
                                .unknown_inputs
                                .iter()
                                .map(|i| i.as_str())
                                .collect::<Vec<_>>()
                                .join(", "),
                            enforced: r.enforced(),
                        }
                    })
                    .collect(),
            );
        }
    }
    render(&s, &admin, q, a).await
}

#[derive(Deserialize)]
pub struct ReplayForm {
    #[serde(default)]
    csrf: String,
    /// A saved policy's id, or empty for the pasted draft.
    #[serde(default)]
    policy: String,
    #[serde(default)]
    json: String,
    #[serde(default)]
    days: String,
}

/// `POST /admin/conditional-access/what-if/replay`.
pub async fn replay_post(
    admin: Admin,
    State(s): State<UiState>,
    Form(f): Form<ReplayForm>,
) -> Result<Response, PortalError> {
    admin.check_csrf(&s, &f.csrf)?;
    let mut a = no_answers();
    a.replay_days = f.days.trim().to_string();
    a.replay_json = f.json.clone();
    a.chosen_policy = f.policy.trim().to_string();
    let days = match a.replay_days.parse::<i64>() {
        Ok(d) if (1..=MAX_REPLAY_DAYS).contains(&d) => Some(d),
        _ => {
            a.replay_problems
                .push(format!("Days: a whole number from 1 to {MAX_REPLAY_DAYS}."));
            None
        }
    };
    let draft: Option<(String, Value)> = if !a.chosen_policy.is_empty() {
        match s.provider.ca_policy(&a.chosen_policy).await {
            Ok(p) => {
                let v = serde_json::to_value(&p).map_err(PortalError::internal)?;
                Some((p.display_name, v))
            }
            Err(CaError::NotFound) => {
                a.replay_problems
                    .push("Policy: that policy no longer exists.".into());
                None
            }
            Err(e) => return Err(PortalError::internal(e)),
        }
    } else if f.json.trim().is_empty() {
        a.replay_problems
            .push("Choose a saved policy or paste a draft policy's JSON.".into());
        None
    } else {
        match serde_json::from_str::<Value>(&f.json) {
            Ok(v) => {
                let name = v
                    .get("displayName")
                    .and_then(Value::as_str)
                    .unwrap_or("Draft")
                    .to_string();
                Some((name, v))
            }
            Err(e) => {
                a.replay_problems.push(format!("This is not JSON: {e}."));
                None
            }
        }
    };
    if let (Some(days), Some((name, policy))) = (days, draft) {
        match s.provider.replay(&policy, days).await {
            Ok(report) => a.replay = Some(ReplayView { name, report }),
            Err(e) => a.replay_problems.extend(problems(e)?),
        }
    }
    render(&s, &admin, WhatIfParams::default(), a).await
}
