//! The sign-in log, read: `GET /api/v1/auditLogs/signIns` in Microsoft
//! Graph's `signIn` shape (newest first, `$filter` subset, paging by
//! `@odata.nextLink`, `AuditLog.Read.All`) and the portal's sign-ins page.
//! Records are written straight into storage: these tests are about reading.

use chrono::Duration;
use portico_oidc::signin_log::{SignInRecord, SignInResult, StepRecord};
use portico_tests::{Backend, TestApp, both_backends, sign_in_record, spawn_app};
use serde_json::Value;
use uuid::Uuid;

const LOG: &str = "/api/v1/auditLogs/signIns";

/// Writes `records` to the log, in order.
async fn record_all(app: &TestApp, records: &[SignInRecord]) {
    for r in records {
        app.record_sign_in(r).await;
    }
}

/// `GET` on the admin API with a full-permission token: (status, JSON).
async fn get(app: &TestApp, path_and_query: &str) -> (u16, Value) {
    app.api("GET", path_and_query, None).await
}

fn ids(page: &Value) -> Vec<String> {
    page["value"]
        .as_array()
        .expect("value")
        .iter()
        .map(|v| v["id"].as_str().expect("id").to_string())
        .collect()
}

fn ids_of(records: &[&SignInRecord]) -> Vec<String> {
    records.iter().map(|r| r.id.to_string()).collect()
}

/// The log with `$filter` = `filter` (URL-encoded here).
fn filtered(filter: &str) -> String {
    let q = serde_urlencoded::to_string([("$filter", filter)]).unwrap();
    format!("{LOG}?{q}")
}

async fn sign_ins_are_listed_newest_first_in_graphs_shape(backend: Backend) {
    let app = spawn_app(backend).await;
    let alice = Uuid::now_v7();
    let old = sign_in_record(&app, "app-a", Some(alice), SignInResult::Failed);
    app.clock.advance(Duration::seconds(1));
    let mut mfa = sign_in_record(&app, "app-a", Some(alice), SignInResult::Success);
    mfa.home_idp = Some("https://login.fabrikam.example".into());
    mfa.acr = Some("https://refeds.org/profile/mfa".into());
    mfa.amr = vec!["fed".into(), "otp".into()];
    mfa.steps = ["upstream", "totp", "consent"]
        .into_iter()
        .map(|m| StepRecord {
            method: m.into(),
            at: mfa.created_at,
            amr: None,
        })
        .collect();
    app.clock.advance(Duration::seconds(1));
    let mut anonymous = sign_in_record(&app, "app-b", None, SignInResult::Aborted);
    anonymous.failure_reason = Some("upstream_unreachable".into());
    record_all(&app, &[old.clone(), mfa.clone(), anonymous.clone()]).await;

    let (status, page) = get(&app, LOG).await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(page["value"].as_array().unwrap().len(), 3);
    assert_eq!(ids(&page), ids_of(&[&anonymous, &mfa, &old]));
    assert!(page.get("@odata.nextLink").is_none(), "one page");

    let m = &page["value"][1];
    assert_eq!(m["userId"], alice.to_string());
    assert_eq!(m["userPrincipalName"], "alice@contoso.example");
    assert_eq!(m["userDisplayName"], "Alice Example");
    assert_eq!(m["appId"], "app-a");
    assert_eq!(m["appDisplayName"], "App app-a");
    assert_eq!(m["ipAddress"], "192.0.2.10");
    assert_eq!(m["clientAppUsed"], "Browser");
    assert_eq!(m["userAgent"], "Mozilla/5.0 (X11; Linux x86_64) Test");
    assert_eq!(m["correlationId"], mfa.correlation_id);
    assert!(
        m["createdDateTime"]
            .as_str()
            .unwrap()
            .starts_with(&mfa.created_at.format("%Y-%m-%dT%H:%M:%S").to_string())
    );
    assert_eq!(
        m["status"],
        serde_json::json!({"errorCode": 0, "failureReason": null, "additionalDetails": null})
    );
    assert_eq!(
        m["authenticationMethodsUsed"],
        serde_json::json!(["Federated identity provider", "Authenticator app (TOTP)"])
    );
    assert_eq!(m["authenticationRequirement"], "multiFactorAuthentication");
    assert_eq!(m["homeIdentityProvider"], "https://login.fabrikam.example");
    assert_eq!(m["amr"], serde_json::json!(["fed", "otp"]));
    assert_eq!(m["acr"], "https://refeds.org/profile/mfa");
    assert_eq!(m["result"], "success");
    let steps: Vec<&str> = m["authenticationSteps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["method"].as_str().unwrap())
        .collect();
    assert_eq!(steps, ["upstream", "totp", "consent"]);

    let f = &page["value"][2];
    assert_eq!(
        f["status"],
        serde_json::json!({
            "errorCode": 50126,
            "failureReason": "The email or password is incorrect.",
            "additionalDetails": "invalid_credentials",
        })
    );
    assert_eq!(
        f["authenticationMethodsUsed"],
        serde_json::json!(["Password"])
    );
    assert_eq!(f["authenticationRequirement"], "singleFactorAuthentication");
    assert_eq!(f["result"], "failed");
    let a = &page["value"][0];
    assert_eq!(a["userId"], Value::Null);
    assert_eq!(
        a["status"]["errorCode"], 90000,
        "a reason Entra has no number for"
    );
    assert_eq!(a["status"]["additionalDetails"], "upstream_unreachable");

    // One sign-in by id: the same object as in the list.
    let (status, one) = get(&app, &format!("{LOG}/{}", mfa.id)).await;
    assert_eq!(status, 200);
    assert_eq!(&one, m);
    let (status, body) = get(&app, &format!("{LOG}/{}", Uuid::now_v7())).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (404, Some("notFound"))
    );
    assert_eq!(get(&app, &format!("{LOG}/not-an-id")).await.0, 404);
}
both_backends!(
    sign_ins_are_listed_newest_first_in_graphs_shape,
    super::sign_ins_are_listed_newest_first_in_graphs_shape
);

