//! Protocol helpers shared by the tests.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use portico_core::Clock;
use portico_directory::mfa::totp_code_at;
use portico_tests::{Browser, Hop, TestApp, TestClient, find_hidden, pkce_pair};
use serde_json::{Value, json};

pub const ALICE: &str = "alice@contoso.example";
pub const ALICE_PW: &str = "correct horse battery";

/// `/authorize?…` with the usual parameters plus `extra` (which override).
pub fn authorize_url(
    app: &TestApp,
    client: &TestClient,
    challenge: &str,
    extra: &[(&str, &str)],
) -> String {
    let mut params: Vec<(&str, &str)> = vec![
        ("response_type", "code"),
        ("client_id", &client.client_id),
        ("redirect_uri", &client.redirect_uri),
        ("scope", "openid profile email offline_access"),
        ("state", "st-123"),
        ("nonce", "n-456"),
        ("code_challenge", challenge),
        ("code_challenge_method", "S256"),
    ];
    for (k, v) in extra {
        params.retain(|(pk, _)| pk != k);
        if !v.is_empty() {
            params.push((k, v));
        }
    }
    format!(
        "{}?{}",
        app.url("/authorize"),
        serde_urlencoded::to_string(&params).unwrap()
    )
}

/// The query parameters of a redirect to the client.
pub fn query_of(location: &str) -> Vec<(String, String)> {
    let url = url::Url::parse(location).expect("absolute redirect");
    url.query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

pub fn param(pairs: &[(String, String)], name: &str) -> Option<String> {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.clone())
}

/// Runs sign-in and consent in `browser`; returns the code and the PKCE verifier.
pub async fn sign_in_for_code(
    app: &TestApp,
    browser: &Browser,
    client: &TestClient,
    extra: &[(&str, &str)],
) -> (String, String) {
    let (verifier, challenge) = pkce_pair();
    let start = browser
        .get(&authorize_url(app, client, &challenge, extra))
        .await;
    let after_login = browser
        .follow(browser.sign_in(start, ALICE, ALICE_PW).await)
        .await;
    // Consent is asked once per user and app; later sign-ins go straight back.
    let done = if after_login.body.contains("name=\"decision\"") {
        browser
            .follow(browser.consent(after_login, "accept").await)
            .await
    } else {
        after_login
    };
    let loc = done.location.expect("redirect to the client");
    assert!(loc.starts_with(&client.redirect_uri), "{loc}");
    let q = query_of(&loc);
    let state = extra
        .iter()
        .find(|(k, _)| *k == "state")
        .map_or("st-123", |(_, v)| *v);
    assert_eq!(param(&q, "state").as_deref(), Some(state));
    assert_eq!(param(&q, "iss").as_deref(), Some(app.issuer.as_str()));
    (param(&q, "code").expect("code"), verifier)
}

/// The admin API id of a registered client.
pub async fn app_id_of(app: &TestApp, client: &TestClient) -> String {
    let (_, list) = app.api("GET", "/api/v1/applications", None).await;
    list["value"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["clientId"] == client.client_id.as_str())
        .expect("registered")["id"]
        .as_str()
        .unwrap()
        .to_string()
}

/// `PATCH /api/v1/applications/{id}` with `requirePkce: false` (confidential apps).
pub async fn opt_out_of_pkce(app: &TestApp, client: &TestClient) {
    let id = app_id_of(app, client).await;
    let (status, body) = app
        .api(
            "PATCH",
            &format!("/api/v1/applications/{id}"),
            Some(serde_json::json!({"requirePkce": false})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["requirePkce"], false);
}

/// POST /token with client_secret_basic (or none for public clients).
pub async fn redeem(
    app: &TestApp,
    client: &TestClient,
    code: &str,
    verifier: &str,
) -> reqwest::Response {
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", &client.redirect_uri),
        ("code_verifier", verifier),
    ];
    token_request(app, client, &form).await
}

/// A `refresh_token` grant request presenting `refresh_token`.
pub async fn refresh_request(
    app: &TestApp,
    client: &TestClient,
    refresh_token: &str,
) -> reqwest::Response {
    let form = [
        ("grant_type", "refresh_token"),
        ("refresh_token", refresh_token),
    ];
    token_request(app, client, &form).await
}

pub async fn token_request(
    app: &TestApp,
    client: &TestClient,
    form: &[(&str, &str)],
) -> reqwest::Response {
    let http = reqwest::Client::new();
    let mut req = http.post(app.url("/token"));
    let mut form: Vec<(&str, &str)> = form.to_vec();
    match &client.secret {
        Some(s) => req = req.basic_auth(&client.client_id, Some(s)),
        None => form.push(("client_id", &client.client_id)),
    }
    req.form(&form).send().await.expect("token request")
}

pub async fn json(resp: reqwest::Response) -> Value {
    resp.json().await.expect("json body")
}

/// Asserts an RFC 6749 §5.2 error body with `code`.
pub async fn assert_oauth_error(resp: reqwest::Response, status: u16, code: &str) {
    assert_eq!(resp.status().as_u16(), status, "status for {code}");
    let v = json(resp).await;
    assert_eq!(v["error"], code, "{v}");
}

