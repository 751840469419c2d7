//! Discovery, JWKS and key rotation with overlap.

use crate::support::*;
use portico_tests::{Backend, spawn_app};
use serde_json::Value;

async fn signing_kid(app: &portico_tests::TestApp) -> String {
    let client = app
        .register(
            portico_oidc::model::ClientType::Confidential,
            portico_oidc::model::AuthMethod::ClientSecretBasic,
            &["client_credentials"],
        )
        .await;
    let t = json(token_request(app, &client, &[("grant_type", "client_credentials")]).await).await;
    jwt_header(t["access_token"].as_str().unwrap())["kid"]
        .as_str()
        .unwrap()
        .to_string()
}

/// Rotates the keys through the admin API; the new RS256 key's `kid`.
async fn rotate(app: &portico_tests::TestApp) -> String {
    let (status, rotated) = app.api("POST", "/api/v1/signingKeys/rotate", None).await;
    assert_eq!(status, 201, "{rotated}");
    rotated["kid"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn discovery_describes_the_provider() {
    let app = spawn_app(Backend::Sqlite).await;
    let d = get_json(&app.url("/.well-known/openid-configuration")).await;
    assert_eq!(d["issuer"], app.issuer);
    assert_eq!(d["token_endpoint"], app.url("/token"));
    assert_eq!(
        d["code_challenge_methods_supported"],
        serde_json::json!(["S256"])
    );
    assert_eq!(d["authorization_response_iss_parameter_supported"], true);
    let jwks: Value = reqwest::get(d["jwks_uri"].as_str().unwrap())
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let k = &jwks["keys"][0];
    assert_eq!(k["kty"], "RSA");
    assert_eq!(k["alg"], "RS256");
    assert!(k.get("d").is_none(), "never publish the private part");
}

#[tokio::test]
async fn a_rotated_key_is_published_at_once_signs_after_the_delay_and_the_old_one_stays_until_its_tokens_expire()
 {
    let app = spawn_app(Backend::Sqlite).await;
    let old = signing_kid(&app).await;
    let new = rotate(&app).await;
    let kids = jwks_kids(&app.url("")).await;
    assert!(
        kids.contains(&old) && kids.contains(&new),
        "both published at once"
    );
    assert_eq!(
        signing_kid(&app).await,
        old,
        "the new key waits for the publication delay"
    );
    app.clock.advance(chrono::Duration::seconds(301));
    assert_eq!(signing_kid(&app).await, new);
    assert!(
        jwks_kids(&app.url("")).await.contains(&old),
        "old tokens still verify"
    );
    // Tokens live an hour: after that the old key leaves the JWKS.
    app.clock.advance(chrono::Duration::minutes(61));
    let kids = jwks_kids(&app.url("")).await;
    assert!(!kids.contains(&old) && kids.contains(&new), "{kids:?}");
}

/// A token whose signature was checked once is not checked again
/// (oidc verified.rs), but every use still needs its key published and the
/// `typ` asked for: a token of a removed key is refused even when it was
/// checked before.
#[tokio::test]
async fn a_checked_token_is_refused_once_its_key_is_removed() {
    let app = spawn_app(Backend::Sqlite).await;
    let provider = &app.server.app.provider;
    let token = app.admin_token().await;
    let at = Some(portico_oidc::tokens::ACCESS_TOKEN_TYP);
    // Checked (and remembered), then checked again from memory.
    for _ in 0..2 {
        let claims = provider.verify_own_jwt(&token, at, true).await.unwrap();
        assert_eq!(claims["iss"], app.issuer.as_str());
    }
    assert!(
        provider
            .verify_own_jwt(&token, Some("logout+jwt"), true)
            .await
            .is_err(),
        "the typ is checked on every use"
    );
    let old = jwt_header(&token)["kid"].as_str().unwrap().to_string();
    rotate(&app).await;
    app.clock.advance(chrono::Duration::seconds(301));
    app.clock.advance(chrono::Duration::minutes(61));
    assert!(!jwks_kids(&app.url("")).await.contains(&old));
    // Expired too, but allowed here: the key alone refuses it.
    let refused = provider.verify_own_jwt(&token, at, true).await;
    assert!(refused.is_err(), "{refused:?}");
}
