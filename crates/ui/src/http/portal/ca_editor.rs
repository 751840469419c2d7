//! The conditional access policy editor (issue 13): `/admin/conditional-access/new`
//! and `/admin/conditional-access/{id}/edit`, one form field per condition of
//! Graph's `conditionalAccessPolicy`, as Entra's portal lays them out (users,
//! applications, device platforms, locations, grant).
//!
//! The form is turned into the same Graph JSON the API takes and saved by the
//! same service, so the import rules (every field checked, references to
//! named locations resolved) and the audit apply unchanged. A refused form is
//! shown again as typed, each problem next to the section it is about and in
//! a summary at the top.
//!
//! Users are typed one per line, by email or id (a tenant has too many to
//! list); groups, applications and named locations are chosen from lists.

use super::auth::Admin;
use super::error::PortalError;
use super::views::{Chrome, Section};
use crate::http::UiState;
use askama::Template;
use askama_web::WebTemplate;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use portico_directory::UserQuery;
use portico_oidc::conditional_access::CaError;
use portico_policy::conditional_access::{
    BuiltInControl, LOCATIONS_ALL, LOCATIONS_ALL_TRUSTED, Platform, Policy, PolicyState, USERS_ALL,
    USERS_GUESTS,
};
use serde_json::{Value, json};
use uuid::Uuid;

/// Most users typed into one list (Graph's own cap on a condition's list).
const MAX_USERS: usize = 200;

/// The platforms offered, in Entra's order.
const PLATFORMS: [Platform; 6] = [
    Platform::Android,
    Platform::Ios,
    Platform::Windows,
    Platform::MacOs,
    Platform::Linux,
    Platform::WindowsPhone,
];

/// Every platform ("Any platform" first), the chosen ones marked.
pub(super) fn platform_choices(chosen: &[String]) -> Vec<Choice> {
    std::iter::once(Platform::All)
        .chain(PLATFORMS)
        .map(|p| Choice {
            value: p.as_str().into(),
            label: match p {
                Platform::All => "Any platform".into(),
                Platform::Ios => "iOS".into(),
                Platform::MacOs => "macOS".into(),
                Platform::WindowsPhone => "Windows Phone".into(),
                other => {
                    let s = other.as_str();
                    let mut c = s.chars();
                    c.next()
                        .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
                        .unwrap_or_default()
                }
            },
            selected: chosen.iter().any(|c| c.eq_ignore_ascii_case(p.as_str())),
        })
        .collect()
}

/// One option of a list or checkbox group.
pub struct Choice {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

/// A problem, and the form section it is shown in.
struct FieldProblem {
    section: &'static str,
    message: String,
}

/// What the admin typed or chose, as the form sends it back.
#[derive(Default)]
struct Draft {
    name: String,
    state: String,
    /// `all` or `selected`.
    users_scope: String,
    include_guests: bool,
    include_users: String,
    include_groups: Vec<String>,
    exclude_guests: bool,
    exclude_users: String,
    exclude_groups: Vec<String>,
    /// `all` or `selected`.
    apps_scope: String,
    include_apps: Vec<String>,
    exclude_apps: Vec<String>,
    platforms_on: bool,
    include_platforms: Vec<String>,
    exclude_platforms: Vec<String>,
    locations_on: bool,
    include_locations: Vec<String>,
    exclude_locations: Vec<String>,
    /// `block` or `mfa`.
    grant: String,
}

impl Draft {
    fn parse(body: &[u8]) -> (String, Draft) {
        let mut csrf = String::new();
        let mut d = Draft::default();
        for (k, v) in url::form_urlencoded::parse(body) {
            let v = v.into_owned();
            match k.as_ref() {
                "csrf" => csrf = v,
                "displayName" => d.name = v,
                "state" => d.state = v,
                "usersScope" => d.users_scope = v,
                "includeGuests" => d.include_guests = true,
                "includeUsers" => d.include_users = v,
                "includeGroups" => d.include_groups.push(v),
                "excludeGuests" => d.exclude_guests = true,
                "excludeUsers" => d.exclude_users = v,
                "excludeGroups" => d.exclude_groups.push(v),
                "appsScope" => d.apps_scope = v,
                "includeApps" => d.include_apps.push(v),
                "excludeApps" => d.exclude_apps.push(v),
                "platformsOn" => d.platforms_on = true,
                "includePlatforms" => d.include_platforms.push(v),
                "excludePlatforms" => d.exclude_platforms.push(v),
                "locationsOn" => d.locations_on = true,
                "includeLocations" => d.include_locations.push(v),
                "excludeLocations" => d.exclude_locations.push(v),
                "grant" => d.grant = v,
                _ => {}
            }
        }
        (csrf, d)
    }

