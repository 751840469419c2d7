//! [`evaluate`]: which policies apply to a sign-in and what they ask.
//!
//! A policy applies when every condition holds, in this order: users,
//! applications, platforms, locations. Within a condition an exclusion wins
//! over an inclusion. A condition that needs an unknown input is undecided
//! (and names the input); one that fails decides at once, and the first such
//! condition is reported. Enforcement treats an undecided policy as applying
//! (fail closed); at a real sign-in every input but the country is known.

use super::location::{LocationKind, NamedLocation, canonical};
use super::model::{
    APPS_ALL, APPS_NONE, BuiltInControl, GrantOperator, LOCATIONS_ALL, LOCATIONS_ALL_TRUSTED,
    Platform, Policy, PolicyState, USERS_ALL, USERS_GUESTS, USERS_NONE,
};
use crate::UserType;
use serde::Serialize;
use std::collections::HashMap;
use std::net::IpAddr;

/// What is known about a sign-in; `None` is unknown (What-If may leave any
/// input out; a sign-in knows all but, without a GeoIP database, the country).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AccessContext {
    pub user_id: Option<String>,
    pub user_type: Option<UserType>,
    /// The user's groups; known exactly when `user_id` is.
    pub group_ids: Vec<String>,
    /// The application's client id.
    pub app_id: Option<String>,
    pub ip: Option<IpAddr>,
    /// As claimed by the client; `Some(Platform::Unknown)` when it said
    /// nothing recognisable (only `all` matches that).
    pub platform: Option<Platform>,
    /// ISO 3166-1 alpha-2, from the IP address.
    pub country: Option<String>,
}

/// An input a condition needed that the context did not have.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Input {
    User,
    Application,
    IpAddress,
    Platform,
    Country,
}

impl Input {
    pub fn as_str(self) -> &'static str {
        match self {
            Input::User => "user",
            Input::Application => "application",
            Input::IpAddress => "ipAddress",
            Input::Platform => "platform",
            Input::Country => "country",
        }
    }
}

/// Where a policy did not apply: the first condition that failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NotApplied {
    /// `users`, `applications`, `platforms` or `locations`.
    pub condition: &'static str,
    /// The field that decided (`conditions.users.excludeGroups`, …).
    pub field: &'static str,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Applicability {
    Applies,
    NotApplied(NotApplied),
    /// No condition failed, but some need unknown inputs.
    Undecided,
}

/// What an applying policy asks, its grant controls reduced: `OR` is met by
/// any control (so with `mfa` among them, MFA); `AND` needs all (so with
/// `block` among them, a block).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Requirement {
    Block,
    Mfa,
}

impl Requirement {
    /// Graph's `enforcedGrantControls` value.
    pub fn graph_control(self) -> &'static str {
        match self {
            Requirement::Block => "Block",
            Requirement::Mfa => "Mfa",
        }
    }
}

/// Graph's `appliedConditionalAccessPolicy.result`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum AppliedResult {
    Success,
    Failure,
    NotApplied,
    NotEnabled,
    ReportOnlySuccess,
    ReportOnlyFailure,
    ReportOnlyNotApplied,
}

impl AppliedResult {
    pub fn as_str(self) -> &'static str {
        match self {
            AppliedResult::Success => "success",
            AppliedResult::Failure => "failure",
            AppliedResult::NotApplied => "notApplied",
            AppliedResult::NotEnabled => "notEnabled",
            AppliedResult::ReportOnlySuccess => "reportOnlySuccess",
            AppliedResult::ReportOnlyFailure => "reportOnlyFailure",
            AppliedResult::ReportOnlyNotApplied => "reportOnlyNotApplied",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [
            AppliedResult::Success,
            AppliedResult::Failure,
            AppliedResult::NotApplied,
            AppliedResult::NotEnabled,
            AppliedResult::ReportOnlySuccess,
            AppliedResult::ReportOnlyFailure,
            AppliedResult::ReportOnlyNotApplied,
        ]
        .into_iter()
        .find(|r| r.as_str() == s)
    }
}