async fn sign_ins_filter_by_user_app_and_result_and_page_by_next_link(backend: Backend) {
    let app = spawn_app(backend).await;
    let (alice, bob) = (Uuid::now_v7(), Uuid::now_v7());
    let mut records = Vec::new();
    for (client, user, result) in [
        ("app-a", Some(alice), SignInResult::Success),
        ("app-b", Some(alice), SignInResult::Failed),
        ("app-a", Some(bob), SignInResult::Denied),
        ("app-a", Some(alice), SignInResult::Success),
        ("app-b", None, SignInResult::Failed),
    ] {
        records.push(sign_in_record(&app, client, user, result));
        app.clock.advance(Duration::seconds(1));
    }
    record_all(&app, &records).await;
    let r = &records;
    let list = |path: String| {
        let app = &app;
        async move {
            let (status, page) = get(app, &path).await;
            assert_eq!(status, 200, "{path}: {page}");
            ids(&page)
        }
    };

    let of_alice = format!("userId eq '{alice}'");
    assert_eq!(
        list(filtered(&of_alice)).await,
        ids_of(&[&r[3], &r[1], &r[0]])
    );
    assert_eq!(
        list(filtered("appId eq 'app-b'")).await,
        ids_of(&[&r[4], &r[1]])
    );
    assert_eq!(
        list(filtered("status/errorCode eq 0")).await,
        ids_of(&[&r[3], &r[0]])
    );
    assert_eq!(
        list(filtered("result eq 'failed'")).await,
        ids_of(&[&r[4], &r[1]])
    );
    assert_eq!(list(filtered("result eq 'denied'")).await, ids_of(&[&r[2]]));
    assert!(list(filtered("result eq 'aborted'")).await.is_empty());
    assert_eq!(
        list(filtered(&format!(
            "userId eq '{alice}' and appId eq 'app-a' and status/errorCode eq 0"
        )))
        .await,
        ids_of(&[&r[3], &r[0]])
    );

    // Pages of two, following @odata.nextLink until there is none.
    let mut next = Some(app.url(&format!("{LOG}?$top=2")));
    let mut seen = Vec::new();
    while let Some(link) = next.take() {
        let path = link.strip_prefix(&app.issuer).expect("link on this server");
        let (status, page) = get(&app, path).await;
        assert_eq!(status, 200, "{page}");
        seen.extend(ids(&page));
        next = page["@odata.nextLink"].as_str().map(str::to_string);
        assert!(seen.len() <= records.len(), "paging ends");
    }
    let newest_first: Vec<&SignInRecord> = records.iter().rev().collect();
    assert_eq!(seen, ids_of(&newest_first));

    // The link keeps the filter.
    let (_, page) = get(&app, &format!("{}&$top=2", filtered(&of_alice))).await;
    let link = page["@odata.nextLink"]
        .as_str()
        .expect("a full page has a next link");
    let path = link.strip_prefix(&app.issuer).unwrap();
    let (_, rest) = get(&app, path).await;
    assert_eq!(ids(&rest), ids_of(&[&r[0]]));
}
both_backends!(
    sign_ins_filter_by_user_app_and_result_and_page_by_next_link,
    super::sign_ins_filter_by_user_app_and_result_and_page_by_next_link
);