    /// A new policy: report-only, for all users and apps, requiring MFA.
    fn new_policy() -> Draft {
        Draft {
            state: PolicyState::EnabledForReportingButNotEnforced
                .as_str()
                .into(),
            users_scope: "all".into(),
            apps_scope: "all".into(),
            grant: "mfa".into(),
            ..Draft::default()
        }
    }

    /// An existing policy, users shown by email where they still exist.
    async fn of(s: &UiState, p: &Policy) -> Draft {
        let users = &p.conditions.users;
        let apps = &p.conditions.applications;
        let all_users = users.include_users.iter().any(|u| u == USERS_ALL);
        let mut d = Draft {
            name: p.display_name.clone(),
            state: p.state.as_str().into(),
            users_scope: if all_users { "all" } else { "selected" }.into(),
            include_guests: users.include_users.iter().any(|u| u == USERS_GUESTS),
            include_users: user_lines(s, &users.include_users).await,
            include_groups: users.include_groups.clone(),
            exclude_guests: users.exclude_users.iter().any(|u| u == USERS_GUESTS),
            exclude_users: user_lines(s, &users.exclude_users).await,
            exclude_groups: users.exclude_groups.clone(),
            apps_scope: if apps.include_applications.iter().any(|a| a == "All") {
                "all"
            } else {
                "selected"
            }
            .into(),
            include_apps: apps.include_applications.clone(),
            exclude_apps: apps.exclude_applications.clone(),
            grant: if p
                .grant_controls
                .built_in_controls
                .contains(&BuiltInControl::Block)
            {
                "block"
            } else {
                "mfa"
            }
            .into(),
            ..Draft::default()
        };
        if let Some(pl) = &p.conditions.platforms {
            d.platforms_on = true;
            d.include_platforms = pl
                .include_platforms
                .iter()
                .map(|x| x.as_str().into())
                .collect();
            d.exclude_platforms = pl
                .exclude_platforms
                .iter()
                .map(|x| x.as_str().into())
                .collect();
        }
        if let Some(l) = &p.conditions.locations {
            d.locations_on = true;
            d.include_locations = l.include_locations.clone();
            d.exclude_locations = l.exclude_locations.clone();
        }
        d
    }
}

/// The users of a condition as lines: an email per user found, else the id
/// as stored; the special values are shown by the scope and checkboxes.
async fn user_lines(s: &UiState, ids: &[String]) -> String {
    let mut lines = Vec::new();
    for id in ids {
        if id == USERS_ALL || id == USERS_GUESTS || id == "None" {
            continue;
        }
        let shown = match Uuid::parse_str(id) {
            Ok(u) => match s.directory.find_user(u).await {
                Ok(user) => user.mail,
                Err(_) => id.clone(),
            },
            Err(_) => id.clone(),
        };
        lines.push(shown);
    }
    lines.join("\n")
}

/// The user a typed line names, by id or by email (case-insensitive).
pub(super) async fn lookup_user(s: &UiState, line: &str) -> Result<Option<Uuid>, PortalError> {
    if let Ok(id) = Uuid::parse_str(line) {
        return match s.directory.find_user(id).await {
            Ok(u) => Ok(Some(u.id)),
            Err(portico_directory::DirectoryError::NotFound) => Ok(None),
            Err(e) => Err(PortalError::internal(e)),
        };
    }
    let q = UserQuery {
        mail: Some(line.to_lowercase()),
        limit: 1,
        ..Default::default()
    };
    Ok(s.directory
        .list_users(&q)
        .await
        .map_err(PortalError::internal)?
        .first()
        .map(|u| u.id))
}

/// The user ids for typed lines (emails or ids); each unknown line is a problem.
async fn resolve_users(
    s: &UiState,
    text: &str,
    label: &str,
    problems: &mut Vec<FieldProblem>,
) -> Result<Vec<String>, PortalError> {
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    if lines.len() > MAX_USERS {
        problems.push(FieldProblem {
            section: "users",
            message: format!("{label}: at most {MAX_USERS} users; use a group for more."),
        });
        return Ok(vec![]);
    }
    let mut ids = Vec::new();
    for (n, line) in lines.iter().enumerate() {
        let found = lookup_user(s, line).await?;
        match found {
            Some(id) if !ids.contains(&id.to_string()) => ids.push(id.to_string()),
            Some(_) => {}
            None => problems.push(FieldProblem {
                section: "users",
                message: format!(
                    "{label}, line {}: no user has the email or id '{line}'.",
                    n + 1
                ),
            }),
        }
    }
    Ok(ids)
}

/// The Graph JSON for a draft, or the problems the form itself can see.
async fn to_graph(
    s: &UiState,
    d: &Draft,
    problems: &mut Vec<FieldProblem>,
) -> Result<Value, PortalError> {
    let mut include_users = Vec::new();
    if d.users_scope == "all" {
        include_users.push(USERS_ALL.to_string());
    } else {
        if d.include_guests {
            include_users.push(USERS_GUESTS.to_string());
        }
        include_users
            .extend(resolve_users(s, &d.include_users, "Users to include", problems).await?);
        if include_users.is_empty() && d.include_groups.is_empty() {
            problems.push(FieldProblem {
                section: "users",
                message: "Choose the users the policy applies to: all users, guests, or some users or groups.".into(),
            });
        }
    }
    let mut exclude_users = Vec::new();
    if d.exclude_guests {
        exclude_users.push(USERS_GUESTS.to_string());
    }
    exclude_users.extend(resolve_users(s, &d.exclude_users, "Users to exclude", problems).await?);
    let include_apps = if d.apps_scope == "all" {
        vec!["All".to_string()]
    } else {
        if d.include_apps.is_empty() {
            problems.push(FieldProblem {
                section: "apps",
                message: "Choose at least one application, or all applications.".into(),
            });
        }
        d.include_apps.clone()
    };
    let platforms = if d.platforms_on {
        if d.include_platforms.is_empty() {
            problems.push(FieldProblem {
                section: "platforms",
                message:
                    "Choose the device platforms the policy applies to, or turn the condition off."
                        .into(),
            });
        }
        json!({
            "includePlatforms": d.include_platforms,
            "excludePlatforms": d.exclude_platforms,
        })
    } else {
        Value::Null
    };
    let locations = if d.locations_on {
        if d.include_locations.is_empty() {
            problems.push(FieldProblem {
                section: "locations",
                message: "Choose the locations the policy applies to, or turn the condition off."
                    .into(),
            });
        }
        json!({
            "includeLocations": d.include_locations,
            "excludeLocations": d.exclude_locations,
        })
    } else {
        Value::Null
    };
    Ok(json!({
        "displayName": d.name.trim(),
        "state": d.state,
        "conditions": {
            "users": {
                "includeUsers": include_users,
                "excludeUsers": exclude_users,
                "includeGroups": d.include_groups,
                "excludeGroups": d.exclude_groups,
            },
            "applications": {
                "includeApplications": include_apps,
                "excludeApplications": d.exclude_apps,
            },
            "platforms": platforms,
            "locations": locations,
            "clientAppTypes": ["all"],
        },
        "grantControls": { "operator": "OR", "builtInControls": [d.grant] },
    }))
}

/// The form section a refused field belongs to.
fn section_of(path: &str) -> &'static str {
    const SECTIONS: [(&str, &str); 7] = [
        ("displayName", "name"),
        ("state", "state"),
        ("conditions.users", "users"),
        ("conditions.applications", "apps"),
        ("conditions.platforms", "platforms"),
        ("conditions.locations", "locations"),
        ("grantControls", "grant"),
    ];
    SECTIONS
        .iter()
        .find(|(prefix, _)| path.starts_with(prefix))
        .map(|(_, s)| *s)
        .unwrap_or("")
}

