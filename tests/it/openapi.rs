//! The admin API's OpenAPI document (`GET /api/v1/openapi.json`) is the
//! API: no route escapes it, every operation it lists is routed and guarded,
//! the permissions it names are the ones enforced, and real answers (on
//! SQLite and PostgreSQL) match its schemas, checked with a JSON Schema
//! validator that does catch a wrong answer.

use portico_oidc::signin_log::{AppliedPolicy, SignInResult};
use portico_tests::{Backend, TestApp, both_backends, sign_in_record, spawn_app};
use serde_json::{Value, json};
use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};

const DOC: &str = "/api/v1/openapi.json";
const METHODS: [&str; 4] = ["get", "post", "patch", "delete"];

/// The document as the server serves it, anonymously.
async fn served_document(app: &TestApp) -> Value {
    let resp = reqwest::get(app.url(DOC)).await.unwrap();
    assert_eq!(resp.status(), 200);
    let kind = resp.headers()["content-type"].to_str().unwrap().to_string();
    assert!(kind.starts_with("application/json"), "{kind}");
    let doc: Value = resp.json().await.unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
    assert_eq!(doc["servers"][0]["url"], app.issuer.as_str());
    doc
}

/// Every documented (method, path template) but the document's own.
fn operations(doc: &Value) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in METHODS {
            if item.get(method).is_some() && path != DOC {
                out.push((method.to_string(), path.clone()));
            }
        }
    }
    out
}

/// `#/components/schemas/X` → X's schema.
fn resolve<'a>(doc: &'a Value, schema: &'a Value) -> &'a Value {
    match schema["$ref"].as_str() {
        Some(r) => doc.pointer(r.trim_start_matches('#')).unwrap(),
        None => schema,
    }
}

/// `path` with each `{param}` filled: an enum's first value, else a fresh UUID.
fn sample_path(doc: &Value, method: &str, path: &str) -> String {
    let mut out = path.to_string();
    for p in doc["paths"][path][method]["parameters"]
        .as_array()
        .into_iter()
        .flatten()
    {
        if p["in"] != "path" {
            continue;
        }
        let schema = resolve(doc, &p["schema"]);
        let value = match schema["enum"].get(0).and_then(Value::as_str) {
            Some(v) => v.to_string(),
            None => uuid::Uuid::new_v4().to_string(),
        };
        out = out.replace(&format!("{{{}}}", p["name"].as_str().unwrap()), &value);
    }
    out
}

/// Validates `instance` against `schema` (a fragment of `doc` whose `$ref`s
/// point into its components) with a JSON Schema 2020-12 validator, formats
/// (uuid, date-time) included.
fn check_schema(doc: &Value, schema: &Value, instance: &Value) -> Result<(), String> {
    let mut root = schema.clone();
    root["components"] = doc["components"].clone();
    let validator = jsonschema::draft202012::options()
        .should_validate_formats(true)
        .build(&root)
        .map_err(|e| format!("the schema does not compile: {e}"))?;
    let errors: Vec<String> = validator
        .iter_errors(instance)
        .map(|e| format!("{}: {e}", e.instance_path()))
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors.join("; "))
    }
}

/// The JSON schema documented for `status` of an operation, if it has a body.
fn response_schema<'a>(doc: &'a Value, method: &str, path: &str, status: u16) -> Option<&'a Value> {
    let responses = &doc["paths"][path][method]["responses"];
    let r = responses.get(status.to_string())?;
    r["content"]["application/json"].get("schema")
}

/// Calls the admin API with the management client and checks the exchange
/// against the document: the status is documented for the operation, the
/// body matches its schema, the request body matches the documented one.
/// Records which operations answered with success.
struct Checker<'a> {
    app: &'a TestApp,
    doc: Value,
    token: String,
    succeeded: BTreeSet<(String, String)>,
}

