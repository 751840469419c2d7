//! Reading Graph JSON: every field understood, tolerated only while empty,
//! ignored (read-only or an OData annotation), or refused by name. The rules
//! are in [`crate::conditional_access`]'s module documentation.

use super::location::{COUNTRY_NAMED_LOCATION, IP_NAMED_LOCATION, NamedLocation};
use super::model::{
    APPS_ALL, APPS_NONE, LOCATIONS_ALL, LOCATIONS_ALL_TRUSTED, Platform, Policy, USERS_ALL,
    USERS_GUESTS, USERS_NONE,
};
use serde::Serialize;
use serde_json::{Map, Value};

/// Why a policy or named location was refused: one problem per field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ImportError {
    pub problems: Vec<Problem>,
}

/// One refused field: its JSON path (`conditions.devices`) and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    pub path: String,
    pub message: String,
}

impl std::fmt::Display for ImportError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (i, p) in self.problems.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{}: {}", p.path, p.message)?;
        }
        Ok(())
    }
}

impl std::error::Error for ImportError {}

/// How each field of an object is treated.
enum Rule {
    /// Portico reads it (checked further by the typed model and `validate`).
    Read,
    /// Set by Portico, ignored on input.
    ReadOnly,
    /// Portico cannot enforce it: allowed only empty or `null`. The text names it.
    EmptyOnly(&'static str),
}

const POLICY: &[(&str, Rule)] = &[
    ("displayName", Rule::Read),
    ("state", Rule::Read),
    ("conditions", Rule::Read),
    ("grantControls", Rule::Read),
    ("id", Rule::ReadOnly),
    ("createdDateTime", Rule::ReadOnly),
    ("modifiedDateTime", Rule::ReadOnly),
    ("deletedDateTime", Rule::ReadOnly),
    ("templateId", Rule::ReadOnly),
    ("description", Rule::ReadOnly),
    (
        "sessionControls",
        Rule::EmptyOnly("session controls are not supported"),
    ),
    (
        "partialEnablementStrategy",
        Rule::EmptyOnly("partial enablement is not supported"),
    ),
];

const CONDITIONS: &[(&str, Rule)] = &[
    ("users", Rule::Read),
    ("applications", Rule::Read),
    ("platforms", Rule::Read),
    ("locations", Rule::Read),
    ("clientAppTypes", Rule::Read),
    (
        "userRiskLevels",
        Rule::EmptyOnly("user risk is not supported"),
    ),
    (
        "signInRiskLevels",
        Rule::EmptyOnly("sign-in risk is not supported"),
    ),
    (
        "servicePrincipalRiskLevels",
        Rule::EmptyOnly("service principal risk is not supported"),
    ),
    (
        "insiderRiskLevels",
        Rule::EmptyOnly("insider risk is not supported"),
    ),
    (
        "devices",
        Rule::EmptyOnly("device filters are not supported"),
    ),
    (
        "deviceStates",
        Rule::EmptyOnly("device states are not supported"),
    ),
    (
        "clientApplications",
        Rule::EmptyOnly("workload identities are not supported"),
    ),
    (
        "authenticationFlows",
        Rule::EmptyOnly("authentication flows are not supported"),
    ),
    (
        "times",
        Rule::EmptyOnly("time conditions are not supported"),
    ),
];

const USERS: &[(&str, Rule)] = &[
    ("includeUsers", Rule::Read),
    ("excludeUsers", Rule::Read),
    ("includeGroups", Rule::Read),
    ("excludeGroups", Rule::Read),
    (
        "includeRoles",
        Rule::EmptyOnly("directory roles are not supported"),
    ),
    (
        "excludeRoles",
        Rule::EmptyOnly("directory roles are not supported"),
    ),
    (
        "includeGuestsOrExternalUsers",
        Rule::EmptyOnly("use \"GuestsOrExternalUsers\" in includeUsers"),
    ),
    (
        "excludeGuestsOrExternalUsers",
        Rule::EmptyOnly("use \"GuestsOrExternalUsers\" in excludeUsers"),
    ),
];

const APPLICATIONS: &[(&str, Rule)] = &[
    ("includeApplications", Rule::Read),
    ("excludeApplications", Rule::Read),
    (
        "includeUserActions",
        Rule::EmptyOnly("user actions are not supported"),
    ),
    (
        "includeAuthenticationContextClassReferences",
        Rule::EmptyOnly("authentication contexts are not supported"),
    ),
    (
        "applicationFilter",
        Rule::EmptyOnly("application filters are not supported"),
    ),
    (
        "networkAccess",
        Rule::EmptyOnly("network access traffic is not supported"),
    ),
    (
        "globalSecureAccess",
        Rule::EmptyOnly("global secure access is not supported"),
    ),
];

const PLATFORMS: &[(&str, Rule)] = &[
    ("includePlatforms", Rule::Read),
    ("excludePlatforms", Rule::Read),
];

const LOCATIONS: &[(&str, Rule)] = &[
    ("includeLocations", Rule::Read),
    ("excludeLocations", Rule::Read),
];

const GRANT: &[(&str, Rule)] = &[
    ("operator", Rule::Read),
    ("builtInControls", Rule::Read),
    (
        "customAuthenticationFactors",
        Rule::EmptyOnly("custom authentication factors are not supported"),
    ),
    (
        "termsOfUse",
        Rule::EmptyOnly("terms of use are not supported"),
    ),
    (
        "authenticationStrength",
        Rule::EmptyOnly("authentication strengths are not supported; use the \"mfa\" control"),
    ),
];

const LOCATION: &[(&str, Rule)] = &[
    ("@odata.type", Rule::Read),
    ("displayName", Rule::Read),
    ("isTrusted", Rule::Read),
    ("ipRanges", Rule::Read),
    ("countriesAndRegions", Rule::Read),
    ("includeUnknownCountriesAndRegions", Rule::Read),
    ("countryLookupMethod", Rule::Read),
    ("id", Rule::ReadOnly),
    ("createdDateTime", Rule::ReadOnly),
    ("modifiedDateTime", Rule::ReadOnly),
];

const RANGE: &[(&str, Rule)] = &[("@odata.type", Rule::Read), ("cidrAddress", Rule::Read)];

/// Graph controls Portico cannot enforce, refused by name.
const UNSUPPORTED_CONTROLS: &[&str] = &[
    "compliantDevice",
    "domainJoinedDevice",
    "approvedApplication",
    "compliantApplication",
    "passwordChange",
    "unknownFutureValue",
];

/// Longest `displayName` kept.
pub const MAX_NAME: usize = 256;
/// Most entries in any one include/exclude list or `ipRanges`.
pub const MAX_LIST: usize = 2_000;

struct Check {
    problems: Vec<Problem>,
}

impl Check {
    fn refuse(&mut self, path: &str, message: impl Into<String>) {
        self.problems.push(Problem {
            path: path.to_string(),
            message: message.into(),
        });
    }