#[derive(Template, WebTemplate)]
#[template(path = "admin_ca_policy.html")]
struct EditorPage {
    chrome: Chrome,
    heading: String,
    action: String,
    d: Draft,
    problems: Vec<FieldProblem>,
    groups: Vec<Choice>,
    apps: Vec<Choice>,
    locations: Vec<Choice>,
}

impl EditorPage {
    fn problems_for(&self, section: &str) -> Vec<&str> {
        self.problems
            .iter()
            .filter(|p| p.section == section)
            .map(|p| p.message.as_str())
            .collect()
    }

    fn all_problems(&self) -> Vec<&str> {
        self.problems.iter().map(|p| p.message.as_str()).collect()
    }

    fn invalid(&self, section: &str) -> bool {
        self.problems.iter().any(|p| p.section == section)
    }

    fn states(&self) -> Vec<Choice> {
        [
            ("enabledForReportingButNotEnforced", "Report-only"),
            ("enabled", "On"),
            ("disabled", "Off"),
        ]
        .iter()
        .map(|(v, l)| Choice {
            value: (*v).into(),
            label: (*l).into(),
            selected: self.d.state == *v,
        })
        .collect()
    }

    fn marked(list: &[Choice], chosen: &[String]) -> Vec<Choice> {
        list.iter()
            .map(|c| Choice {
                value: c.value.clone(),
                label: c.label.clone(),
                selected: chosen.contains(&c.value),
            })
            .collect()
    }

