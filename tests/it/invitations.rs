//! The invitations API (Graph's shape), the invitation email through a real
//! SMTP server, resend/revoke/expiry of links, and delivery when the SMTP
//! server was down.

use crate::redeem_steps::WAIT;
use crate::support::link_status;
use portico_tests::{Backend, both_backends, spawn_app, spawn_app_with_mail};
use serde_json::{Value, json};

fn invitation(email: &str, send: bool) -> Value {
    json!({
        "invitedUserEmailAddress": email,
        "inviteRedirectUrl": "https://trials.contoso.example/welcome",
        "sendInvitationMessage": send,
    })
}

async fn api_invitation_creates_a_pending_guest_and_emails_it(backend: Backend) {
    let app = spawn_app_with_mail(backend).await;
    let (status, inv) = app
        .invite(json!({
            "invitedUserEmailAddress": "Alice@Fabrikam.example",
            "inviteRedirectUrl": "https://trials.contoso.example/welcome",
            "invitedUserDisplayName": "Alice <script>alert(1)</script>",
            "sendInvitationMessage": true,
            "invitedUserMessageInfo": {
                "customizedMessageBody": "Welcome, \"partner\" <b>bold</b> & more\nLine two",
                "ccRecipients": [{"emailAddress": {"address": "sponsor@contoso.example"}}]
            }
        }))
        .await;
    assert_eq!(status, 201, "{inv}");
    assert_eq!(inv["status"], "PendingAcceptance");
    assert_eq!(inv["invitedUserEmailAddress"], "alice@fabrikam.example");
    let redeem = inv["inviteRedeemUrl"].as_str().unwrap().to_string();
    assert!(redeem.starts_with(&app.url("/redeem?")), "{redeem}");
    let uid = inv["invitedUser"]["id"].as_str().unwrap();

    let (s, user) = app.api("GET", &format!("/api/v1/users/{uid}"), None).await;
    assert_eq!(s, 200);
    assert_eq!(user["userType"], "Guest");
    assert_eq!(user["externalUserState"], "PendingAcceptance");
    assert_eq!(user["sponsors"][0]["displayName"], "Portico management");
    assert!(user["externalUserStateChangeDateTime"].is_string());

    let smtp = app.smtp.as_ref().unwrap();
    let mail = smtp
        .wait_for(|m| m.to == ["alice@fabrikam.example"], WAIT)
        .await;
    assert_eq!(mail.cc, ["sponsor@contoso.example"]);
    assert!(mail.subject.contains("Contoso"), "{}", mail.subject);
    assert!(
        mail.subject.contains("Portico management"),
        "{}",
        mail.subject
    );
    // The custom message arrives as escaped text in HTML, verbatim in text.
    // (askama writes numeric entities; read them as the named ones.)
    let html = mail
        .html
        .replace("&#60;", "&lt;")
        .replace("&#62;", "&gt;")
        .replace("&#38;", "&amp;");
    assert!(
        mail.text
            .contains("Welcome, \"partner\" <b>bold</b> & more"),
        "{}",
        mail.text
    );
    assert!(!html.contains("<b>bold</b>"), "{html}");
    assert!(html.contains("&lt;b&gt;bold&lt;/b&gt;"), "{html}");
    assert!(!html.contains("<script>"), "{html}");
    // The redeem button and the block link.
    assert!(mail.text.contains(&redeem), "{}", mail.text);
    assert!(html.contains(&redeem.replace('&', "&amp;")), "{html}");
    assert!(mail.text.contains("/invitations/block?"), "{}", mail.text);
    assert_eq!(link_status(&redeem).await, 200);
}
both_backends!(
    api_invitation_creates_a_pending_guest_and_emails_it,
    super::api_invitation_creates_a_pending_guest_and_emails_it
);