    /// Walks one object: each key by its rule; `@odata.*` annotations skipped.
    /// Returns the object for the caller's nested checks.
    fn object<'v>(
        &mut self,
        path: &str,
        v: &'v Value,
        rules: &[(&str, Rule)],
    ) -> Option<&'v Map<String, Value>> {
        let Some(map) = v.as_object() else {
            self.refuse(path, "must be an object");
            return None;
        };
        for (key, value) in map {
            let at = join(path, key);
            let rule = rules.iter().find(|(k, _)| k == key).map(|(_, r)| r);
            match rule {
                Some(Rule::Read) | Some(Rule::ReadOnly) => {}
                Some(Rule::EmptyOnly(why)) => {
                    if !is_empty(value) {
                        self.refuse(&at, format!("{why} (Portico cannot enforce it)"));
                    }
                }
                None if key.contains("@odata.") => {}
                None => self.refuse(&at, "unknown field"),
            }
        }
        Some(map)
    }

    fn strings<'v>(&mut self, path: &str, v: Option<&'v Value>) -> Vec<&'v str> {
        let Some(v) = v.filter(|v| !v.is_null()) else {
            return vec![];
        };
        let Some(items) = v.as_array() else {
            self.refuse(path, "must be a list of strings");
            return vec![];
        };
        if items.len() > MAX_LIST {
            self.refuse(path, format!("at most {MAX_LIST} entries"));
        }
        items
            .iter()
            .filter_map(|i| {
                let s = i.as_str();
                if s.is_none() {
                    self.refuse(path, "must be a list of strings");
                }
                s
            })
            .collect()
    }

    fn one_of(&mut self, path: &str, v: Option<&Value>, allowed: &[&str]) {
        match v.and_then(Value::as_str) {
            Some(s) if allowed.contains(&s) => {}
            Some(s) => self.refuse(path, format!("`{s}` is not one of {}", allowed.join(", "))),
            None => self.refuse(path, format!("required, one of {}", allowed.join(", "))),
        }
    }

    fn finish<T>(self, parse: impl FnOnce() -> Result<T, String>) -> Result<T, ImportError> {
        if !self.problems.is_empty() {
            return Err(ImportError {
                problems: self.problems,
            });
        }
        parse().map_err(|message| ImportError {
            problems: vec![Problem {
                path: String::new(),
                message,
            }],
        })
    }
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

