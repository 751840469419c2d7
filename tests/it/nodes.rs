//! Several nodes on one database, as behind a load balancer without sticky
//! sessions (issue 14): the same issuer and settings, each node with its own
//! memory. A sign-in whose every request goes to the other node succeeds; a
//! code raced on both is redeemed once; revocation and disabling seen by
//! one node hold on the other; a key rotated on one node is in the other's
//! JWKS before any node signs with it; each email goes out once.

use crate::support::{
    ALICE, ALICE_PW, authorize_url, jwks_kids, jwt_header, param, query_of, token_at,
};
use portico_tests::{
    Backend, Browser, Hop, TestApp, TestClient, both_backends, find_hidden, form_action, pkce_pair,
    spawn_app, spawn_app_with_mail,
};
use serde_json::{Value, json};

/// `loc` (relative, or on the shared issuer) as an address on `base`.
fn on(base: &str, issuer: &str, loc: &str) -> String {
    let path = loc.strip_prefix(issuer).unwrap_or(loc);
    format!("{base}{path}")
}

/// Sign-in and consent in `b`, each request sent to the other node than the
/// one before; returns the code, its verifier, and how many requests each
/// node answered.
async fn alternating_sign_in(
    app: &TestApp,
    nodes: [&str; 2],
    client: &TestClient,
    b: &Browser,
) -> (String, String, [usize; 2]) {
    let (verifier, challenge) = pkce_pair();
    let mut served = [0usize; 2];
    let mut turn = 0;
    let first = authorize_url(app, client, &challenge, &[]);
    let mut hop: Hop = b.get(&on(nodes[turn], &app.issuer, &first)).await;
    served[turn] += 1;
    for _ in 0..20 {
        turn = 1 - turn;
        let base = nodes[turn];
        if let Some(loc) = hop.location.clone().filter(|_| hop.status.is_redirection()) {
            if loc.starts_with(&client.redirect_uri) {
                let code = param(&query_of(&loc), "code").expect("a code");
                return (code, verifier, served);
            }
            hop = b.get(&on(base, &app.issuer, &loc)).await;
        } else {
            assert_eq!(hop.status, 200, "{}", hop.body);
            let action = on(base, &app.issuer, &form_action(&hop.body));
            let csrf = find_hidden(&hop.body, "csrf").expect("csrf");
            hop = if hop.body.contains("name=\"password\"") {
                let form = [
                    ("csrf", csrf.as_str()),
                    ("email", ALICE),
                    ("password", ALICE_PW),
                ];
                b.post_form(&action, &form).await
            } else {
                assert!(hop.body.contains("name=\"decision\""), "{}", hop.body);
                b.post_form(&action, &[("csrf", &csrf), ("decision", "accept")])
                    .await
            };
        }
        served[turn] += 1;
    }
    panic!("the sign-in never came back to the app");
}