async fn inviting_an_existing_guest_returns_it_without_a_second_email(backend: Backend) {
    let app = spawn_app_with_mail(backend).await;
    let (s1, first) = app.invite(invitation("bob@gmail.example", true)).await;
    let (s2, second) = app.invite(invitation("BOB@gmail.example", true)).await;
    assert_eq!((s1, s2), (201, 200));
    assert_eq!(first["id"], second["id"]);
    assert_eq!(first["invitedUser"]["id"], second["invitedUser"]["id"]);
    assert_eq!(first["inviteRedeemUrl"], second["inviteRedeemUrl"]);
    app.deliver_mail().await;
    let smtp = app.smtp.as_ref().unwrap();
    smtp.wait_for(|m| m.to == ["bob@gmail.example"], WAIT).await;
    app.settle_mail().await;
    assert_eq!(app.deliver_mail().await, 0);
    assert_eq!(smtp.messages().len(), 1, "one guest, one email");
    let (_, list) = app
        .api(
            "GET",
            "/api/v1/users?$filter=mail eq 'bob@gmail.example'",
            None,
        )
        .await;
    assert_eq!(list["value"].as_array().unwrap().len(), 1);
}
both_backends!(
    inviting_an_existing_guest_returns_it_without_a_second_email,
    super::inviting_an_existing_guest_returns_it_without_a_second_email
);