impl<'a> Checker<'a> {
    async fn new(app: &'a TestApp) -> Checker<'a> {
        Checker {
            app,
            doc: served_document(app).await,
            token: app.admin_token().await,
            succeeded: BTreeSet::new(),
        }
    }

    /// `method` on `template` with its `{params}` replaced in order by `args`.
    async fn call(
        &mut self,
        method: &str,
        target: &str,
        args: &[&str],
        body: Option<Value>,
    ) -> Value {
        let template = target.split('?').next().unwrap();
        let mut path = target.to_string();
        for a in args {
            let start = path.find('{').expect("a parameter to fill");
            let end = start + path[start..].find('}').unwrap();
            path.replace_range(start..=end, a);
        }
        let op = &self.doc["paths"][template][method];
        assert!(op.is_object(), "{method} {template} is not documented");
        if let Some(b) = &body {
            let schema = &op["requestBody"]["content"]["application/json"]["schema"];
            assert!(schema.is_object(), "{method} {template} documents no body");
            check_schema(&self.doc, schema, b).unwrap_or_else(|e| {
                panic!("{method} {template}: the request {b} is not the documented body: {e}")
            });
        }
        let m = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
        let mut req = reqwest::Client::new()
            .request(m, self.app.url(&path))
            .bearer_auth(&self.token);
        if let Some(b) = &body {
            req = req.json(b);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status().as_u16();
        let text = resp.text().await.unwrap();
        assert!(
            op["responses"].get(status.to_string()).is_some(),
            "{method} {path} answered {status}, which the document does not list: {text}"
        );
        let value: Value = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap()
        };
        match response_schema(&self.doc, method, template, status) {
            Some(schema) => check_schema(&self.doc, schema, &value).unwrap_or_else(|e| {
                panic!("{method} {path} ({status}) does not match the document: {e}\n{value:#}")
            }),
            None => assert!(
                text.is_empty(),
                "{method} {path} ({status}): an undocumented body {text}"
            ),
        }
        assert!(
            (200..300).contains(&status),
            "{method} {path}: {status} {text}"
        );
        self.succeeded
            .insert((method.to_string(), template.to_string()));
        value
    }
}

fn source_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let p = entry.unwrap().path();
        if p.is_dir() {
            source_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "rs") {
            out.push(p);
        }
    }
}

/// A route added by hand would answer without being in the document. The
/// admin API's routes come only from the one list (`admin_routes!` in
/// api/mod.rs) of documented handlers: through `routes!` for the document,
/// and for serving through a `.route(` whose path is the handler's own
/// `#[utoipa::path]`; the one hand-made route is the document's (api/openapi.rs).
#[test]
fn no_admin_route_is_added_outside_the_document() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../crates");
    let mut files = Vec::new();
    source_files(&root, &mut files);
    let api = root.join("server/src/api");
    let mut found = Vec::new();
    for f in &files {
        if f.ends_with("server/src/api/openapi.rs") {
            continue;
        }
        let text = std::fs::read_to_string(f).unwrap();
        for (n, line) in text.lines().enumerate() {
            let in_api = f.starts_with(&api);
            // In api/ any `.route(`; elsewhere one naming an /api/ path.
            let documented_path = line.contains("routes!(@path [path()]");
            if line.contains(".route(") && !documented_path && (in_api || line.contains("\"/api/"))
            {
                found.push(format!("{}:{}: {}", f.display(), n + 1, line.trim()));
            }
        }
    }
    assert!(
        found.is_empty(),
        "routes outside the document:\n{}",
        found.join("\n")
    );
    let mod_rs = std::fs::read_to_string(api.join("mod.rs")).unwrap();
    for list in ["admin_routes!(documented, r)", "admin_routes!(served, r)"] {
        assert!(
            mod_rs.contains(list),
            "the document and the served routes come from one list: {list}"
        );
    }
}

/// Each documented operation exists (not 404/405) and wants a token (401
/// with `WWW-Authenticate`); an undocumented path is 404, so 401 is not
/// every path's answer; the document itself needs no token.
async fn every_documented_operation_is_routed_and_guarded(backend: Backend) {
    let app = spawn_app(backend).await;
    let doc = served_document(&app).await;
    let ops = operations(&doc);
    assert!(ops.len() >= 60, "{} operations", ops.len());
    let client = reqwest::Client::new();
    for (method, path) in &ops {
        let url = app.url(&sample_path(&doc, method, path));
        let m = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
        let resp = client
            .request(m, &url)
            .json(&json!({}))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 401, "{method} {path}");
        assert!(
            resp.headers().contains_key("www-authenticate"),
            "{method} {path}"
        );
        let body: Value = resp.json().await.unwrap();
        let schema = response_schema(&doc, method, path, 401).expect("401 documented");
        check_schema(&doc, schema, &body).unwrap();
    }
    let resp = client
        .get(app.url("/api/v1/nothingHere"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 404);
    let op = &doc["paths"][DOC]["get"];
    assert_eq!(op["security"], json!([{}]), "the document is anonymous");
}
both_backends!(
    every_documented_operation_is_routed_and_guarded,
    super::every_documented_operation_is_routed_and_guarded
);