async fn the_sign_in_log_refuses_other_filters_and_callers_without_audit_log_read(
    backend: Backend,
) {
    let app = spawn_app(backend).await;
    let rec = sign_in_record(&app, "app-a", None, SignInResult::Success);
    app.record_sign_in(&rec).await;

    for (filter, says) in [
        ("status/errorCode ne 0", "result eq 'failed'"),
        ("status/errorCode eq 50126", "result eq 'failed'"),
        ("ipAddress eq '192.0.2.10'", "unknown property 'ipAddress'"),
        ("appId eq 'a' or appId eq 'b'", "joined by `and`"),
        ("userId eq 'alice'", "UUID"),
        ("result eq 'maybe'", "not a sign-in result"),
        ("appId ne 'a'", "only the `eq` operator"),
    ] {
        let (status, body) = get(&app, &filtered(filter)).await;
        assert_eq!(status, 400, "{filter}: {body}");
        assert_eq!(body["error"]["code"], "invalidRequest");
        let message = body["error"]["message"].as_str().unwrap();
        assert!(message.contains(says), "{filter}: {message}");
        assert!(message.contains("Supported: userId eq"), "{message}");
    }
    let long = filtered(&format!("appId eq '{}'", "a".repeat(2000)));
    assert_eq!(get(&app, &long).await.0, 400);
    assert_eq!(get(&app, &format!("{LOG}?$top=0")).await.0, 400);
    assert_eq!(get(&app, &format!("{LOG}?$skiptoken=x")).await.0, 400);

    let http = reqwest::Client::new();
    for path in [LOG.to_string(), format!("{LOG}/{}", rec.id)] {
        let r = http.get(app.url(&path)).send().await.unwrap();
        assert_eq!(r.status(), 401, "{path} without a token");
        assert!(r.headers().contains_key("www-authenticate"));

        let users_only = app.admin_token_for("User.ReadWrite.All").await;
        let r = http
            .get(app.url(&path))
            .bearer_auth(&users_only)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 403, "{path} without AuditLog.Read.All");
        let body: Value = r.json().await.unwrap();
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("AuditLog.Read.All")
        );

        let audit_only = app.admin_token_for("AuditLog.Read.All").await;
        let r = http
            .get(app.url(&path))
            .bearer_auth(&audit_only)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{path} with AuditLog.Read.All");
    }
}
both_backends!(
    the_sign_in_log_refuses_other_filters_and_callers_without_audit_log_read,
    super::the_sign_in_log_refuses_other_filters_and_callers_without_audit_log_read
);