fn is_empty(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.keys().all(|k| k.contains("@odata.")) || o.values().all(is_empty),
        Value::String(s) => s.is_empty(),
        Value::Bool(b) => !b,
        Value::Number(_) => false,
    }
}

impl Policy {
    /// Reads a Graph `conditionalAccessPolicy` (an Entra export as-is), or
    /// says which fields Portico refuses and why. Named location ids are
    /// checked against the stored ones by [`Policy::check_references`].
    pub fn from_graph_json(v: &Value) -> Result<Policy, ImportError> {
        let mut c = Check { problems: vec![] };
        if let Some(top) = c.object("", v, POLICY) {
            check_policy(&mut c, top);
        }
        c.finish(|| serde_json::from_value::<Policy>(v.clone()).map_err(|e| e.to_string()))
            .map(|mut p| {
                p.id.clear();
                p.created_date_time = None;
                p.modified_date_time = None;
                p
            })
    }

    /// Every location id the policy names exists (besides `All`/`AllTrusted`).
    pub fn check_references(&self, locations: &[NamedLocation]) -> Result<(), ImportError> {
        let mut c = Check { problems: vec![] };
        if let Some(l) = &self.conditions.locations {
            for (field, ids) in [
                ("includeLocations", &l.include_locations),
                ("excludeLocations", &l.exclude_locations),
            ] {
                for id in ids {
                    if id != LOCATIONS_ALL
                        && id != LOCATIONS_ALL_TRUSTED
                        && !locations.iter().any(|n| &n.id == id)
                    {
                        c.refuse(
                            &format!("conditions.locations.{field}"),
                            format!("no named location has the id `{id}`"),
                        );
                    }
                }
            }
        }
        c.finish(|| Ok(()))
    }
}

fn check_policy(c: &mut Check, top: &Map<String, Value>) {
    match top
        .get("displayName")
        .and_then(Value::as_str)
        .map(str::trim)
    {
        Some(n) if !n.is_empty() && n.chars().count() <= MAX_NAME => {}
        _ => c.refuse(
            "displayName",
            format!("required, 1 to {MAX_NAME} characters"),
        ),
    }
    c.one_of(
        "state",
        top.get("state"),
        &["enabled", "disabled", "enabledForReportingButNotEnforced"],
    );
    match top.get("conditions") {
        Some(cond) => check_conditions(c, cond),
        None => c.refuse("conditions", "required"),
    }
    match top.get("grantControls") {
        Some(g) if !g.is_null() => check_grant(c, g),
        _ => c.refuse(
            "grantControls",
            "required: Portico enforces grant controls (block, mfa) only",
        ),
    }
}