/// A body each operation accepts (so the body is not what refuses it).
fn sample_body(app: &TestApp, operation_id: &str) -> Option<Value> {
    let someone = format!("{}/api/v1/users/{}", app.issuer, uuid::Uuid::new_v4());
    Some(match operation_id {
        "applications_post" => json!({"displayName": "Payroll", "clientType": "confidential",
            "redirectUris": ["https://payroll.example/callback"]}),
        "users_post" => json!({"displayName": "Bob", "mail": format!("bob-{}@contoso.example",
            uuid::Uuid::new_v4().simple()), "password": "a long password 1", "userType": "Member"}),
        "invitations_post" => json!({"invitedUserEmailAddress": format!("g-{}@fabrikam.example",
            uuid::Uuid::new_v4().simple()), "inviteRedirectUrl": app.issuer,
            "sendInvitationMessage": false}),
        "identity_providers_post" => json!({"displayName": "Fabrikam",
            "issuer": format!("https://login-{}.fabrikam.example", uuid::Uuid::new_v4().simple()),
            "clientId": "contoso", "clientSecret": "a secret of enough length 123"}),
        "groups_post" => json!({"displayName": "Engineers"}),
        "related_ref_post" | "app_owners_ref_post" => json!({"@odata.id": someone}),
        "assigned_to_post" => json!({"principalId": uuid::Uuid::new_v4()}),
        "policies_post" => ca_policy("Block Android"),
        "locations_post" => json!({"@odata.type": "#microsoft.graph.countryNamedLocation",
            "displayName": "Nordics", "countriesAndRegions": ["NO"]}),
        "replay_post" => json!({"policy": ca_policy("Draft"), "days": 7}),
        "user_patch"
        | "application_patch"
        | "group_patch"
        | "identity_provider_patch"
        | "location_patch" => json!({"displayName": "Renamed"}),
        "policy_patch" => json!({"state": "disabled"}),
        "authentication_policy_patch" => json!({"rememberMfaMinutes": 60}),
        "authorization_policy_patch" => json!({"allowInvitesFrom": "everyone"}),
        "invitation_domains_patch" => json!({"blockedDomains": ["evil.example"]}),
        "evaluate_post" => json!({}),
        _ => return None,
    })
}

fn ca_policy(name: &str) -> Value {
    json!({
        "displayName": name,
        "state": "enabledForReportingButNotEnforced",
        "conditions": {
            "users": {"includeUsers": ["All"]},
            "applications": {"includeApplications": ["All"]},
            "platforms": {"includePlatforms": ["android"]},
        },
        "grantControls": {"operator": "OR", "builtInControls": ["block"]},
    })
}