    fn groups_in(&self) -> Vec<Choice> {
        Self::marked(&self.groups, &self.d.include_groups)
    }
    fn groups_out(&self) -> Vec<Choice> {
        Self::marked(&self.groups, &self.d.exclude_groups)
    }
    fn apps_in(&self) -> Vec<Choice> {
        Self::marked(&self.apps, &self.d.include_apps)
    }
    fn apps_out(&self) -> Vec<Choice> {
        Self::marked(&self.apps, &self.d.exclude_apps)
    }

    fn platforms(chosen: &[String]) -> Vec<Choice> {
        platform_choices(chosen)
    }
    fn platforms_in(&self) -> Vec<Choice> {
        Self::platforms(&self.d.include_platforms)
    }
    fn platforms_out(&self) -> Vec<Choice> {
        Self::platforms(&self.d.exclude_platforms)
            .into_iter()
            .filter(|c| c.value != Platform::All.as_str())
            .collect()
    }

    fn locations_in(&self) -> Vec<Choice> {
        let special = [
            (LOCATIONS_ALL, "Any location"),
            (LOCATIONS_ALL_TRUSTED, "All trusted locations"),
        ];
        let mut out: Vec<Choice> = special
            .iter()
            .map(|(v, l)| Choice {
                value: (*v).into(),
                label: (*l).into(),
                selected: self.d.include_locations.iter().any(|x| x == v),
            })
            .collect();
        out.extend(Self::marked(&self.locations, &self.d.include_locations));
        out
    }
    fn locations_out(&self) -> Vec<Choice> {
        let mut out = vec![Choice {
            value: LOCATIONS_ALL_TRUSTED.into(),
            label: "All trusted locations".into(),
            selected: self
                .d
                .exclude_locations
                .iter()
                .any(|x| x == LOCATIONS_ALL_TRUSTED),
        }];
        out.extend(Self::marked(&self.locations, &self.d.exclude_locations));
        out
    }
}

/// Which policy the editor is about: a new one, or the one with this id.
enum Target {
    New,
    Existing(String),
}

async fn render(
    s: &UiState,
    admin: &Admin,
    target: &Target,
    d: Draft,
    problems: Vec<FieldProblem>,
) -> Result<Response, PortalError> {
    let groups = s
        .groups
        .repo()
        .list_groups(None, 0)
        .await
        .map_err(PortalError::internal)?
        .into_iter()
        .map(|g| Choice {
            value: g.id.to_string(),
            label: g.display_name,
            selected: false,
        })
        .collect();
    let apps = s
        .provider
        .store
        .list_clients()
        .await
        .map_err(PortalError::internal)?
        .into_iter()
        .map(|c| Choice {
            label: format!("{} ({})", c.display_name, c.client_id),
            value: c.client_id,
            selected: false,
        })
        .collect();
    let locations = s
        .provider
        .named_locations()
        .await
        .map_err(PortalError::internal)?
        .into_iter()
        .map(|l| Choice {
            value: l.id,
            label: l.display_name,
            selected: false,
        })
        .collect();
    let (heading, action) = match target {
        Target::New => (
            "New conditional access policy".to_string(),
            "/admin/conditional-access/new".to_string(),
        ),
        Target::Existing(id) => (
            format!("Edit {}", d.name),
            format!("/admin/conditional-access/{id}/edit"),
        ),
    };
    let status = if problems.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::BAD_REQUEST
    };
    let page = EditorPage {
        chrome: Chrome::new(admin, Section::ConditionalAccess),
        heading,
        action,
        d,
        problems,
        groups,
        apps,
        locations,
    };
    Ok((status, page).into_response())
}