/// One policy's verdict on a sign-in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyResult {
    pub id: String,
    pub display_name: String,
    pub state: PolicyState,
    pub applicability: Applicability,
    pub requirement: Requirement,
    /// Unknown inputs the conditions consulted, whether or not they decided.
    pub unknown_inputs: Vec<Input>,
}

impl PolicyResult {
    /// Applies, or cannot be ruled out (fail closed).
    pub fn applies(&self) -> bool {
        !matches!(self.applicability, Applicability::NotApplied(_))
    }

    /// Enabled (not report-only, not disabled) and applies: it changes the outcome.
    pub fn enforced(&self) -> bool {
        self.state == PolicyState::Enabled && self.applies()
    }

    /// Graph's result, given whether the sign-in met MFA.
    pub fn result(&self, mfa_satisfied: bool) -> AppliedResult {
        let met = match self.requirement {
            Requirement::Block => false,
            Requirement::Mfa => mfa_satisfied,
        };
        match (self.state, self.applies(), met) {
            (PolicyState::Disabled, _, _) => AppliedResult::NotEnabled,
            (PolicyState::Enabled, false, _) => AppliedResult::NotApplied,
            (PolicyState::Enabled, true, true) => AppliedResult::Success,
            (PolicyState::Enabled, true, false) => AppliedResult::Failure,
            (PolicyState::EnabledForReportingButNotEnforced, false, _) => {
                AppliedResult::ReportOnlyNotApplied
            }
            (PolicyState::EnabledForReportingButNotEnforced, true, true) => {
                AppliedResult::ReportOnlySuccess
            }
            (PolicyState::EnabledForReportingButNotEnforced, true, false) => {
                AppliedResult::ReportOnlyFailure
            }
        }
    }

    /// Graph's `enforcedGrantControls`: what it asked, when it applied.
    pub fn enforced_grant_controls(&self) -> Vec<&'static str> {
        if self.applies() && self.state != PolicyState::Disabled {
            vec![self.requirement.graph_control()]
        } else {
            vec![]
        }
    }
}

/// What the enforced policies ask of a sign-in, all together.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Enforcement {
    /// Block policies that apply: (id, displayName). Any one blocks.
    pub blocked_by: Vec<(String, String)>,
    /// MFA policies that apply: their displayNames (for `Facts::mfa_required_by`).
    pub mfa_required_by: Vec<String>,
}

impl Enforcement {
    pub fn of(results: &[PolicyResult]) -> Self {
        let mut e = Enforcement::default();
        for r in results.iter().filter(|r| r.enforced()) {
            match r.requirement {
                Requirement::Block => e.blocked_by.push((r.id.clone(), r.display_name.clone())),
                Requirement::Mfa => e.mfa_required_by.push(r.display_name.clone()),
            }
        }
        e
    }
}

/// A three-valued answer: holds, does not, cannot tell without `Input`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tri {
    Yes,
    No,
    Unknown(Input),
}

/// Whether any entry of a list matches (`Yes` wins, then `Unknown`).
fn any(entries: impl IntoIterator<Item = Tri>) -> Tri {
    let mut out = Tri::No;
    for t in entries {
        match t {
            Tri::Yes => return Tri::Yes,
            Tri::Unknown(i) if out == Tri::No => out = Tri::Unknown(i),
            _ => {}
        }
    }
    out
}

/// The named locations, matched once for the whole call.
struct Locations<'a> {
    by_id: HashMap<&'a str, Tri>,
    trusted: Tri,
    country_consulted: bool,
}

impl<'a> Locations<'a> {
    fn new(named: &'a [NamedLocation], ctx: &AccessContext) -> Self {
        let ip = ctx.ip.map(canonical);
        let mut by_id = HashMap::with_capacity(named.len());
        let mut trusted = Vec::new();
        for l in named {
            let t = match l.contains(ip, ctx.country.as_deref()) {
                Some(true) => Tri::Yes,
                Some(false) => Tri::No,
                None => Tri::Unknown(Input::IpAddress),
            };
            if l.is_trusted() {
                trusted.push(t);
            }
            by_id.insert(l.id.as_str(), t);
        }
        Locations {
            by_id,
            trusted: any(trusted),
            country_consulted: false,
        }
    }
}