async fn the_portal_lists_sign_ins_filters_by_result_and_pages_older(backend: Backend) {
    let app = spawn_app(backend).await;
    let alice = Uuid::now_v7();
    // 50 sign-ins, and the admin's own sign-in to the portal makes 51: one
    // more than a page. The oldest failed; the newest inserted one is named
    // with markup, which the page must show as text.
    let mut records = vec![sign_in_record(
        &app,
        "app-a",
        Some(alice),
        SignInResult::Failed,
    )];
    for _ in 0..48 {
        app.clock.advance(Duration::seconds(1));
        records.push(sign_in_record(
            &app,
            "app-a",
            Some(alice),
            SignInResult::Success,
        ));
    }
    app.clock.advance(Duration::seconds(1));
    let mut newest = sign_in_record(&app, "app-b", Some(alice), SignInResult::Denied);
    newest.user_display_name = Some("<b>Mallory</b>".into());
    newest.failure_reason = Some("account_disabled".into());
    newest.failure_message = Some("This account is disabled.".into());
    records.push(newest.clone());
    record_all(&app, &records).await;

    let b = app.portal_admin().await;
    let first = b.get("/admin/signins").await;
    assert_eq!(first.status, 200, "{}", first.body);
    assert!(
        first
            .body
            .contains(r#"href="/admin/signins" aria-current="page""#)
    );
    // askama writes `<` as `&#60;`.
    assert!(first.body.contains("&#60;b&#62;Mallory"), "escaped");
    assert!(!first.body.contains("<b>Mallory"));
    assert!(first.body.contains(&newest.correlation_id));
    assert!(first.body.contains("This account is disabled."));
    assert!(first.body.contains("account_disabled"));
    assert!(first.body.contains("192.0.2.10"));
    assert!(first.body.contains("App app-b"));
    assert!(first.body.contains("Password"));
    // The portal signed in through the pipeline, so that sign-in is logged too.
    assert!(
        first.body.contains("Portico admin portal"),
        "{}",
        first.body
    );
    let oldest = &records[0];
    assert!(
        !first.body.contains(&oldest.correlation_id),
        "not on page 1"
    );
    let older = format!("/admin/signins?before={}", records[1].id);
    assert!(
        first.body.contains(&older),
        "the Older link: {}",
        first.body
    );

    let second = b.get(&older).await;
    assert_eq!(second.status, 200);
    assert!(second.body.contains(&oldest.correlation_id));
    assert!(second.body.contains("The email or password is incorrect."));
    assert!(second.body.contains(r#"href="/admin/signins">Newest"#));
    assert!(!second.body.contains("rel=\"next\""), "last page");

    let failed = b.get("/admin/signins?result=failed").await;
    assert_eq!(failed.status, 200);
    assert!(failed.body.contains(&oldest.correlation_id));
    assert!(!failed.body.contains(&newest.correlation_id));
    assert!(failed.body.contains(r#"<option value="failed" selected>"#));
    let denied = b.get("/admin/signins?result=denied").await;
    assert!(denied.body.contains(&newest.correlation_id));
    assert!(!denied.body.contains(&oldest.correlation_id));

    let bad = b.get("/admin/signins?result=maybe").await;
    assert_eq!(bad.status, 400);
    assert!(bad.body.contains("The result must be"));

    let anonymous = portico_tests::Browser::new(&app.issuer);
    let hop = anonymous.get("/admin/signins").await;
    assert_eq!(hop.status, 303, "no session: to the portal sign-in");
}
both_backends!(
    the_portal_lists_sign_ins_filters_by_result_and_pages_older,
    super::the_portal_lists_sign_ins_filters_by_result_and_pages_older
);