async fn userinfo_at(base: &str, token: &str) -> u16 {
    reqwest::Client::new()
        .get(format!("{base}/userinfo"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

async fn a_sign_in_alternating_nodes_succeeds_and_its_tokens_work_on_both(backend: Backend) {
    let app = spawn_app(backend).await;
    app.alice().await;
    let client = app.web_app().await;
    let peer = app.peer_node().await;
    let nodes = [app.url(""), peer.issuer.clone()];
    let b = Browser::new(&app.issuer);
    let (code, verifier, served) =
        alternating_sign_in(&app, [&nodes[0], &nodes[1]], &client, &b).await;
    assert!(
        served[0] >= 2 && served[1] >= 2,
        "both nodes served: {served:?}"
    );

    let (status, tokens) = token_at(
        &nodes[1],
        &client,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", &client.redirect_uri),
            ("code_verifier", &verifier),
        ],
    )
    .await;
    assert_eq!(status, 200, "{tokens}");
    let access = tokens["access_token"].as_str().unwrap();
    assert_eq!(userinfo_at(&nodes[0], access).await, 200);
    // Refresh with rotation, each turn on the other node.
    let mut refresh = tokens["refresh_token"].as_str().unwrap().to_string();
    for base in [&nodes[0], &nodes[1], &nodes[0]] {
        let (status, t) = token_at(
            base,
            &client,
            &[("grant_type", "refresh_token"), ("refresh_token", &refresh)],
        )
        .await;
        assert_eq!(status, 200, "{t}");
        refresh = t["refresh_token"].as_str().unwrap().to_string();
    }
}
both_backends!(
    a_sign_in_alternating_nodes_succeeds_and_its_tokens_work_on_both,
    super::a_sign_in_alternating_nodes_succeeds_and_its_tokens_work_on_both
);

async fn a_code_raced_on_both_nodes_is_redeemed_once(backend: Backend) {
    let app = spawn_app(backend).await;
    app.alice().await;
    let client = app.web_app().await;
    let peer = app.peer_node().await;
    let nodes = [app.url(""), peer.issuer.clone()];
    let b = Browser::new(&app.issuer);
    let (code, verifier, _) = alternating_sign_in(&app, [&nodes[0], &nodes[1]], &client, &b).await;
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", client.redirect_uri.as_str()),
        ("code_verifier", verifier.as_str()),
    ];
    let (a, b) = tokio::join!(
        token_at(&nodes[0], &client, &form),
        token_at(&nodes[1], &client, &form)
    );
    // One request redeems the code, the other is its replay, which is refused
    // and revokes the grant (RFC 6749 §4.1.2). When that revocation lands
    // before the first request's grant check, the first is refused too
    // ("revoked"): never are two redeemed.
    let mut statuses = [a.0, b.0];
    statuses.sort_unstable();
    assert!(
        statuses == [200, 400] || statuses == [400, 400],
        "{a:?} {b:?}"
    );
    let refused: Vec<&serde_json::Value> = [&a, &b]
        .into_iter()
        .filter(|r| r.0 == 400)
        .map(|r| &r.1)
        .collect();
    assert!(
        refused.iter().all(|e| e["error"] == "invalid_grant"),
        "{refused:?}"
    );
    let replays = refused
        .iter()
        .filter(|e| e["error_description"] == "The authorization code was already used.")
        .count();
    assert_eq!(replays, 1, "exactly one request is the replay: {a:?} {b:?}");
    if statuses == [400, 400] {
        assert!(
            refused
                .iter()
                .any(|e| e["error_description"] == "The authorization was revoked."),
            "{refused:?}"
        );
    }
}
both_backends!(
    a_code_raced_on_both_nodes_is_redeemed_once,
    super::a_code_raced_on_both_nodes_is_redeemed_once
);

/// Tokens for Alice from a sign-in alternating `nodes`, redeemed at the first.
async fn tokens_across(app: &TestApp, nodes: [&str; 2], client: &TestClient) -> Value {
    let b = Browser::new(&app.issuer);
    let (code, verifier, _) = alternating_sign_in(app, nodes, client, &b).await;
    let (status, tokens) = token_at(
        nodes[0],
        client,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", &client.redirect_uri),
            ("code_verifier", &verifier),
        ],
    )
    .await;
    assert_eq!(status, 200, "{tokens}");
    tokens
}

async fn revoking_or_disabling_on_one_node_holds_on_the_other(backend: Backend) {
    let app = spawn_app(backend).await;
    let alice = app.alice().await;
    let client = app.web_app().await;
    let peer = app.peer_node().await;
    let nodes = [app.url(""), peer.issuer.clone()];
    let tokens = tokens_across(&app, [&nodes[0], &nodes[1]], &client).await;
    let refresh = tokens["refresh_token"].as_str().unwrap();
    let access = tokens["access_token"].as_str().unwrap();
    assert_eq!(userinfo_at(&nodes[1], access).await, 200);

    // Revoking the refresh token at one node ends the grant at the other.
    let revoked = reqwest::Client::new()
        .post(format!("{}/revoke", nodes[0]))
        .basic_auth(&client.client_id, client.secret.as_ref())
        .form(&[("token", refresh), ("token_type_hint", "refresh_token")])
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status(), 200);
    let (status, body) = token_at(
        &nodes[1],
        &client,
        &[("grant_type", "refresh_token"), ("refresh_token", refresh)],
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    assert_eq!(userinfo_at(&nodes[1], access).await, 401);

    // Disabling the user (an admin at one node) stops her tokens at the other.
    let tokens = tokens_across(&app, [&nodes[1], &nodes[0]], &client).await;
    let access = tokens["access_token"].as_str().unwrap();
    assert_eq!(userinfo_at(&nodes[0], access).await, 200);
    let (status, body) = app
        .api(
            "PATCH",
            &format!("/api/v1/users/{alice}"),
            Some(json!({"accountEnabled": false})),
        )
        .await;
    assert!(status < 300, "{status} {body}");
    assert_eq!(userinfo_at(&nodes[1], access).await, 401);
}
both_backends!(
    revoking_or_disabling_on_one_node_holds_on_the_other,
    super::revoking_or_disabling_on_one_node_holds_on_the_other
);