/// Evaluates every policy against the sign-in, in the given order.
pub fn evaluate(
    policies: &[Policy],
    locations: &[NamedLocation],
    ctx: &AccessContext,
) -> Vec<PolicyResult> {
    let countries: Vec<&str> = locations
        .iter()
        .filter(|l| matches!(l.kind, LocationKind::Country { .. }))
        .map(|l| l.id.as_str())
        .collect();
    let mut locs = Locations::new(locations, ctx);
    policies
        .iter()
        .map(|p| {
            locs.country_consulted = false;
            evaluate_one(p, &mut locs, &countries, ctx)
        })
        .collect()
}

fn evaluate_one(
    p: &Policy,
    locs: &mut Locations<'_>,
    countries: &[&str],
    ctx: &AccessContext,
) -> PolicyResult {
    let mut unknown = Vec::new();
    let decided = users(p, ctx, &mut unknown)
        .and_then(|()| applications(p, ctx, &mut unknown))
        .and_then(|()| platforms(p, ctx, &mut unknown))
        .and_then(|()| locations(p, locs, countries, ctx, &mut unknown));
    let mut applicability = match decided {
        Ok(()) => Applicability::Applies,
        Err(n) => Applicability::NotApplied(n),
    };
    if applicability == Applicability::Applies && !undecided_free(&unknown) {
        applicability = Applicability::Undecided;
    }
    unknown.sort();
    unknown.dedup();
    PolicyResult {
        id: p.id.clone(),
        display_name: p.display_name.clone(),
        state: p.state,
        applicability,
        requirement: requirement(p),
        unknown_inputs: unknown,
    }
}

/// An unknown country is decided (by `includeUnknownCountriesAndRegions`);
/// any other unknown input leaves the policy undecided.
fn undecided_free(unknown: &[Input]) -> bool {
    unknown.iter().all(|i| *i == Input::Country)
}