/// For every operation, the permissions it documents (`x-permissions`) are
/// the ones enforced: a token with only a permission it does not name gets
/// 403, a token with any one it names does not.
async fn documented_permissions_are_the_enforced_ones(backend: Backend) {
    let app = spawn_app(backend).await;
    let doc = served_document(&app).await;
    let all: BTreeSet<String> = operations(&doc)
        .iter()
        .flat_map(|(m, p)| {
            doc["paths"][p][m]["x-permissions"]
                .as_array()
                .unwrap()
                .clone()
        })
        .map(|p| p.as_str().unwrap().to_string())
        .collect();
    // Every permission Portico grants is documented somewhere (the role
    // management one in the descriptions of the calls that touch admins).
    let granted: BTreeSet<String> = portico::ALL_PERMISSIONS
        .iter()
        .map(|p| p.to_string())
        .collect();
    let mut named = all.clone();
    named.insert("RoleManagement.ReadWrite.Directory".into());
    assert_eq!(named, granted, "documented vs granted permissions");
    let mut tokens: HashMap<String, String> = HashMap::new();
    let client = reqwest::Client::new();
    for (method, path) in operations(&doc) {
        let op = &doc["paths"][&path][&method];
        let documented: Vec<String> = op["x-permissions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p.as_str().unwrap().to_string())
            .collect();
        let other = all.iter().find(|p| !documented.contains(p)).unwrap();
        let url = app.url(&sample_path(&doc, &method, &path));
        let body = sample_body(&app, op["operationId"].as_str().unwrap());
        for (permission, holds) in documented.iter().map(|p| (p, true)).chain([(other, false)]) {
            if !tokens.contains_key(permission) {
                tokens.insert(permission.clone(), app.admin_token_for(permission).await);
            }
            let m = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let mut req = client.request(m, &url).bearer_auth(&tokens[permission]);
            if let Some(b) = &body {
                req = req.json(b);
            }
            let resp = req.send().await.unwrap();
            let status = resp.status().as_u16();
            let text = resp.text().await.unwrap();
            if holds {
                assert!(
                    status != 403 && status != 401,
                    "{method} {path} with {permission} (documented): {status} {text}"
                );
            } else {
                assert_eq!(
                    status, 403,
                    "{method} {path} with only {permission}: {text}"
                );
            }
        }
    }
}
both_backends!(
    documented_permissions_are_the_enforced_ones,
    super::documented_permissions_are_the_enforced_ones
);

/// Real answers of every documented operation, driven with the management
/// client, match the document's schemas (and the bodies sent match its
/// request schemas); every operation is exercised.
async fn real_answers_match_the_document(backend: Backend) {
    let app = spawn_app(backend).await;
    let mut c = Checker::new(&app).await;
    let issuer = app.issuer.clone();

    // Applications.
    let created = c
        .call(
            "post",
            "/api/v1/applications",
            &[],
            sample_body(&app, "applications_post"),
        )
        .await;
    assert!(created["clientSecret"].is_string(), "{created}");
    let app_id = created["id"].as_str().unwrap().to_string();
    let client_id = created["clientId"].as_str().unwrap().to_string();
    let list = c.call("get", "/api/v1/applications", &[], None).await;
    assert!(
        list["value"].as_array().unwrap().len() >= 2,
        "the portal's clients and the new one"
    );
    c.call("get", "/api/v1/applications/{id}", &[&app_id], None)
        .await;
    let patch = json!({"displayName": "Payroll 2", "groupMembershipClaims": "SecurityGroup",
        "appRoleAssignmentRequired": true});
    c.call(
        "patch",
        "/api/v1/applications/{id}",
        &[&app_id],
        Some(patch),
    )
    .await;
    let reset = c
        .call(
            "post",
            "/api/v1/applications/{id}/resetSecret",
            &[&app_id],
            None,
        )
        .await;
    assert!(reset["clientSecret"].is_string());

    // Users.
    let bob = c
        .call(
            "post",
            "/api/v1/users",
            &[],
            sample_body(&app, "users_post"),
        )
        .await;
    let bob_id = bob["id"].as_str().unwrap().to_string();
    c.call("get", "/api/v1/users", &[], None).await;
    c.call("get", "/api/v1/users/{id}", &[&bob_id], None).await;
    let patch =
        json!({"displayName": "Bob B.", "accessExpiresDateTime": null, "emailVerified": true});
    c.call("patch", "/api/v1/users/{id}", &[&bob_id], Some(patch))
        .await;
    let methods = c
        .call(
            "get",
            "/api/v1/users/{id}/authentication/methods",
            &[&bob_id],
            None,
        )
        .await;
    assert_eq!(
        methods["value"][0]["@odata.type"],
        "#microsoft.graph.passwordAuthenticationMethod"
    );
    c.call(
        "post",
        "/api/v1/users/{id}/authentication/requireReregistration",
        &[&bob_id],
        None,
    )
    .await;

    // Invitations (and the guest they make, with its sponsor and identity).
    let invite = json!({
        "invitedUserEmailAddress": "grace@fabrikam.example",
        "invitedUserDisplayName": "Grace",
        "inviteRedirectUrl": issuer,
        "sendInvitationMessage": false,
        "invitedUserMessageInfo": {"customizedMessageBody": "Welcome",
            "ccRecipients": [{"emailAddress": {"address": "cc@contoso.example"}}]},
    });
    let inv = c
        .call("post", "/api/v1/invitations", &[], Some(invite))
        .await;
    let inv_id = inv["id"].as_str().unwrap().to_string();
    let guest_id = inv["invitedUser"]["id"].as_str().unwrap().to_string();
    c.call("get", "/api/v1/invitations", &[], None).await;
    c.call("get", "/api/v1/invitations/{id}", &[&inv_id], None)
        .await;
    c.call("get", "/api/v1/users/{id}", &[&guest_id], None)
        .await;
    c.call("post", "/api/v1/invitations/{id}/resend", &[&inv_id], None)
        .await;
    let revoked = c
        .call("post", "/api/v1/invitations/{id}/revoke", &[&inv_id], None)
        .await;
    assert_eq!(revoked["status"], "Revoked");

    // Groups, members, owners, assignments, application owners.
    let group = c
        .call(
            "post",
            "/api/v1/groups",
            &[],
            Some(json!({"displayName": "Engineers",
            "description": "People who build", "securityEnabled": true})),
        )
        .await;
    let gid = group["id"].as_str().unwrap().to_string();
    c.call("get", "/api/v1/groups", &[], None).await;
    c.call("get", "/api/v1/groups/{id}", &[&gid], None).await;
    c.call(
        "patch",
        "/api/v1/groups/{id}",
        &[&gid],
        Some(json!({"description": "Builders"})),
    )
    .await;
    let bob_ref = json!({"@odata.id": format!("{issuer}/api/v1/users/{bob_id}")});
    for which in ["members", "owners"] {
        c.call(
            "post",
            "/api/v1/groups/{id}/{which}/$ref",
            &[&gid, which],
            Some(bob_ref.clone()),
        )
        .await;
        let list = c
            .call("get", "/api/v1/groups/{id}/{which}", &[&gid, which], None)
            .await;
        assert_eq!(list["value"][0]["@odata.type"], "#microsoft.graph.user");
    }
    c.call("get", "/api/v1/users/{id}/memberOf", &[&bob_id], None)
        .await;
    let assignment = c
        .call(
            "post",
            "/api/v1/applications/{id}/appRoleAssignedTo",
            &[&app_id],
            Some(json!({"principalId": gid})),
        )
        .await;
    c.call(
        "get",
        "/api/v1/applications/{id}/appRoleAssignedTo",
        &[&app_id],
        None,
    )
    .await;
    c.call(
        "post",
        "/api/v1/applications/{id}/owners/$ref",
        &[&app_id],
        Some(bob_ref.clone()),
    )
    .await;
    c.call("get", "/api/v1/applications/{id}/owners", &[&app_id], None)
        .await;
    // Bob owns the group and the app it is assigned to: a self-service
    // group, so Alice may ask to join it (as from My Apps); an admin decides.
    let alice = app.alice().await;
    let alice = app
        .server
        .app
        .directory
        .find_user(alice.parse().unwrap())
        .await
        .unwrap();
    let asked = portico::api::join_requests::service(&app.server.app)
        .request(gid.parse().unwrap(), &alice)
        .await
        .expect("Alice asks to join");
    let listed = c
        .call("get", "/api/v1/groups/{id}/joinRequests", &[&gid], None)
        .await;
    assert_eq!(listed["value"][0]["state"], "pending", "{listed}");
    let decided = c
        .call(
            "post",
            "/api/v1/groups/{id}/joinRequests/{rid}/{decision}",
            &[&gid, &asked.id.to_string(), "approve"],
            None,
        )
        .await;
    assert_eq!(decided["state"], "approved", "{decided}");
    let assignment_id = assignment["id"].as_str().unwrap();
    c.call(
        "delete",
        "/api/v1/applications/{id}/appRoleAssignedTo/{assignment}",
        &[&app_id, assignment_id],
        None,
    )
    .await;
    c.call(
        "delete",
        "/api/v1/applications/{id}/owners/{user}/$ref",
        &[&app_id, &bob_id],
        None,
    )
    .await;
    c.call(
        "delete",
        "/api/v1/groups/{id}/{which}/{user}/$ref",
        &[&gid, "members", &bob_id],
        None,
    )
    .await;

    // Identity providers (the test reaches nothing: its report says so).
    let idp = json!({"displayName": "Fabrikam", "issuer": "http://127.0.0.1:9",
        "clientId": "contoso", "clientSecret": "a secret of enough length 123",
        "domains": ["fabrikam.example"],
        "mfaTrust": {"amrValues": ["mfa"], "acrValues": [], "maxAgeMinutes": 60}});
    let idp = c
        .call("post", "/api/v1/identityProviders", &[], Some(idp))
        .await;
    let idp_id = idp["id"].as_str().unwrap().to_string();
    c.call("get", "/api/v1/identityProviders", &[], None).await;
    c.call("get", "/api/v1/identityProviders/{id}", &[&idp_id], None)
        .await;
    c.call(
        "patch",
        "/api/v1/identityProviders/{id}",
        &[&idp_id],
        Some(json!({"enabled": false, "mfaTrust": null})),
    )
    .await;
    let report = c
        .call(
            "post",
            "/api/v1/identityProviders/{id}/test",
            &[&idp_id],
            None,
        )
        .await;
    assert_eq!(report["ok"], false);

    // Policies.
    c.call("get", "/api/v1/policies/authenticationPolicy", &[], None)
        .await;
    c.call(
        "patch",
        "/api/v1/policies/authenticationPolicy",
        &[],
        Some(json!({"requireMfaFor": "none", "rememberMfaMinutes": 60})),
    )
    .await;
    c.call("get", "/api/v1/policies/authorizationPolicy", &[], None)
        .await;
    c.call(
        "patch",
        "/api/v1/policies/authorizationPolicy",
        &[],
        Some(json!({"allowInvitesFrom": "everyone", "ownersMayManageMembership": true})),
    )
    .await;
    c.call("get", "/api/v1/policies/invitationDomainsPolicy", &[], None)
        .await;
    c.call(
        "patch",
        "/api/v1/policies/invitationDomainsPolicy",
        &[],
        Some(json!({"blockedDomains": ["evil.example"]})),
    )
    .await;

    // Conditional access.
    const CA: &str = "/api/v1/identity/conditionalAccess";
    let office: Value = serde_json::from_str(include_str!(
        "../../crates/policy/fixtures/conditional_access/office-network.json"
    ))
    .unwrap();
    let office = c
        .call("post", &format!("{CA}/namedLocations"), &[], Some(office))
        .await;
    let office_id = office["id"].as_str().unwrap().to_string();
    let nordics = c
        .call(
            "post",
            &format!("{CA}/namedLocations"),
            &[],
            sample_body(&app, "locations_post"),
        )
        .await;
    c.call("get", &format!("{CA}/namedLocations"), &[], None)
        .await;
    c.call(
        "get",
        &format!("{CA}/namedLocations/{{id}}"),
        &[&office_id],
        None,
    )
    .await;
    c.call(
        "patch",
        &format!("{CA}/namedLocations/{{id}}"),
        &[&office_id],
        Some(json!({"displayName": "Head office (HQ)"})),
    )
    .await;
    let policy = c
        .call(
            "post",
            &format!("{CA}/policies"),
            &[],
            Some(ca_policy("Block Android")),
        )
        .await;
    let policy_id = policy["id"].as_str().unwrap().to_string();
    // Entra's export with locations, excluded users and groups, as it is.
    let entra: Value = serde_json::from_str(include_str!(
        "../../crates/policy/fixtures/conditional_access/mfa-outside-trusted.json"
    ))
    .unwrap();
    c.call("post", &format!("{CA}/policies"), &[], Some(entra))
        .await;
    c.call("get", &format!("{CA}/policies"), &[], None).await;
    c.call("get", &format!("{CA}/policies/{{id}}"), &[&policy_id], None)
        .await;
    c.call(
        "patch",
        &format!("{CA}/policies/{{id}}"),
        &[&policy_id],
        Some(json!({"state": "enabled"})),
    )
    .await;
    let question = json!({
        "signInIdentity": {"userId": bob_id},
        "signInContext": {"includeApplications": [client_id]},
        "signInConditions": {"ipAddress": "203.0.113.5", "devicePlatform": "android"},
    });
    let what_if = c
        .call("post", &format!("{CA}/evaluate"), &[], Some(question))
        .await;
    let block = what_if["value"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["displayName"] == "Block Android")
        .unwrap();
    assert_eq!(block["policyApplies"], true, "{what_if}");
    let undecided = c
        .call("post", &format!("{CA}/evaluate"), &[], Some(json!({})))
        .await;
    assert!(!undecided["unknownInputs"].as_array().unwrap().is_empty());
    c.call(
        "post",
        &format!("{CA}/replay"),
        &[],
        Some(json!({"policy": ca_policy("Draft")})),
    )
    .await;

    // The sign-in log: one success and one failure with a policy result.
    let bob_uuid = uuid::Uuid::parse_str(&bob_id).unwrap();
    app.record_sign_in(&sign_in_record(
        &app,
        &client_id,
        Some(bob_uuid),
        SignInResult::Success,
    ))
    .await;
    let mut failed = sign_in_record(&app, &client_id, None, SignInResult::Denied);
    failed.applied_policies = vec![AppliedPolicy {
        id: policy_id.clone(),
        display_name: "Block Android".into(),
        result: "failure".into(),
        enforced_grant_controls: vec!["Block".into()],
    }];
    failed.platform = Some("android".into());
    failed.country = Some("NO".into());
    app.record_sign_in(&failed).await;
    let log = c
        .call("get", "/api/v1/auditLogs/signIns?$top=1", &[], None)
        .await;
    assert!(
        log["@odata.nextLink"].is_string(),
        "a full page links the next: {log}"
    );
    let list = c.call("get", "/api/v1/auditLogs/signIns", &[], None).await;
    assert_eq!(list["value"].as_array().unwrap().len(), 2);
    let one = list["value"][0]["id"].as_str().unwrap().to_string();
    c.call("get", "/api/v1/auditLogs/signIns/{id}", &[&one], None)
        .await;
    c.call("get", "/api/v1/auditLogs/directoryAudits", &[], None)
        .await;

    // Signing keys.
    c.call("get", "/api/v1/signingKeys", &[], None).await;
    let rotated = c
        .call("post", "/api/v1/signingKeys/rotate", &[], None)
        .await;
    assert!(!rotated["keys"].as_array().unwrap().is_empty());

    // Deletes last.
    let nordics_id = nordics["id"].as_str().unwrap();
    c.call(
        "delete",
        &format!("{CA}/policies/{{id}}"),
        &[&policy_id],
        None,
    )
    .await;
    c.call(
        "delete",
        &format!("{CA}/namedLocations/{{id}}"),
        &[nordics_id],
        None,
    )
    .await;
    c.call("delete", "/api/v1/identityProviders/{id}", &[&idp_id], None)
        .await;
    c.call("delete", "/api/v1/groups/{id}", &[&gid], None).await;
    c.call("delete", "/api/v1/users/{id}", &[&bob_id], None)
        .await;
    c.call("delete", "/api/v1/applications/{id}", &[&app_id], None)
        .await;

    let missed: Vec<String> = operations(&c.doc)
        .into_iter()
        .filter(|op| !c.succeeded.contains(op))
        .map(|(m, p)| format!("{m} {p}"))
        .collect();
    assert!(missed.is_empty(), "operations never exercised: {missed:?}");
}
both_backends!(
    real_answers_match_the_document,
    super::real_answers_match_the_document
);

/// The authentication method schemas against real enrolments, made through
/// the pages as a person makes them: an authenticator app, then a passkey
/// (each on its own server: one method is enrolled at the first sign-in),
/// each listed with the recovery codes that back it.
async fn method_schemas_match_real_enrolments(backend: Backend) {
    use crate::support::{
        code_now, password_step, post_code, require_mfa_for_everyone, shown_secret,
    };
    const PATH: &str = "/api/v1/users/{id}/authentication/methods";
    let types = |m: &Value| -> Vec<String> {
        m["value"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v["@odata.type"].as_str().unwrap().to_string())
            .collect()
    };

    let app = spawn_app(backend).await;
    let alice = app.alice().await;
    require_mfa_for_everyone(&app).await;
    let client = app.web_app().await;
    let (b, enrol, _) = password_step(&app, &client).await;
    let secret = shown_secret(&enrol);
    let codes = post_code(&b, &enrol, "enroll", "totp", &code_now(&app, &secret)).await;
    assert_eq!(codes.status, 200, "{}", codes.body);
    let methods = Checker::new(&app)
        .await
        .call("get", PATH, &[&alice], None)
        .await;
    assert_eq!(
        types(&methods),
        [
            "#microsoft.graph.passwordAuthenticationMethod",
            "#microsoft.graph.softwareOathAuthenticationMethod",
            "#portico.recoveryCodesAuthenticationMethod"
        ],
        "{methods}"
    );
    assert_eq!(methods["value"][2]["remaining"], 10, "{methods}");

    let app = portico_tests::spawn_app_on_localhost(backend).await;
    let alice = app.alice().await;
    require_mfa_for_everyone(&app).await;
    let client = app.web_app().await;
    let mut key = portico_tests::SoftPasskey::new(&app.issuer);
    let (_, codes, _) = crate::passkeys::enrol(&app, &client, &mut key).await;
    assert_eq!(codes.status, 200, "{}", codes.body);
    let methods = Checker::new(&app)
        .await
        .call("get", PATH, &[&alice], None)
        .await;
    assert_eq!(
        types(&methods),
        [
            "#microsoft.graph.passwordAuthenticationMethod",
            "#microsoft.graph.fido2AuthenticationMethod",
            "#portico.recoveryCodesAuthenticationMethod"
        ],
        "{methods}"
    );
    assert_eq!(methods["value"][1]["displayName"], "Laptop", "{methods}");
}
both_backends!(
    method_schemas_match_real_enrolments,
    super::method_schemas_match_real_enrolments
);

/// The check is not vacuous: a real user, then the same user altered the
/// ways a regression would alter it, each of which the schema refuses.
async fn the_schema_check_catches_a_wrong_answer(backend: Backend) {
    let app = spawn_app(backend).await;
    let doc = served_document(&app).await;
    let (status, user) = app
        .api("GET", &format!("/api/v1/users/{}", app.admin_user_id), None)
        .await;
    assert_eq!(status, 200);
    let schema = response_schema(&doc, "get", "/api/v1/users/{id}", 200).unwrap();
    check_schema(&doc, schema, &user).unwrap();

    type Mutation = (&'static str, fn(&mut Value));
    let mutations: [Mutation; 6] = [
        ("a required field missing", |u| {
            u.as_object_mut().unwrap().remove("id");
        }),
        ("a value outside the enum", |u| {
            u["userType"] = json!("Admin")
        }),
        ("an undocumented field", |u| {
            u["passwordHash"] = json!("$argon2id$...")
        }),
        ("a wrong type", |u| u["accountEnabled"] = json!("yes")),
        ("a malformed id", |u| u["id"] = json!("not-a-uuid")),
        ("a malformed time", |u| {
            u["createdDateTime"] = json!("yesterday")
        }),
    ];
    for (what, mutate) in mutations {
        let mut wrong = user.clone();
        mutate(&mut wrong);
        assert!(
            check_schema(&doc, schema, &wrong).is_err(),
            "{what} passed: {wrong}"
        );
    }
    // A page and an error body too.
    let (_, page) = app.api("GET", "/api/v1/users", None).await;
    let schema = response_schema(&doc, "get", "/api/v1/users", 200).unwrap();
    check_schema(&doc, schema, &page).unwrap();
    assert!(check_schema(&doc, schema, &json!({"items": page["value"]})).is_err());
    let (status, error) = app.api("GET", "/api/v1/users/not-an-id", None).await;
    assert_eq!(status, 404);
    let schema = response_schema(&doc, "get", "/api/v1/users/{id}", 404).unwrap();
    check_schema(&doc, schema, &error).unwrap();
    assert!(check_schema(&doc, schema, &json!({"error": "notFound"})).is_err());
    // The database guard's 503 (db_guard.rs) is documented on every operation.
    let guard = json!({"error": "temporarily_unavailable",
        "error_description": "The service cannot reach its database. Retry shortly."});
    for (method, path) in operations(&doc) {
        let schema = response_schema(&doc, &method, &path, 503).expect("503 documented");
        check_schema(&doc, schema, &guard).unwrap();
        assert!(check_schema(&doc, schema, &json!({"error": 503})).is_err());
    }
}
both_backends!(
    the_schema_check_catches_a_wrong_answer,
    super::the_schema_check_catches_a_wrong_answer
);

/// Admins find the document: the README names it and every portal page
/// links it, and the link works.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_portal_and_the_readme_link_the_document() {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../README.md"))
            .unwrap();
    assert!(readme.contains(DOC), "the README links {DOC}");
    let app = spawn_app(Backend::Sqlite).await;
    let portal = app.portal_admin().await;
    let page = portal.get("/admin/users").await;
    assert_eq!(page.status, reqwest::StatusCode::OK);
    assert!(
        page.body.contains(&format!("href=\"{DOC}\"")),
        "{}",
        page.body
    );
    served_document(&app).await;
}
