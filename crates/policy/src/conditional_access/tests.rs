//! Evaluation tables and import rules.

use super::*;
use crate::UserType;
use serde_json::json;

const FIXTURE_BLOCK: &str =
    include_str!("../../fixtures/conditional_access/block-guests-android.json");
const FIXTURE_MFA: &str =
    include_str!("../../fixtures/conditional_access/mfa-outside-trusted.json");
const FIXTURE_OFFICE: &str = include_str!("../../fixtures/conditional_access/office-network.json");

/// A policy from Graph JSON with the given parts (users `All`, apps `All`,
/// `block` unless overridden).
fn policy(id: &str, state: &str, parts: serde_json::Value) -> Policy {
    let mut v = json!({
        "displayName": id,
        "state": state,
        "conditions": {
            "users": {"includeUsers": ["All"]},
            "applications": {"includeApplications": ["All"]},
        },
        "grantControls": {"operator": "OR", "builtInControls": ["block"]},
    });
    merge(&mut v, parts);
    let mut p = Policy::from_graph_json(&v).unwrap_or_else(|e| panic!("{id}: {e}"));
    p.id = id.into();
    p
}

fn merge(into: &mut serde_json::Value, from: serde_json::Value) {
    match (into, from) {
        (serde_json::Value::Object(a), serde_json::Value::Object(b)) => {
            for (k, v) in b {
                merge(a.entry(k).or_insert(serde_json::Value::Null), v);
            }
        }
        (slot, v) => *slot = v,
    }
}

fn locations() -> Vec<NamedLocation> {
    let mut office =
        NamedLocation::from_graph_json(&serde_json::from_str(FIXTURE_OFFICE).unwrap_or_default())
            .unwrap_or_else(|e| panic!("{e}"));
    office.id = "office".into();
    let mut lab = NamedLocation::from_graph_json(&json!({
        "@odata.type": "#microsoft.graph.ipNamedLocation",
        "displayName": "Lab", "isTrusted": false,
        "ipRanges": [{"@odata.type": "#microsoft.graph.iPv4CidrRange", "cidrAddress": "198.51.100.0/24"}],
    }))
    .unwrap_or_else(|e| panic!("{e}"));
    lab.id = "lab".into();
    let mut nordics = NamedLocation::from_graph_json(&json!({
        "@odata.type": "#microsoft.graph.countryNamedLocation",
        "displayName": "Nordics", "countriesAndRegions": ["se", "NO"],
        "includeUnknownCountriesAndRegions": true,
    }))
    .unwrap_or_else(|e| panic!("{e}"));
    nordics.id = "nordics".into();
    vec![office, lab, nordics]
}

fn member() -> AccessContext {
    AccessContext {
        user_id: Some("u-member".into()),
        user_type: Some(UserType::Member),
        group_ids: vec!["g-staff".into()],
        app_id: Some("app-crm".into()),
        ip: Some(
            "192.0.2.7"
                .parse()
                .unwrap_or(std::net::Ipv4Addr::LOCALHOST.into()),
        ),
        platform: Some(Platform::Windows),
        country: Some("SE".into()),
    }
}

fn guest() -> AccessContext {
    AccessContext {
        user_id: Some("u-guest".into()),
        user_type: Some(UserType::Guest),
        group_ids: vec![],
        ..member()
    }
}

fn ip(s: &str) -> Option<std::net::IpAddr> {
    s.parse().ok()
}