/// Combines an include side and an exclude side: an exclusion wins.
fn condition(
    condition: &'static str,
    include: (Tri, &'static str),
    exclude: (Tri, &'static str),
    unknown: &mut Vec<Input>,
) -> Result<(), NotApplied> {
    if exclude.0 == Tri::Yes {
        return Err(NotApplied {
            condition,
            field: exclude.1,
        });
    }
    if include.0 == Tri::No {
        return Err(NotApplied {
            condition,
            field: include.1,
        });
    }
    for t in [include.0, exclude.0] {
        if let Tri::Unknown(i) = t {
            unknown.push(i);
        }
    }
    Ok(())
}

fn user_entry(entry: &str, ctx: &AccessContext) -> Tri {
    match entry {
        USERS_ALL => Tri::Yes,
        USERS_NONE => Tri::No,
        USERS_GUESTS => match ctx.user_type {
            Some(t) => tri(t == UserType::Guest),
            None => Tri::Unknown(Input::User),
        },
        id => match &ctx.user_id {
            Some(u) => tri(u == id),
            None => Tri::Unknown(Input::User),
        },
    }
}

fn group_entry(group: &str, ctx: &AccessContext) -> Tri {
    match ctx.user_id {
        Some(_) => tri(ctx.group_ids.iter().any(|g| g == group)),
        None => Tri::Unknown(Input::User),
    }
}

fn tri(b: bool) -> Tri {
    if b { Tri::Yes } else { Tri::No }
}

fn users(p: &Policy, ctx: &AccessContext, unknown: &mut Vec<Input>) -> Result<(), NotApplied> {
    let u = &p.conditions.users;
    let include = any(u
        .include_users
        .iter()
        .map(|e| user_entry(e, ctx))
        .chain(u.include_groups.iter().map(|g| group_entry(g, ctx))));
    let include_field = if include == Tri::No && u.include_users.is_empty() {
        "conditions.users.includeGroups"
    } else {
        "conditions.users.includeUsers"
    };
    let ex_users = any(u.exclude_users.iter().map(|e| user_entry(e, ctx)));
    let ex_groups = any(u.exclude_groups.iter().map(|g| group_entry(g, ctx)));
    let exclude = match (ex_users, ex_groups) {
        (Tri::Yes, _) => (Tri::Yes, "conditions.users.excludeUsers"),
        (_, Tri::Yes) => (Tri::Yes, "conditions.users.excludeGroups"),
        (a, b) => (any([a, b]), "conditions.users.excludeUsers"),
    };
    condition("users", (include, include_field), exclude, unknown)
}

fn app_entry(entry: &str, ctx: &AccessContext) -> Tri {
    match entry {
        APPS_ALL => Tri::Yes,
        APPS_NONE => Tri::No,
        id => match &ctx.app_id {
            Some(a) => tri(a == id),
            None => Tri::Unknown(Input::Application),
        },
    }
}

fn applications(
    p: &Policy,
    ctx: &AccessContext,
    unknown: &mut Vec<Input>,
) -> Result<(), NotApplied> {
    let a = &p.conditions.applications;
    condition(
        "applications",
        (
            any(a.include_applications.iter().map(|e| app_entry(e, ctx))),
            "conditions.applications.includeApplications",
        ),
        (
            any(a.exclude_applications.iter().map(|e| app_entry(e, ctx))),
            "conditions.applications.excludeApplications",
        ),
        unknown,
    )
}

fn platform_entry(entry: Platform, ctx: &AccessContext) -> Tri {
    match (entry, ctx.platform) {
        (Platform::All, _) => Tri::Yes,
        (_, None) => Tri::Unknown(Input::Platform),
        (e, Some(p)) => tri(e == p),
    }
}

fn platforms(p: &Policy, ctx: &AccessContext, unknown: &mut Vec<Input>) -> Result<(), NotApplied> {
    let Some(c) = &p.conditions.platforms else {
        return Ok(());
    };
    condition(
        "platforms",
        (
            any(c.include_platforms.iter().map(|e| platform_entry(*e, ctx))),
            "conditions.platforms.includePlatforms",
        ),
        (
            any(c.exclude_platforms.iter().map(|e| platform_entry(*e, ctx))),
            "conditions.platforms.excludePlatforms",
        ),
        unknown,
    )
}

fn location_entry(entry: &str, locs: &mut Locations<'_>, countries: &[&str]) -> Tri {
    match entry {
        LOCATIONS_ALL => Tri::Yes,
        LOCATIONS_ALL_TRUSTED => locs.trusted,
        id => {
            if countries.contains(&id) {
                locs.country_consulted = true;
            }
            // A location deleted since is never matched (the API refuses to
            // delete one a policy names; this is for drafts and replays).
            locs.by_id.get(id).copied().unwrap_or(Tri::No)
        }
    }
}

fn locations(
    p: &Policy,
    locs: &mut Locations<'_>,
    countries: &[&str],
    ctx: &AccessContext,
    unknown: &mut Vec<Input>,
) -> Result<(), NotApplied> {
    let Some(c) = &p.conditions.locations else {
        return Ok(());
    };
    let include = any(c
        .include_locations
        .iter()
        .map(|e| location_entry(e, locs, countries))
        .collect::<Vec<_>>());
    let exclude = any(c
        .exclude_locations
        .iter()
        .map(|e| location_entry(e, locs, countries))
        .collect::<Vec<_>>());
    if locs.country_consulted && ctx.country.is_none() {
        unknown.push(Input::Country);
    }
    condition(
        "locations",
        (include, "conditions.locations.includeLocations"),
        (exclude, "conditions.locations.excludeLocations"),
        unknown,
    )
}

impl Policy {
    /// The grant controls reduced to what the sign-in must do.
    pub fn requirement(&self) -> Requirement {
        requirement(self)
    }
}

fn requirement(p: &Policy) -> Requirement {
    let g = &p.grant_controls;
    let has = |c| g.built_in_controls.contains(&c);
    match g.operator {
        GrantOperator::Or if has(BuiltInControl::Mfa) => Requirement::Mfa,
        GrantOperator::Or => Requirement::Block,
        GrantOperator::And if has(BuiltInControl::Block) => Requirement::Block,
        GrantOperator::And => Requirement::Mfa,
    }
}
