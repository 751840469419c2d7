//! Graph's `conditionalAccessPolicy`, the part Portico enforces. Serialized
//! in Graph's shape (camelCase, the same enum spellings), so what the API
//! returns imports back unchanged, into Portico or into Entra.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// A conditional access policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Policy {
    /// Assigned by Portico when the policy is created.
    #[serde(default)]
    pub id: String,
    pub display_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_date_time: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub modified_date_time: Option<DateTime<Utc>>,
    pub state: PolicyState,
    pub conditions: Conditions,
    pub grant_controls: GrantControls,
}

/// `state`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum PolicyState {
    Enabled,
    Disabled,
    /// Report-only: evaluated and recorded, never enforced.
    EnabledForReportingButNotEnforced,
}

impl PolicyState {
    pub fn as_str(self) -> &'static str {
        match self {
            PolicyState::Enabled => "enabled",
            PolicyState::Disabled => "disabled",
            PolicyState::EnabledForReportingButNotEnforced => "enabledForReportingButNotEnforced",
        }
    }
}

/// `conditions`: every condition must hold for the policy to apply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Conditions {
    pub users: UsersCondition,
    pub applications: ApplicationsCondition,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platforms: Option<PlatformsCondition>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locations: Option<LocationsCondition>,
    /// Portico signs in browsers and OIDC clients only: always `["all"]`.
    #[serde(default = "all_client_app_types")]
    pub client_app_types: Vec<String>,
}

fn all_client_app_types() -> Vec<String> {
    vec!["all".into()]
}

/// The special values of `includeUsers`/`excludeUsers`.
pub const USERS_ALL: &str = "All";
pub const USERS_NONE: &str = "None";
pub const USERS_GUESTS: &str = "GuestsOrExternalUsers";

/// `conditions.users`: user ids (or `All`, `None`, `GuestsOrExternalUsers`)
/// and group ids, each included or excluded. An exclusion always wins.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UsersCondition {
    #[serde(default)]
    pub include_users: Vec<String>,
    #[serde(default)]
    pub exclude_users: Vec<String>,
    #[serde(default)]
    pub include_groups: Vec<String>,
    #[serde(default)]
    pub exclude_groups: Vec<String>,
}

/// The special values of `includeApplications`/`excludeApplications`.
pub const APPS_ALL: &str = "All";
pub const APPS_NONE: &str = "None";

/// `conditions.applications`: client ids, or `All`/`None`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApplicationsCondition {
    #[serde(default)]
    pub include_applications: Vec<String>,
    #[serde(default)]
    pub exclude_applications: Vec<String>,
}

/// A device platform (Graph `conditionalAccessDevicePlatform`). As a value
/// of the sign-in it is what the client claims (User-Agent, client hints).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Platform {
    Android,
    #[serde(rename = "iOS")]
    Ios,
    Windows,
    #[serde(rename = "macOS")]
    MacOs,
    Linux,
    WindowsPhone,
    /// In a condition: every platform, including unrecognised ones.
    All,
    /// As a sign-in's platform: the client said nothing Portico recognises.
    /// Only `all` matches it (as in Entra).
    #[serde(rename = "unknown")]
    Unknown,
}

impl Platform {
    pub fn as_str(self) -> &'static str {
        match self {
            Platform::Android => "android",
            Platform::Ios => "iOS",
            Platform::Windows => "windows",
            Platform::MacOs => "macOS",
            Platform::Linux => "linux",
            Platform::WindowsPhone => "windowsPhone",
            Platform::All => "all",
            Platform::Unknown => "unknown",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [
            Platform::Android,
            Platform::Ios,
            Platform::Windows,
            Platform::MacOs,
            Platform::Linux,
            Platform::WindowsPhone,
            Platform::All,
            Platform::Unknown,
        ]
        .into_iter()
        .find(|p| p.as_str().eq_ignore_ascii_case(s))
    }
}

/// `conditions.platforms`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PlatformsCondition {
    #[serde(default)]
    pub include_platforms: Vec<Platform>,
    #[serde(default)]
    pub exclude_platforms: Vec<Platform>,
}

/// The special values of `includeLocations`/`excludeLocations`.
pub const LOCATIONS_ALL: &str = "All";
pub const LOCATIONS_ALL_TRUSTED: &str = "AllTrusted";

/// `conditions.locations`: named location ids, `All` or `AllTrusted`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LocationsCondition {
    #[serde(default)]
    pub include_locations: Vec<String>,
    #[serde(default)]
    pub exclude_locations: Vec<String>,
}

/// `grantControls`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GrantControls {
    pub operator: GrantOperator,
    pub built_in_controls: Vec<BuiltInControl>,
}

/// `grantControls.operator`: all of the controls, or any one of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum GrantOperator {
    #[serde(rename = "AND")]
    And,
    #[serde(rename = "OR")]
    Or,
}

/// The built-in controls Portico enforces. Graph's others (`compliantDevice`,
/// `domainJoinedDevice`, `approvedApplication`, `compliantApplication`,
/// `passwordChange`) are refused at import.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum BuiltInControl {
    Block,
    Mfa,
}