fn check_conditions(c: &mut Check, v: &Value) {
    let Some(cond) = c.object("conditions", v, CONDITIONS) else {
        return;
    };
    match cond.get("users") {
        Some(u) => check_users(c, u),
        None => c.refuse("conditions.users", "required"),
    }
    match cond.get("applications") {
        Some(a) => check_applications(c, a),
        None => c.refuse("conditions.applications", "required"),
    }
    if let Some(p) = cond.get("platforms").filter(|p| !p.is_null()) {
        check_platforms(c, p);
    }
    if let Some(l) = cond.get("locations").filter(|l| !l.is_null()) {
        check_locations(c, l);
    }
    let types = c.strings("conditions.clientAppTypes", cond.get("clientAppTypes"));
    if types.iter().any(|t| *t != "all") {
        c.refuse(
            "conditions.clientAppTypes",
            "only [\"all\"] is supported (Portico signs in browsers and OIDC clients alike)",
        );
    }
}

fn check_users(c: &mut Check, v: &Value) {
    let Some(u) = c.object("conditions.users", v, USERS) else {
        return;
    };
    let include = c.strings("conditions.users.includeUsers", u.get("includeUsers"));
    c.strings("conditions.users.excludeUsers", u.get("excludeUsers"));
    let groups = c.strings("conditions.users.includeGroups", u.get("includeGroups"));
    c.strings("conditions.users.excludeGroups", u.get("excludeGroups"));
    if include.is_empty() && groups.is_empty() {
        c.refuse(
            "conditions.users.includeUsers",
            format!("include users ({USERS_ALL}, {USERS_NONE}, {USERS_GUESTS} or ids) or groups"),
        );
    }
}

fn check_applications(c: &mut Check, v: &Value) {
    let Some(a) = c.object("conditions.applications", v, APPLICATIONS) else {
        return;
    };
    let path = "conditions.applications.includeApplications";
    let include = c.strings(path, a.get("includeApplications"));
    let exclude = c.strings(
        "conditions.applications.excludeApplications",
        a.get("excludeApplications"),
    );
    if include.is_empty() {
        c.refuse(
            path,
            format!("required: {APPS_ALL}, {APPS_NONE} or client ids"),
        );
    }
    for id in include.iter().chain(&exclude) {
        if matches!(*id, "Office365" | "MicrosoftAdminPortals") {
            c.refuse(
                path,
                format!("`{id}` names Microsoft's apps, not Portico's"),
            );
        }
    }
}

fn check_platforms(c: &mut Check, v: &Value) {
    let Some(p) = c.object("conditions.platforms", v, PLATFORMS) else {
        return;
    };
    let mut any = false;
    for field in ["includePlatforms", "excludePlatforms"] {
        let path = format!("conditions.platforms.{field}");
        for s in c.strings(&path, p.get(field)) {
            match Platform::parse(s) {
                Some(Platform::Unknown) | None => c.refuse(
                    &path,
                    format!(
                        "`{s}` is not one of android, iOS, windows, windowsPhone, macOS, linux, all"
                    ),
                ),
                Some(_) if field == "includePlatforms" => any = true,
                Some(_) => {}
            }
        }
    }
    if !any {
        c.refuse(
            "conditions.platforms.includePlatforms",
            "required when platforms are set",
        );
    }
}