/// `GET /admin/conditional-access/new`.
pub async fn new_get(admin: Admin, State(s): State<UiState>) -> Result<Response, PortalError> {
    render(&s, &admin, &Target::New, Draft::new_policy(), vec![]).await
}

/// `GET /admin/conditional-access/{id}/edit`.
pub async fn edit_get(
    admin: Admin,
    State(s): State<UiState>,
    Path(id): Path<String>,
) -> Result<Response, PortalError> {
    let p = match s.provider.ca_policy(&id).await {
        Ok(p) => p,
        Err(CaError::NotFound) => return Err(PortalError::NotFound),
        Err(e) => return Err(PortalError::internal(e)),
    };
    let d = Draft::of(&s, &p).await;
    render(&s, &admin, &Target::Existing(id), d, vec![]).await
}

/// `POST /admin/conditional-access/new`.
pub async fn new_post(
    admin: Admin,
    State(s): State<UiState>,
    body: Bytes,
) -> Result<Response, PortalError> {
    save(&s, &admin, Target::New, &body).await
}

/// `POST /admin/conditional-access/{id}/edit`.
pub async fn edit_post(
    admin: Admin,
    State(s): State<UiState>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, PortalError> {
    save(&s, &admin, Target::Existing(id), &body).await
}

async fn save(
    s: &UiState,
    admin: &Admin,
    target: Target,
    body: &[u8],
) -> Result<Response, PortalError> {
    let (csrf, d) = Draft::parse(body);
    admin.check_csrf(s, &csrf)?;
    let mut problems = Vec::new();
    let graph = to_graph(s, &d, &mut problems).await?;
    if !problems.is_empty() {
        return render(s, admin, &target, d, problems).await;
    }
    let a = admin.actor();
    let actor = ("User", a.id, a.display_name);
    let done = match &target {
        Target::New => s.provider.create_ca_policy(&graph, actor).await,
        Target::Existing(id) => s.provider.update_ca_policy(id, &graph, actor).await,
    };
    match done {
        Ok(_) => {
            let notice = match target {
                Target::New => "policy",
                Target::Existing(_) => "saved",
            };
            Ok(Redirect::to(&format!("/admin/conditional-access?notice={notice}")).into_response())
        }
        Err(CaError::Invalid(i)) => {
            let problems = i
                .problems
                .into_iter()
                .map(|p| FieldProblem {
                    section: section_of(&p.path),
                    message: if p.path.is_empty() {
                        p.message
                    } else {
                        format!("{}: {}", p.path, p.message)
                    },
                })
                .collect();
            render(s, admin, &target, d, problems).await
        }
        Err(CaError::Conflict(m)) => {
            let problems = vec![FieldProblem {
                section: "",
                message: m,
            }];
            render(s, admin, &target, d, problems).await
        }
        Err(CaError::NotFound) => Err(PortalError::NotFound),
        Err(CaError::Store(e)) => Err(PortalError::internal(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refused_fields_are_shown_in_their_section() {
        assert_eq!(section_of("displayName"), "name");
        assert_eq!(section_of("conditions.users.includeGroups[0]"), "users");
        assert_eq!(
            section_of("conditions.locations.includeLocations"),
            "locations"
        );
        assert_eq!(section_of("grantControls.builtInControls"), "grant");
        assert_eq!(section_of("sessionControls"), "");
    }

    #[test]
    fn the_form_reads_repeated_fields() {
        let (csrf, d) = Draft::parse(
            b"csrf=t&displayName=Block+Android&includePlatforms=android&includePlatforms=iOS&platformsOn=on&grant=block",
        );
        assert_eq!(csrf, "t");
        assert_eq!(d.name, "Block Android");
        assert!(d.platforms_on);
        assert_eq!(d.include_platforms, vec!["android", "iOS"]);
        assert_eq!(d.grant, "block");
    }
}