async fn resend_rotates_the_link_and_revoke_kills_it(backend: Backend) {
    let app = spawn_app_with_mail(backend).await;
    let (_, inv) = app.invite(invitation("carol@fabrikam.example", true)).await;
    let id = inv["id"].as_str().unwrap();
    let old = inv["inviteRedeemUrl"].as_str().unwrap().to_string();
    assert_eq!(link_status(&old).await, 200);

    let (s, resent) = app
        .api("POST", &format!("/api/v1/invitations/{id}/resend"), None)
        .await;
    assert_eq!(s, 200, "{resent}");
    let new = resent["inviteRedeemUrl"].as_str().unwrap().to_string();
    assert_ne!(new, old);
    assert_eq!(link_status(&old).await, 404, "the old link must die");
    assert_eq!(link_status(&new).await, 200);
    let smtp = app.smtp.as_ref().unwrap();
    smtp.wait_for(|m| m.text.contains(&new), WAIT).await;

    let (s, revoked) = app
        .api("POST", &format!("/api/v1/invitations/{id}/revoke"), None)
        .await;
    assert_eq!((s, revoked["status"].as_str()), (200, Some("Revoked")));
    assert_eq!(link_status(&new).await, 404);
    let (s, again) = app
        .api("POST", &format!("/api/v1/invitations/{id}/resend"), None)
        .await;
    assert_eq!(s, 409, "{again}");
    let (_, list) = app
        .api(
            "GET",
            "/api/v1/invitations?$filter=status eq 'Revoked'",
            None,
        )
        .await;
    let ids: Vec<&str> = list["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [id]);
}
both_backends!(
    resend_rotates_the_link_and_revoke_kills_it,
    super::resend_rotates_the_link_and_revoke_kills_it
);

async fn invitations_expire_after_thirty_days_and_resend_renews_them(backend: Backend) {
    let app = spawn_app(backend).await;
    let (_, inv) = app.invite(invitation("dave@fabrikam.example", false)).await;
    let id = inv["id"].as_str().unwrap();
    let url = inv["inviteRedeemUrl"].as_str().unwrap().to_string();
    app.clock.advance(chrono::Duration::days(29));
    assert_eq!(link_status(&url).await, 200);
    app.clock.advance(chrono::Duration::days(2));
    assert_eq!(link_status(&url).await, 410);
    let (_, got) = app
        .api("GET", &format!("/api/v1/invitations/{id}"), None)
        .await;
    assert_eq!(got["status"], "Expired");
    let (_, expired) = app
        .api(
            "GET",
            "/api/v1/invitations?$filter=status eq 'Expired'",
            None,
        )
        .await;
    assert_eq!(expired["value"].as_array().unwrap().len(), 1);
    // An expired invitation can be resent: new link, new 30 days.
    let (s, resent) = app
        .api("POST", &format!("/api/v1/invitations/{id}/resend"), None)
        .await;
    assert_eq!(s, 200);
    assert_eq!(resent["status"], "PendingAcceptance");
    let fresh = resent["inviteRedeemUrl"].as_str().unwrap();
    assert_eq!(link_status(fresh).await, 200);
}
both_backends!(
    invitations_expire_after_thirty_days_and_resend_renews_them,
    super::invitations_expire_after_thirty_days_and_resend_renews_them
);

async fn bad_invitations_get_clear_errors(backend: Backend) {
    let app = spawn_app(backend).await;
    let cases = [
        (
            json!({"inviteRedirectUrl": "https://a.example"}),
            400,
            "invitedUserEmailAddress",
        ),
        (
            json!({"invitedUserEmailAddress": "x@y.example"}),
            400,
            "inviteRedirectUrl",
        ),
        (
            json!({"invitedUserEmailAddress": "not-an-email", "inviteRedirectUrl": "https://a.example"}),
            400,
            "valid email",
        ),
        (
            json!({"invitedUserEmailAddress": "x@y.example", "inviteRedirectUrl": "javascript:alert(1)"}),
            400,
            "inviteRedirectUrl",
        ),
        (
            json!({"invitedUserEmailAddress": "x@y.example", "inviteRedirectUrl": "https://a.example", "bogus": 1}),
            400,
            "bogus",
        ),
        (
            json!({"invitedUserEmailAddress": "admin@contoso.example", "inviteRedirectUrl": "https://trials.contoso.example/"}),
            409,
            "member",
        ),
    ];
    for (body, status, needle) in cases {
        let (s, v) = app.invite(body.clone()).await;
        assert_eq!(s, status, "{body} → {v}");
        let msg = v["error"]["message"].as_str().unwrap_or_default();
        assert!(msg.contains(needle), "{body} → {msg}");
    }
    let (s, v) = app
        .api("GET", "/api/v1/invitations?$filter=status eq 'Lost'", None)
        .await;
    assert_eq!(s, 400, "{v}");
    let (s, _) = app
        .api("POST", "/api/v1/invitations/not-a-uuid/resend", None)
        .await;
    assert_eq!(s, 404);
}
both_backends!(
    bad_invitations_get_clear_errors,
    super::bad_invitations_get_clear_errors
);

async fn users_are_listed_with_filters_and_paging(backend: Backend) {
    let app = spawn_app(backend).await;
    for i in 0..5 {
        let (s, _) = app
            .invite(invitation(&format!("guest{i}@fabrikam.example"), false))
            .await;
        assert_eq!(s, 201);
    }
    let mut seen = Vec::new();
    let mut path = "/api/v1/users?$filter=userType eq 'Guest'&$top=2".to_string();
    loop {
        let (s, page) = app.api("GET", &path, None).await;
        assert_eq!(s, 200, "{page}");
        for u in page["value"].as_array().unwrap() {
            assert_eq!(u["userType"], "Guest");
            seen.push(u["mail"].as_str().unwrap().to_string());
        }
        match page["@odata.nextLink"].as_str() {
            Some(next) => path = next.strip_prefix(&app.issuer).unwrap().to_string(),
            None => break,
        }
    }
    let mut want: Vec<String> = (0..5)
        .map(|i| format!("guest{i}@fabrikam.example"))
        .collect();
    want.sort();
    seen.sort();
    assert_eq!(seen, want, "every guest once, no member");
    let (_, members) = app
        .api("GET", "/api/v1/users?$filter=userType eq 'Member'", None)
        .await;
    assert_eq!(members["value"].as_array().unwrap().len(), 1, "the admin");
    let (_, one) = app
        .api(
            "GET",
            "/api/v1/users?$filter=mail eq 'GUEST3@fabrikam.example'",
            None,
        )
        .await;
    assert_eq!(one["value"][0]["mail"], "guest3@fabrikam.example");
    for bad in [
        "$filter=city eq 'Oslo'",
        "$filter=userType eq 'Robot'",
        "$top=0",
        "$skiptoken=zzz",
    ] {
        let (s, v) = app.api("GET", &format!("/api/v1/users?{bad}"), None).await;
        assert_eq!(s, 400, "{bad} → {v}");
    }
}
both_backends!(
    users_are_listed_with_filters_and_paging,
    super::users_are_listed_with_filters_and_paging
);

async fn smtp_outage_loses_nothing_and_delivers_each_message_once(backend: Backend) {
    let mut app = spawn_app_with_mail(backend).await;
    app.smtp.as_mut().unwrap().stop();
    for i in 0..3 {
        let (s, _) = app
            .invite(invitation(&format!("o{i}@fabrikam.example"), true))
            .await;
        assert_eq!(s, 201);
    }
    // An attempt fails (here or in the background worker) and keeps them queued.
    app.deliver_mail().await;
    assert_eq!(
        app.pending_mail().await,
        3,
        "nothing is sent, and nothing lost, while SMTP is down"
    );
    app.smtp.as_mut().unwrap().restart();
    // Retries are scheduled with backoff; once due, each goes out once.
    app.clock.advance(chrono::Duration::minutes(5));
    app.deliver_mail().await;
    let smtp = app.smtp.as_ref().unwrap();
    for i in 0..3 {
        let to = format!("o{i}@fabrikam.example");
        smtp.wait_for(|m| m.to == [to.clone()], WAIT).await;
    }
    app.settle_mail().await;
    app.clock.advance(chrono::Duration::hours(2));
    assert_eq!(app.deliver_mail().await, 0);
    app.settle_mail().await;
    let messages = smtp.messages();
    assert_eq!(messages.len(), 3, "exactly one delivery per invitation");
}
both_backends!(
    smtp_outage_loses_nothing_and_delivers_each_message_once,
    super::smtp_outage_loses_nothing_and_delivers_each_message_once
);

async fn directory_changes_are_audited_with_before_and_after(backend: Backend) {
    let app = spawn_app(backend).await;
    let (_, inv) = app.invite(invitation("erin@fabrikam.example", false)).await;
    let uid = inv["invitedUser"]["id"].as_str().unwrap();
    let (s, _) = app
        .api(
            "PATCH",
            &format!("/api/v1/users/{uid}"),
            Some(json!({"displayName": "Erin F."})),
        )
        .await;
    assert_eq!(s, 200);
    let (s, log) = app
        .api(
            "GET",
            &format!("/api/v1/auditLogs/directoryAudits?$filter=targetId eq '{uid}'"),
            None,
        )
        .await;
    assert_eq!(s, 200, "{log}");
    let entries = log["value"].as_array().unwrap();
    let names: Vec<&str> = entries
        .iter()
        .map(|e| e["activityDisplayName"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Update user", "Add user"], "newest first");
    let update = &entries[0];
    assert_eq!(
        update["initiatedBy"]["app"]["displayName"],
        "Portico management"
    );
    let props = update["targetResources"][0]["modifiedProperties"]
        .as_array()
        .unwrap();
    assert_eq!(props.len(), 1, "{props:?}");
    assert_eq!(props[0]["displayName"], "displayName");
    assert_eq!(props[0]["oldValue"], "\"erin\"");
    assert_eq!(props[0]["newValue"], "\"Erin F.\"");
    let (_, invites) = app
        .api(
            "GET",
            "/api/v1/auditLogs/directoryAudits?$filter=activityDisplayName eq 'Invite external user'",
            None,
        )
        .await;
    assert_eq!(invites["value"].as_array().unwrap().len(), 1);
}
both_backends!(
    directory_changes_are_audited_with_before_and_after,
    super::directory_changes_are_audited_with_before_and_after
);