async fn client_credentials_kid(base: &str, app: &TestApp) -> String {
    let resp = reqwest::Client::new()
        .post(format!("{base}/token"))
        .basic_auth(&app.mgmt_client_id, Some(&app.mgmt_client_secret))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    let v: Value = resp.json().await.unwrap();
    let token = v["access_token"].as_str().expect("access token");
    jwt_header(token)["kid"].as_str().unwrap().to_string()
}

async fn a_key_rotated_on_one_node_is_published_by_the_other_before_it_signs(backend: Backend) {
    let app = spawn_app(backend).await;
    let peer = app.peer_node().await;
    let nodes = [app.url(""), peer.issuer.clone()];
    // Both nodes have loaded (and cached) the first key.
    let old = client_credentials_kid(&nodes[1], &app).await;
    assert_eq!(client_credentials_kid(&nodes[0], &app).await, old);

    let (status, rotated) = app.api("POST", "/api/v1/signingKeys/rotate", None).await;
    assert!(status < 300, "{status} {rotated}");
    let new = rotated["kid"].as_str().expect("kid").to_string();
    // Until the publication delay has passed, every node signs with the old key.
    for base in &nodes {
        assert_eq!(client_credentials_kid(base, &app).await, old);
    }
    let delay = app.server.app.settings.key_publication_delay_secs;
    app.clock.advance(chrono::Duration::seconds(delay + 1));
    for signer in &nodes {
        let kid = client_credentials_kid(signer, &app).await;
        assert_eq!(kid, new, "the new key signs once published long enough");
        for publisher in &nodes {
            let kids = jwks_kids(publisher).await;
            assert!(
                kids.contains(&kid),
                "{publisher} publishes {kids:?}, lacks {kid}"
            );
        }
    }
}
both_backends!(
    a_key_rotated_on_one_node_is_published_by_the_other_before_it_signs,
    super::a_key_rotated_on_one_node_is_published_by_the_other_before_it_signs
);

async fn each_email_goes_out_once_with_two_nodes_sending(backend: Backend) {
    let app = spawn_app_with_mail(backend).await;
    let _peer = app.peer_node().await;
    let guests: Vec<String> = (0..6).map(|i| format!("g{i}@fabrikam.example")).collect();
    for g in &guests {
        let (status, body) = app
            .invite(json!({
                "invitedUserEmailAddress": g,
                "inviteRedirectUrl": "https://trials.contoso.example/",
                "sendInvitationMessage": true,
            }))
            .await;
        assert_eq!(status, 201, "{body}");
    }
    let smtp = app.smtp.as_ref().expect("smtp");
    for _ in 0..200 {
        if app.pending_mail().await == 0 && smtp.messages().len() >= guests.len() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(app.pending_mail().await, 0, "both nodes' workers send");
    let messages = smtp.messages();
    for g in &guests {
        let n = messages.iter().filter(|m| m.to.contains(g)).count();
        assert_eq!(n, 1, "{g} got {n} messages");
    }
}
both_backends!(
    each_email_goes_out_once_with_two_nodes_sending,
    super::each_email_goes_out_once_with_two_nodes_sending
);