fn check_locations(c: &mut Check, v: &Value) {
    let Some(l) = c.object("conditions.locations", v, LOCATIONS) else {
        return;
    };
    let include = c.strings(
        "conditions.locations.includeLocations",
        l.get("includeLocations"),
    );
    c.strings(
        "conditions.locations.excludeLocations",
        l.get("excludeLocations"),
    );
    if include.is_empty() {
        c.refuse(
            "conditions.locations.includeLocations",
            "required when locations are set (All, AllTrusted or named location ids)",
        );
    }
}

fn check_grant(c: &mut Check, v: &Value) {
    let Some(g) = c.object("grantControls", v, GRANT) else {
        return;
    };
    c.one_of("grantControls.operator", g.get("operator"), &["AND", "OR"]);
    let path = "grantControls.builtInControls";
    let controls = c.strings(path, g.get("builtInControls"));
    if controls.is_empty() {
        c.refuse(path, "required: block or mfa");
    }
    for control in controls {
        match control {
            "block" | "mfa" => {}
            other if UNSUPPORTED_CONTROLS.contains(&other) => c.refuse(
                path,
                format!("`{other}` is not supported (Portico cannot enforce it)"),
            ),
            other => c.refuse(path, format!("`{other}` is not a known control")),
        }
    }
}

impl NamedLocation {
    /// Reads a Graph `ipNamedLocation` or `countryNamedLocation`.
    pub fn from_graph_json(v: &Value) -> Result<NamedLocation, ImportError> {
        let mut c = Check { problems: vec![] };
        if let Some(top) = c.object("", v, LOCATION) {
            check_location(&mut c, top);
        }
        c.finish(|| serde_json::from_value::<NamedLocation>(v.clone()).map_err(|e| e.to_string()))
            .map(|mut l| {
                l.id.clear();
                l.created_date_time = None;
                l.modified_date_time = None;
                l
            })
    }
}

fn check_location(c: &mut Check, top: &Map<String, Value>) {
    match top
        .get("displayName")
        .and_then(Value::as_str)
        .map(str::trim)
    {
        Some(n) if !n.is_empty() && n.chars().count() <= MAX_NAME => {}
        _ => c.refuse(
            "displayName",
            format!("required, 1 to {MAX_NAME} characters"),
        ),
    }
    let kind = top.get("@odata.type").and_then(Value::as_str);
    match kind {
        Some(IP_NAMED_LOCATION) => {
            for f in [
                "countriesAndRegions",
                "includeUnknownCountriesAndRegions",
                "countryLookupMethod",
            ] {
                if top.contains_key(f) {
                    c.refuse(f, "belongs to a countryNamedLocation");
                }
            }
            match top.get("ipRanges").and_then(Value::as_array) {
                Some(r) if !r.is_empty() && r.len() <= MAX_LIST => {
                    for (i, range) in r.iter().enumerate() {
                        c.object(&format!("ipRanges[{i}]"), range, RANGE);
                    }
                }
                _ => c.refuse("ipRanges", format!("required: 1 to {MAX_LIST} CIDR ranges")),
            }
        }
        Some(COUNTRY_NAMED_LOCATION) => {
            for f in ["isTrusted", "ipRanges"] {
                if top.contains_key(f) {
                    c.refuse(f, "belongs to an ipNamedLocation");
                }
            }
            for code in c.strings("countriesAndRegions", top.get("countriesAndRegions")) {
                if code.len() != 2 || !code.bytes().all(|b| b.is_ascii_alphabetic()) {
                    c.refuse(
                        "countriesAndRegions",
                        format!("`{code}` is not an ISO 3166-1 alpha-2 code"),
                    );
                }
            }
            match top.get("countryLookupMethod").and_then(Value::as_str) {
                None | Some("clientIpAddress") => {}
                Some(m) => c.refuse(
                    "countryLookupMethod",
                    format!("`{m}` is not supported; only clientIpAddress"),
                ),
            }
        }
        _ => c.refuse(
            "@odata.type",
            format!("required: {IP_NAMED_LOCATION} or {COUNTRY_NAMED_LOCATION}"),
        ),
    }
}