/// Expected: `Ok(())` applies; `Err(field)` the first failed field; `"?"` undecided.
enum Want {
    Applies,
    Not(&'static str),
    Undecided(&'static [Input]),
}

#[test]
fn conditions_table() {
    use Want::*;
    let cases: Vec<(&str, serde_json::Value, AccessContext, Want)> = vec![
        // Users: include/exclude precedence.
        ("all users", json!({}), member(), Applies),
        (
            "guests only, member",
            json!({"conditions": {"users": {"includeUsers": ["GuestsOrExternalUsers"]}}}),
            member(),
            Not("conditions.users.includeUsers"),
        ),
        (
            "guests only, guest",
            json!({"conditions": {"users": {"includeUsers": ["GuestsOrExternalUsers"]}}}),
            guest(),
            Applies,
        ),
        (
            "None",
            json!({"conditions": {"users": {"includeUsers": ["None"]}}}),
            member(),
            Not("conditions.users.includeUsers"),
        ),
        (
            "user excluded by id wins over All",
            json!({"conditions": {"users": {"excludeUsers": ["u-member"]}}}),
            member(),
            Not("conditions.users.excludeUsers"),
        ),
        (
            "user excluded by group wins over id",
            json!({"conditions": {"users": {"includeUsers": ["u-member"], "excludeGroups": ["g-staff"]}}}),
            member(),
            Not("conditions.users.excludeGroups"),
        ),
        (
            "exclude guests, guest",
            json!({"conditions": {"users": {"excludeUsers": ["GuestsOrExternalUsers"]}}}),
            guest(),
            Not("conditions.users.excludeUsers"),
        ),
        (
            "group included",
            json!({"conditions": {"users": {"includeUsers": [], "includeGroups": ["g-staff"]}}}),
            member(),
            Applies,
        ),
        (
            "group not included",
            json!({"conditions": {"users": {"includeUsers": [], "includeGroups": ["g-other"]}}}),
            member(),
            Not("conditions.users.includeGroups"),
        ),
        // Applications.
        (
            "app included",
            json!({"conditions": {"applications": {"includeApplications": ["app-crm"]}}}),
            member(),
            Applies,
        ),
        (
            "other app",
            json!({"conditions": {"applications": {"includeApplications": ["app-hr"]}}}),
            member(),
            Not("conditions.applications.includeApplications"),
        ),
        (
            "app excluded",
            json!({"conditions": {"applications": {"excludeApplications": ["app-crm"]}}}),
            member(),
            Not("conditions.applications.excludeApplications"),
        ),
        // Platforms.
        (
            "android only, windows",
            json!({"conditions": {"platforms": {"includePlatforms": ["android"]}}}),
            member(),
            Not("conditions.platforms.includePlatforms"),
        ),
        (
            "android only, android",
            json!({"conditions": {"platforms": {"includePlatforms": ["android", "iOS"]}}}),
            AccessContext {
                platform: Some(Platform::Android),
                ..member()
            },
            Applies,
        ),
        (
            "all but windows",
            json!({"conditions": {"platforms": {"includePlatforms": ["all"], "excludePlatforms": ["windows"]}}}),
            member(),
            Not("conditions.platforms.excludePlatforms"),
        ),
        (
            "all matches an unrecognised platform",
            json!({"conditions": {"platforms": {"includePlatforms": ["all"], "excludePlatforms": ["iOS"]}}}),
            AccessContext {
                platform: Some(Platform::Unknown),
                ..member()
            },
            Applies,
        ),
        (
            "android does not match unrecognised",
            json!({"conditions": {"platforms": {"includePlatforms": ["android"]}}}),
            AccessContext {
                platform: Some(Platform::Unknown),
                ..member()
            },
            Not("conditions.platforms.includePlatforms"),
        ),
        // Locations: IP, trusted, country.
        (
            "outside trusted",
            json!({"conditions": {"locations": {"includeLocations": ["All"], "excludeLocations": ["AllTrusted"]}}}),
            member(),
            Applies,
        ),
        (
            "inside trusted v4",
            json!({"conditions": {"locations": {"includeLocations": ["All"], "excludeLocations": ["AllTrusted"]}}}),
            AccessContext {
                ip: ip("203.0.113.9"),
                ..member()
            },
            Not("conditions.locations.excludeLocations"),
        ),
        (
            "inside trusted v6",
            json!({"conditions": {"locations": {"includeLocations": ["All"], "excludeLocations": ["AllTrusted"]}}}),
            AccessContext {
                ip: ip("2001:db8:abcd:12::1"),
                ..member()
            },
            Not("conditions.locations.excludeLocations"),
        ),
        (
            "v4-mapped v6 is v4",
            json!({"conditions": {"locations": {"includeLocations": ["All"], "excludeLocations": ["AllTrusted"]}}}),
            AccessContext {
                ip: ip("::ffff:203.0.113.9"),
                ..member()
            },
            Not("conditions.locations.excludeLocations"),
        ),
        (
            "untrusted named location is not AllTrusted",
            json!({"conditions": {"locations": {"includeLocations": ["All"], "excludeLocations": ["AllTrusted"]}}}),
            AccessContext {
                ip: ip("198.51.100.3"),
                ..member()
            },
            Applies,
        ),
        (
            "in the lab",
            json!({"conditions": {"locations": {"includeLocations": ["lab"]}}}),
            AccessContext {
                ip: ip("198.51.100.3"),
                ..member()
            },
            Applies,
        ),
        (
            "not in the lab",
            json!({"conditions": {"locations": {"includeLocations": ["lab"]}}}),
            member(),
            Not("conditions.locations.includeLocations"),
        ),
        (
            "in the nordics",
            json!({"conditions": {"locations": {"includeLocations": ["nordics"]}}}),
            member(),
            Applies,
        ),
        (
            "not in the nordics",
            json!({"conditions": {"locations": {"includeLocations": ["nordics"]}}}),
            AccessContext {
                country: Some("FR".into()),
                ..member()
            },
            Not("conditions.locations.includeLocations"),
        ),
        // Unknown inputs: reported, never guessed.
        (
            "unknown user",
            json!({"conditions": {"users": {"includeUsers": ["GuestsOrExternalUsers"]}}}),
            AccessContext {
                user_id: None,
                user_type: None,
                ..member()
            },
            Undecided(&[Input::User]),
        ),
        (
            "unknown user, but the app rules it out",
            json!({"conditions": {"users": {"includeUsers": ["u-x"]}, "applications": {"includeApplications": ["app-hr"]}}}),
            AccessContext {
                user_id: None,
                ..member()
            },
            Not("conditions.applications.includeApplications"),
        ),
        (
            "unknown app",
            json!({"conditions": {"applications": {"includeApplications": ["app-crm"]}}}),
            AccessContext {
                app_id: None,
                ..member()
            },
            Undecided(&[Input::Application]),
        ),
        (
            "unknown platform",
            json!({"conditions": {"platforms": {"includePlatforms": ["android"]}}}),
            AccessContext {
                platform: None,
                ..member()
            },
            Undecided(&[Input::Platform]),
        ),
        (
            "unknown platform, all",
            json!({"conditions": {"platforms": {"includePlatforms": ["all"]}}}),
            AccessContext {
                platform: None,
                ..member()
            },
            Applies,
        ),
        (
            "unknown ip",
            json!({"conditions": {"locations": {"includeLocations": ["All"], "excludeLocations": ["AllTrusted"]}}}),
            AccessContext {
                ip: None,
                ..member()
            },
            Undecided(&[Input::IpAddress]),
        ),
        (
            "unknown ip, exclusion by user decides",
            json!({"conditions": {"users": {"excludeUsers": ["u-member"]}, "locations": {"includeLocations": ["lab"]}}}),
            AccessContext {
                ip: None,
                ..member()
            },
            Not("conditions.users.excludeUsers"),
        ),
    ];
    let locs = locations();
    for (name, parts, ctx, want) in cases {
        let p = policy(name, "enabled", parts);
        let r = evaluate(std::slice::from_ref(&p), &locs, &ctx).remove(0);
        match want {
            Applies => assert_eq!(r.applicability, Applicability::Applies, "{name}"),
            Not(field) => match r.applicability {
                Applicability::NotApplied(n) => assert_eq!(n.field, field, "{name}"),
                other => panic!("{name}: {other:?}"),
            },
            Undecided(inputs) => {
                assert_eq!(r.applicability, Applicability::Undecided, "{name}");
                assert_eq!(r.unknown_inputs, inputs, "{name}");
            }
        }
    }
}

#[test]
fn an_unknown_country_matches_only_locations_that_include_unknown_ones_and_is_reported() {
    let locs = locations();
    let ctx = AccessContext {
        country: None,
        ..member()
    };
    let p = policy(
        "nordics",
        "enabled",
        json!({"conditions": {"locations": {"includeLocations": ["nordics"]}}}),
    );
    let r = evaluate(&[p], &locs, &ctx).remove(0);
    assert_eq!(r.applicability, Applicability::Applies);
    assert_eq!(r.unknown_inputs, vec![Input::Country]);
}

#[test]
fn grant_operators_reduce_to_block_or_mfa() {
    let cases = [
        ("OR", json!(["block"]), Requirement::Block),
        ("OR", json!(["mfa"]), Requirement::Mfa),
        ("AND", json!(["mfa"]), Requirement::Mfa),
        ("OR", json!(["block", "mfa"]), Requirement::Mfa),
        ("AND", json!(["block", "mfa"]), Requirement::Block),
    ];
    for (op, controls, want) in cases {
        let p = policy(
            "p",
            "enabled",
            json!({"grantControls": {"operator": op, "builtInControls": controls}}),
        );
        let r = evaluate(&[p], &[], &member()).remove(0);
        assert_eq!(r.requirement, want, "{op} {controls}");
    }
}

#[test]
fn results_follow_state_and_whether_mfa_was_met() {
    use AppliedResult::*;
    let applies = json!({});
    let not = json!({"conditions": {"users": {"includeUsers": ["None"]}}});
    let mfa = json!({"grantControls": {"operator": "OR", "builtInControls": ["mfa"]}});
    let cases = [
        ("enabled", applies.clone(), false, Failure),
        ("enabled", mfa.clone(), false, Failure),
        ("enabled", mfa.clone(), true, Success),
        ("enabled", not.clone(), false, NotApplied),
        ("disabled", applies.clone(), false, NotEnabled),
        (
            "enabledForReportingButNotEnforced",
            applies.clone(),
            true,
            ReportOnlyFailure,
        ),
        (
            "enabledForReportingButNotEnforced",
            mfa.clone(),
            true,
            ReportOnlySuccess,
        ),
        (
            "enabledForReportingButNotEnforced",
            not.clone(),
            true,
            ReportOnlyNotApplied,
        ),
    ];
    for (state, parts, mfa_met, want) in cases {
        let p = policy("p", state, parts.clone());
        let r = evaluate(&[p], &[], &member()).remove(0);
        assert_eq!(r.result(mfa_met), want, "{state} {parts}");
    }
}

#[test]
fn only_enabled_policies_are_enforced_report_only_never() {
    let policies = [
        policy(
            "block (report-only)",
            "enabledForReportingButNotEnforced",
            json!({}),
        ),
        policy("block (off)", "disabled", json!({})),
        policy(
            "mfa",
            "enabled",
            json!({"grantControls": {"operator": "OR", "builtInControls": ["mfa"]}}),
        ),
        policy(
            "block guests",
            "enabled",
            json!({"conditions": {"users": {"includeUsers": ["GuestsOrExternalUsers"]}}}),
        ),
    ];
    let e = Enforcement::of(&evaluate(&policies, &[], &member()));
    assert!(e.blocked_by.is_empty());
    assert_eq!(e.mfa_required_by, vec!["mfa".to_string()]);
    let e = Enforcement::of(&evaluate(&policies, &[], &guest()));
    assert_eq!(
        e.blocked_by,
        vec![("block guests".to_string(), "block guests".to_string())]
    );
}

#[test]
fn entra_exports_import_as_is() {
    for text in [FIXTURE_BLOCK, FIXTURE_MFA] {
        let v: serde_json::Value = serde_json::from_str(text).unwrap_or_default();
        let p = Policy::from_graph_json(&v).unwrap_or_else(|e| panic!("{e}"));
        assert!(p.id.is_empty(), "ids are Portico's to give");
        // What Portico writes back reads back the same.
        let again = Policy::from_graph_json(&serde_json::to_value(&p).unwrap_or_default());
        assert_eq!(again.as_ref(), Ok(&p));
    }
    let v: serde_json::Value = serde_json::from_str(FIXTURE_MFA).unwrap_or_default();
    let p = Policy::from_graph_json(&v).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(p.state, PolicyState::Enabled);
    assert_eq!(p.conditions.users.exclude_groups.len(), 1);
    assert_eq!(
        p.conditions.locations.map(|l| l.exclude_locations),
        Some(vec!["AllTrusted".to_string()])
    );
}

#[test]
fn what_portico_cannot_enforce_is_refused_by_name() {
    let v: serde_json::Value = serde_json::from_str(FIXTURE_BLOCK).unwrap_or_default();
    let cases = [
        (
            "/grantControls/builtInControls",
            json!(["mfa", "compliantDevice"]),
            "grantControls.builtInControls",
            "compliantDevice",
        ),
        (
            "/grantControls/builtInControls",
            json!(["passwordChange"]),
            "grantControls.builtInControls",
            "passwordChange",
        ),
        (
            "/grantControls/authenticationStrength",
            json!({"id": "00000000-0000-0000-0000-000000000002"}),
            "grantControls.authenticationStrength",
            "authentication strengths",
        ),
        (
            "/sessionControls",
            json!({"signInFrequency": {"value": 1, "type": "hours", "isEnabled": true}}),
            "sessionControls",
            "session controls",
        ),
        (
            "/conditions/signInRiskLevels",
            json!(["high"]),
            "conditions.signInRiskLevels",
            "risk",
        ),
        (
            "/conditions/devices",
            json!({"deviceFilter": {"mode": "include", "rule": "device.isCompliant -eq True"}}),
            "conditions.devices",
            "device filters",
        ),
        (
            "/conditions/users/includeRoles",
            json!(["62e90394-69f5-4237-9190-012177145e10"]),
            "conditions.users.includeRoles",
            "roles",
        ),
        (
            "/conditions/clientAppTypes",
            json!(["exchangeActiveSync"]),
            "conditions.clientAppTypes",
            "all",
        ),
        (
            "/conditions/platforms/includePlatforms",
            json!(["blackberry"]),
            "conditions.platforms.includePlatforms",
            "blackberry",
        ),
        ("/state", json!("on"), "state", "on"),
        (
            "/conditions/applications/includeApplications",
            json!(["Office365"]),
            "conditions.applications.includeApplications",
            "Office365",
        ),
        (
            "/conditions/users/somethingNew",
            json!(true),
            "conditions.users.somethingNew",
            "unknown field",
        ),
        ("/displayName", json!(""), "displayName", "required"),
    ];
    for (pointer, value, path, words) in cases {
        let mut bad = v.clone();
        let (parent, key) = pointer.rsplit_once('/').unwrap_or_default();
        if let Some(obj) = bad.pointer_mut(parent).and_then(|p| p.as_object_mut()) {
            obj.insert(key.into(), value);
        }
        let err = Policy::from_graph_json(&bad).expect_err(pointer);
        let problem = err.problems.iter().find(|p| p.path == path);
        assert!(
            problem.is_some_and(|p| p.message.contains(words)),
            "{pointer}: {err}"
        );
    }
}

#[test]
fn named_locations_import_and_refuse_bad_ranges() {
    let v: serde_json::Value = serde_json::from_str(FIXTURE_OFFICE).unwrap_or_default();
    let l = NamedLocation::from_graph_json(&v).unwrap_or_else(|e| panic!("{e}"));
    assert!(l.is_trusted());
    let back = serde_json::to_value(&l).unwrap_or_default();
    assert_eq!(back["@odata.type"], "#microsoft.graph.ipNamedLocation");
    assert_eq!(
        back["ipRanges"][1]["@odata.type"],
        "#microsoft.graph.iPv6CidrRange"
    );
    for bad in [
        json!({"@odata.type": "#microsoft.graph.ipNamedLocation", "displayName": "x", "ipRanges": [{"cidrAddress": "10.0.0.0/33"}]}),
        json!({"@odata.type": "#microsoft.graph.ipNamedLocation", "displayName": "x", "ipRanges": [{"@odata.type": "#microsoft.graph.iPv6CidrRange", "cidrAddress": "10.0.0.0/8"}]}),
        json!({"@odata.type": "#microsoft.graph.ipNamedLocation", "displayName": "x", "ipRanges": []}),
        json!({"@odata.type": "#microsoft.graph.countryNamedLocation", "displayName": "x", "countriesAndRegions": ["SWE"]}),
        json!({"@odata.type": "#microsoft.graph.countryNamedLocation", "displayName": "x", "countriesAndRegions": ["SE"], "countryLookupMethod": "authenticatorAppGps"}),
        json!({"@odata.type": "#microsoft.graph.compliantNetworkNamedLocation", "displayName": "x"}),
    ] {
        assert!(NamedLocation::from_graph_json(&bad).is_err(), "{bad}");
    }
}

#[test]
fn a_policy_naming_a_missing_location_is_refused() {
    let p = policy(
        "p",
        "enabled",
        json!({"conditions": {"locations": {"includeLocations": ["All"], "excludeLocations": ["gone"]}}}),
    );
    let err = p.check_references(&locations()).expect_err("gone");
    assert!(err.to_string().contains("`gone`"), "{err}");
    let p = policy(
        "p",
        "enabled",
        json!({"conditions": {"locations": {"includeLocations": ["office", "AllTrusted"]}}}),
    );
    assert_eq!(p.check_references(&locations()), Ok(()));
}