/// The claims of a JWT, without verification (the tests verify signatures elsewhere).
pub fn jwt_claims(jwt: &str) -> Value {
    let payload = jwt.split('.').nth(1).expect("payload");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).expect("b64")).expect("json")
}

pub fn jwt_header(jwt: &str) -> Value {
    let h = jwt.split('.').next().expect("header");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(h).expect("b64")).expect("json")
}

pub async fn userinfo(app: &TestApp, token: &str) -> reqwest::Response {
    reqwest::Client::new()
        .get(app.url("/userinfo"))
        .bearer_auth(token)
        .send()
        .await
        .expect("userinfo")
}

/// A full sign-in and redemption: the token response.
pub async fn tokens_for_alice(app: &TestApp, client: &TestClient) -> Value {
    let browser = Browser::new(&app.issuer);
    let (code, verifier) = sign_in_for_code(app, &browser, client, &[]).await;
    let resp = redeem(app, client, &code, &verifier).await;
    assert_eq!(resp.status(), 200);
    json(resp).await
}

/// The status of a plain GET of `url`, redirects not followed (a dead
/// redeem link must answer 404 itself, not redirect somewhere that does not).
pub async fn link_status(url: &str) -> u16 {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(url)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

/// GET `url` and parse the JSON body.
pub async fn get_json(url: &str) -> Value {
    reqwest::get(url).await.unwrap().json().await.unwrap()
}

/// The `kid`s the JWKS at `base` publishes (`base`: a node's address).
pub async fn jwks_kids(base: &str) -> Vec<String> {
    get_json(&format!("{base}/jwks")).await["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap().to_string())
        .collect()
}

/// The "Return to the application" link of a denial page (403), unescaped:
/// where the browser takes `access_denied` to the app.
pub fn back_to_app(hop: &portico_tests::Hop) -> Option<String> {
    let marker = "class=\"button\" href=\"";
    let start = hop.body.find(marker)? + marker.len();
    let href = &hop.body[start..];
    Some(
        href[..href.find('"')?]
            .replace("&amp;", "&")
            .replace("&#38;", "&"),
    )
}

/// Hits of the cache `name` in `base`'s `/metrics`.
pub async fn cache_hits(base: &str, name: &str) -> f64 {
    let metrics = reqwest::get(format!("{base}/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    metrics
        .lines()
        .find(|l| {
            l.starts_with("portico_cache_requests_total{")
                && l.contains(&format!("cache=\"{name}\""))
                && l.contains("result=\"hit\"")
        })
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0)
}

/// A token request to the node at `base`: the status and the JSON body.
pub async fn token_at(base: &str, c: &TestClient, form: &[(&str, &str)]) -> (u16, Value) {
    let resp = reqwest::Client::new()
        .post(format!("{base}/token"))
        .basic_auth(&c.client_id, c.secret.as_ref())
        .form(form)
        .send()
        .await
        .unwrap();
    (
        resp.status().as_u16(),
        resp.json().await.unwrap_or(Value::Null),
    )
}

/// Sets the authentication policy's `requireMfaFor` to everyone.
pub async fn require_mfa_for_everyone(app: &TestApp) {
    let (status, body) = app
        .api(
            "PATCH",
            "/api/v1/policies/authenticationPolicy",
            Some(json!({"requireMfaFor": "everyone"})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
}

/// The secret the enrolment page shows.
pub fn shown_secret(page: &Hop) -> String {
    let start = page
        .body
        .find("id=\"totp-secret\">")
        .expect("the key in text")
        + 17;
    let end = page.body[start..].find('<').unwrap() + start;
    page.body[start..end].to_string()
}

pub fn code_now(app: &TestApp, secret: &str) -> String {
    totp_code_at(secret, app.clock.now()).unwrap()
}

/// Posts `code` on the MFA page `page` (the form named by `kind`).
pub async fn post_code(b: &Browser, page: &Hop, path: &str, kind: &str, code: &str) -> Hop {
    let csrf = find_hidden(&page.body, "csrf").expect("csrf");
    let start = page.body.find("action=\"/interaction/").unwrap() + "action=\"".len();
    let end = page.body[start..].find("/mfa/").unwrap() + start;
    let action = format!("{}/mfa/{path}", &page.body[start..end]);
    b.post_form(&action, &[("csrf", &csrf), ("kind", kind), ("code", code)])
        .await
}

/// Signs Alice in with her password in a new browser; the page after it.
pub async fn password_step(
    app: &TestApp,
    client: &portico_tests::TestClient,
) -> (Browser, Hop, String) {
    let b = Browser::new(&app.issuer);
    let (verifier, challenge) = pkce_pair();
    let start = b.get(&authorize_url(app, client, &challenge, &[])).await;
    let page = b.follow(b.sign_in(start, ALICE, ALICE_PW).await).await;
    (b, page, verifier)
}

/// The `href` of the first link that ends with `ends_with`.
pub fn find_link(html: &str, ends_with: &str) -> String {
    let end = html.find(&format!("{ends_with}\"")).expect("the link") + ends_with.len();
    let start = html[..end].rfind("href=\"").unwrap() + 6;
    html[start..end].to_string()
}
