//! The federation tests' upstream IdP harness (kit/upstream.rs: npm
//! `oidc-provider` in Node) works on its own: a plain relying party, written
//! out here by hand, signs in through it with code + PKCE and gets the
//! account's claims in the ID token and from userinfo.

use crate::support::{jwt_claims, jwt_header, param, query_of};
use portico_tests::{
    Browser, NodeOidcProvider, UpstreamAccount, UpstreamClient, pkce_pair, sign_in_at_upstream,
};
use serde_json::Value;

const REDIRECT_URI: &str = "http://127.0.0.1:9/callback";

fn client() -> UpstreamClient {
    UpstreamClient {
        client_id: "portico".into(),
        client_secret: "upstream-secret-for-portico".into(),
        redirect_uris: vec![REDIRECT_URI.into()],
    }
}

fn bob() -> UpstreamAccount {
    UpstreamAccount {
        sub: "bob-at-fabrikam".into(),
        email: "bob@fabrikam.example".into(),
        email_verified: true,
        name: "Bob Fabrikam".into(),
        ..Default::default()
    }
}

fn authorize_url(meta: &Value, challenge: &str, state: &str, nonce: &str) -> String {
    let c = client();
    format!(
        "{}?{}",
        meta["authorization_endpoint"].as_str().unwrap(),
        serde_urlencoded::to_string([
            ("response_type", "code"),
            ("client_id", &c.client_id),
            ("redirect_uri", REDIRECT_URI),
            ("scope", "openid email profile"),
            ("state", state),
            ("nonce", nonce),
            ("code_challenge", challenge),
            ("code_challenge_method", "S256"),
        ])
        .unwrap()
    )
}

/// Signs in at the upstream, checks the callback, returns its code.
async fn code_from(browser: &Browser, meta: &Value, challenge: &str, state: &str) -> String {
    let url = authorize_url(meta, challenge, state, &format!("nonce-{state}"));
    let callback = sign_in_at_upstream(browser, &url, &bob().sub).await;
    assert!(
        callback.starts_with(&format!("{REDIRECT_URI}?")),
        "back at the redirect_uri: {callback}"
    );
    let q = query_of(&callback);
    assert_eq!(param(&q, "state").as_deref(), Some(state), "{callback}");
    assert_eq!(param(&q, "error"), None, "{callback}");
    param(&q, "code").unwrap_or_else(|| panic!("no code in {callback}"))
}

#[tokio::test]
async fn node_oidc_provider_signs_in_with_code_pkce_and_returns_the_account_claims() {
    let upstream = NodeOidcProvider::start(&[client()], &[bob()]);
    assert!(upstream.issuer.starts_with("http://127.0.0.1:"));
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let meta: Value = http
        .get(upstream.url("/.well-known/openid-configuration"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(meta["issuer"], upstream.issuer.as_str());
    assert_eq!(
        meta["code_challenge_methods_supported"],
        serde_json::json!(["S256"])
    );
    let token_endpoint = meta["token_endpoint"].as_str().unwrap().to_string();

    // Without PKCE the upstream refuses (to the redirect_uri, before any page).
    let no_pkce = format!(
        "{}?{}",
        meta["authorization_endpoint"].as_str().unwrap(),
        serde_urlencoded::to_string([
            ("response_type", "code"),
            ("client_id", client().client_id.as_str()),
            ("redirect_uri", REDIRECT_URI),
            ("scope", "openid"),
            ("state", "s0"),
        ])
        .unwrap()
    );
    let refused = http.get(&no_pkce).send().await.unwrap();
    let location = refused.headers()["location"].to_str().unwrap().to_string();
    assert_eq!(
        param(&query_of(&location), "error").as_deref(),
        Some("invalid_request"),
        "{location}"
    );

    // Sign-in and consent pages, then the code, exchanged with client_secret_basic.
    let browser = Browser::new(&upstream.issuer);
    let (verifier, challenge) = pkce_pair();
    let code = code_from(&browser, &meta, &challenge, "s1").await;
    let resp = redeem(&http, &token_endpoint, Auth::Basic, &code, &verifier).await;
    assert_eq!(resp.status(), 200);
    let tokens: Value = resp.json().await.unwrap();
    let id_token = tokens["id_token"].as_str().expect("an ID token");
    assert_eq!(jwt_header(id_token)["alg"], "RS256");
    let claims = jwt_claims(id_token);
    assert_eq!(claims["iss"], upstream.issuer.as_str());
    assert_eq!(claims["aud"], client().client_id.as_str());
    assert_eq!(claims["sub"], "bob-at-fabrikam");
    assert_eq!(claims["email"], "bob@fabrikam.example");
    assert_eq!(claims["email_verified"], true);
    assert_eq!(claims["name"], "Bob Fabrikam");
    assert_eq!(claims["nonce"], "nonce-s1");

    // The signing key is in the JWKS.
    let jwks: Value = http
        .get(meta["jwks_uri"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let kid = jwt_header(id_token)["kid"].clone();
    assert!(
        jwks["keys"]
            .as_array()
            .unwrap()
            .iter()
            .any(|k| k["kid"] == kid && k["kty"] == "RSA"),
        "{kid} in {jwks}"
    );

    // Userinfo has the same claims.
    let info: Value = http
        .get(meta["userinfo_endpoint"].as_str().unwrap())
        .bearer_auth(tokens["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(info["sub"], "bob-at-fabrikam");
    assert_eq!(info["email"], "bob@fabrikam.example");
    assert_eq!(info["email_verified"], true);
    assert_eq!(info["name"], "Bob Fabrikam");

    // Another sign-in rides the upstream session (no pages); the wrong
    // verifier is refused.
    let (_, challenge) = pkce_pair();
    let code = code_from(&browser, &meta, &challenge, "s2").await;
    let (wrong, _) = pkce_pair();
    let resp = redeem(&http, &token_endpoint, Auth::Post, &code, &wrong).await;
    assert_eq!(resp.status(), 400);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["error"], "invalid_grant", "{body}");

    // client_secret_post works as well.
    let (verifier, challenge) = pkce_pair();
    let code = code_from(&browser, &meta, &challenge, "s3").await;
    let resp = redeem(&http, &token_endpoint, Auth::Post, &code, &verifier).await;
    assert_eq!(resp.status(), 200);
    let tokens: Value = resp.json().await.unwrap();
    let claims = jwt_claims(tokens["id_token"].as_str().unwrap());
    assert_eq!(claims["sub"], "bob-at-fabrikam");
    assert_eq!(claims["nonce"], "nonce-s3");
}

enum Auth {
    Basic,
    Post,
}

async fn redeem(
    http: &reqwest::Client,
    token_endpoint: &str,
    auth: Auth,
    code: &str,
    verifier: &str,
) -> reqwest::Response {
    let c = client();
    let mut form = vec![
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", REDIRECT_URI),
        ("code_verifier", verifier),
    ];
    let mut req = http.post(token_endpoint);
    match auth {
        Auth::Basic => req = req.basic_auth(&c.client_id, Some(&c.client_secret)),
        Auth::Post => {
            form.push(("client_id", c.client_id.as_str()));
            form.push(("client_secret", c.client_secret.as_str()));
        }
    }
    req.form(&form).send().await.unwrap()
}
