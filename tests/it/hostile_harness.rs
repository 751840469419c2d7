//! The hostile upstream IdP (kit/hostile.rs) does what each scenario says,
//! and nothing else: its honest tokens pass the `openidconnect` crate's
//! verifier, and each hostile token fails exactly the check it is meant to
//! attack (and passes once that one check is relaxed), so the federation
//! attack tests built on it prove what they claim.

use std::str::FromStr;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use josekit::jws::JwsVerifier;
use openidconnect::core::{
    CoreIdToken, CoreIdTokenClaims, CoreIdTokenVerifier, CoreJsonWebKeySet,
    CoreJwsSigningAlgorithm, CoreProviderMetadata,
};
use openidconnect::{
    ClaimsVerificationError, ClientId, ClientSecret, IssuerUrl, JsonWebKey, JsonWebKeySetUrl,
    Nonce, PkceCodeChallenge, SignatureVerificationError,
};
use portico_tests::hostile::{
    HostileIdp, Identity, KID_A, KID_B, KeyChoice, OTHER_AUDIENCE, REDIRECT_TARGET_PATH, Scenario,
};
use serde_json::Value;

const CLIENT_ID: &str = "portico-rp";
const CLIENT_SECRET: &str = "rp-secret-0123456789";
const REDIRECT_URI: &str = "http://127.0.0.1:9/federation/callback?idp=home";

fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// The system time, to check the upstream's `iat`/`exp` against.
// The upstream is a separate party on the system clock (see kit/hostile.rs).
#[allow(clippy::disallowed_methods)]
fn system_now() -> chrono::DateTime<chrono::Utc> {
    chrono::Utc::now()
}

fn random() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

fn query(location: &str) -> Vec<(String, String)> {
    url::Url::parse(location)
        .expect("absolute Location")
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

fn get<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// The JSON of a JWT part (0 header, 1 payload), unverified.
fn jwt_part(token: &str, part: usize) -> Value {
    let segment = token.split('.').nth(part).expect("JWT part");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(segment).expect("base64url")).expect("JSON")
}

/// `GET /authorize` as an RP would send it; returns the 303's query.
async fn authorize(
    idp: &HostileIdp,
    state: &str,
    nonce: &str,
    challenge: &str,
) -> Vec<(String, String)> {
    let res = http()
        .get(idp.url("/authorize"))
        .query(&[
            ("response_type", "code"),
            ("client_id", CLIENT_ID),
            ("redirect_uri", REDIRECT_URI),
            ("scope", "openid email profile"),
            ("state", state),
            ("nonce", nonce),
            ("code_challenge", challenge),
            ("code_challenge_method", "S256"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    let location = res.headers()["location"].to_str().unwrap().to_owned();
    assert!(
        location.starts_with(REDIRECT_URI),
        "redirects to the redirect_uri, keeping its query: {location}"
    );
    let pairs = query(&location);
    assert_eq!(get(&pairs, "idp"), Some("home"));
    pairs
}

/// `POST /token` with client_secret_basic and the PKCE verifier.
async fn redeem(idp: &HostileIdp, code: &str, verifier: &str) -> reqwest::Response {
    http()
        .post(idp.url("/token"))
        .basic_auth(CLIENT_ID, Some(CLIENT_SECRET))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", REDIRECT_URI),
            ("code_verifier", verifier),
        ])
        .send()
        .await
        .unwrap()
}

/// A whole sign-in under the current scenario: returns (nonce sent, ID token received).
async fn sign_in(idp: &HostileIdp) -> (String, String) {
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (state, nonce) = (random(), random());
    let q = authorize(idp, &state, &nonce, challenge.as_str()).await;
    let code = get(&q, "code").expect("a code");
    let res = redeem(idp, code, verifier.secret()).await;
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    let id_token = body["id_token"].as_str().expect("id_token").to_owned();
    (nonce, id_token)
}

async fn fetch_jwks(idp: &HostileIdp) -> CoreJsonWebKeySet {
    let url = JsonWebKeySetUrl::new(idp.url("/jwks")).unwrap();
    CoreJsonWebKeySet::fetch_async(&url, &http())
        .await
        .expect("JWKS")
}

/// The verifier a correct public-client RP uses for this upstream.
fn verifier(idp: &HostileIdp, jwks: CoreJsonWebKeySet) -> CoreIdTokenVerifier<'static> {
    CoreIdTokenVerifier::new_public_client(
        ClientId::new(CLIENT_ID.into()),
        IssuerUrl::new(idp.issuer.clone()).unwrap(),
        jwks,
    )
}

fn check(
    verifier: &CoreIdTokenVerifier,
    token: &str,
    nonce: &str,
) -> Result<CoreIdTokenClaims, ClaimsVerificationError> {
    let token = CoreIdToken::from_str(token).expect("parses as a JWT");
    token.claims(verifier, &Nonce::new(nonce.into())).cloned()
}

#[tokio::test]
async fn hostile_idp_honest_discovery_authorize_token_and_userinfo() {
    let idp = HostileIdp::start(CLIENT_ID, CLIENT_SECRET).await;
    assert!(idp.issuer.starts_with("http://127.0.0.1:"));

    // Discovery: the document names this issuer and its endpoints.
    let doc: Value = http()
        .get(idp.url("/.well-known/openid-configuration"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(doc["issuer"], idp.issuer);
    for (field, path) in [
        ("authorization_endpoint", "/authorize"),
        ("token_endpoint", "/token"),
        ("jwks_uri", "/jwks"),
        ("userinfo_endpoint", "/userinfo"),
    ] {
        assert_eq!(doc[field], idp.url(path), "{field}");
    }
    assert_eq!(
        doc["id_token_signing_alg_values_supported"],
        serde_json::json!(["RS256"])
    );
    assert_eq!(
        doc["code_challenge_methods_supported"],
        serde_json::json!(["S256"])
    );
    assert_eq!(
        doc["token_endpoint_auth_methods_supported"],
        serde_json::json!(["client_secret_basic", "client_secret_post"])
    );
    assert_eq!(idp.discovery_fetches(), 1);
    // ...and the openidconnect crate accepts it (it also fetches the JWKS).
    let meta =
        CoreProviderMetadata::discover_async(IssuerUrl::new(idp.issuer.clone()).unwrap(), &http())
            .await
            .expect("openidconnect discovery");
    assert_eq!(meta.issuer().as_str(), idp.issuer);
    assert_eq!(meta.jwks().keys().len(), 1, "only key A is published");
    assert_eq!(idp.discovery_fetches(), 2);
    assert_eq!(idp.jwks_fetches(), 1);

    // Authorize: an immediate 303 with a code and our state; everything recorded.
    let (challenge, pkce_verifier) = PkceCodeChallenge::new_random_sha256();
    let (state, nonce) = (random(), random());
    let q = authorize(&idp, &state, &nonce, challenge.as_str()).await;
    assert_eq!(get(&q, "state"), Some(state.as_str()));
    assert!(get(&q, "error").is_none());
    let code = get(&q, "code").expect("code").to_owned();
    let seen = idp.last_authorize().expect("authorize recorded");
    assert_eq!(seen.state.as_deref(), Some(state.as_str()));
    assert_eq!(seen.nonce.as_deref(), Some(nonce.as_str()));
    assert_eq!(seen.code_challenge.as_deref(), Some(challenge.as_str()));
    assert_eq!(seen.code_challenge_method.as_deref(), Some("S256"));
    assert_eq!(seen.redirect_uri.as_deref(), Some(REDIRECT_URI));
    assert_eq!(seen.client_id.as_deref(), Some(CLIENT_ID));
    assert_eq!(seen.scope.as_deref(), Some("openid email profile"));
    assert_eq!(seen.param("response_type"), Some("code"));
    assert_eq!(seen.code_issued.as_deref(), Some(code.as_str()));

    // Token with client_secret_basic + PKCE: recorded, and an honest ID token.
    let res = redeem(&idp, &code, pkce_verifier.secret()).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["cache-control"], "no-store");
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["token_type"], "Bearer");
    assert!(body["expires_in"].as_i64().unwrap() > 0);
    let access_token = body["access_token"].as_str().expect("access_token");
    let id_token = body["id_token"].as_str().expect("id_token");
    let seen = idp.last_token_request().expect("token request recorded");
    assert_eq!(seen.grant_type.as_deref(), Some("authorization_code"));
    assert_eq!(seen.code.as_deref(), Some(code.as_str()));
    assert_eq!(
        seen.code_verifier.as_deref(),
        Some(pkce_verifier.secret().as_str())
    );
    assert_eq!(seen.redirect_uri.as_deref(), Some(REDIRECT_URI));
    assert_eq!(
        seen.basic_auth,
        Some((CLIENT_ID.to_owned(), CLIENT_SECRET.to_owned()))
    );
    assert!(seen.post_client_secret.is_none());

    assert_eq!(jwt_part(id_token, 0)["kid"], KID_A);
    let jwks = fetch_jwks(&idp).await;
    assert_eq!(idp.jwks_fetches(), 2);
    let claims =
        check(&verifier(&idp, jwks.clone()), id_token, &nonce).expect("honest token verifies");
    assert_eq!(claims.issuer().as_str(), idp.issuer);
    assert_eq!(claims.subject().as_str(), "upstream-bob");
    assert_eq!(
        claims.email().map(|e| e.as_str()),
        Some("bob@fabrikam.example")
    );
    assert_eq!(claims.email_verified(), Some(true));
    assert!(claims.expiration() > system_now() + chrono::Duration::seconds(200));
    assert!((claims.issue_time() - system_now()).num_seconds().abs() < 30);
    assert!(claims.authorized_party().is_none());
    // Another sign-in's nonce does not match this token: the code → nonce map is per code.
    let err = check(&verifier(&idp, jwks.clone()), id_token, "someone else's").unwrap_err();
    assert!(
        matches!(err, ClaimsVerificationError::InvalidNonce(_)),
        "{err:?}"
    );

    // Userinfo answers with the identity.
    let info: Value = http()
        .get(idp.url("/userinfo"))
        .bearer_auth(access_token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(info["sub"], "upstream-bob");
    assert_eq!(info["email"], "bob@fabrikam.example");
    assert_eq!(info["email_verified"], true);
    assert_eq!(info["name"], "Bob Fabrikam");
    assert_eq!(idp.userinfo_fetches(), 1);

    // A new identity shows in the next ID token and userinfo; absent claims are absent.
    idp.set_identity(Identity {
        sub: "mallory".into(),
        email: Some("ceo@contoso.example".into()),
        email_verified: None,
        name: None,
        ..Identity::default()
    });
    let (nonce, id_token) = sign_in(&idp).await;
    let claims = check(&verifier(&idp, jwks), &id_token, &nonce).unwrap();
    assert_eq!(claims.subject().as_str(), "mallory");
    assert_eq!(
        claims.email().map(|e| e.as_str()),
        Some("ceo@contoso.example")
    );
    let payload = jwt_part(&id_token, 1);
    assert!(payload.get("email_verified").is_none() && payload.get("name").is_none());
    let info: Value = http()
        .get(idp.url("/userinfo"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        info,
        serde_json::json!({"sub": "mallory", "email": "ceo@contoso.example"})
    );

    // client_secret_post is recorded as such.
    let (challenge, pkce_verifier) = PkceCodeChallenge::new_random_sha256();
    let q = authorize(&idp, "s", "n", challenge.as_str()).await;
    let res = http()
        .post(idp.url("/token"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", get(&q, "code").unwrap()),
            ("redirect_uri", REDIRECT_URI),
            ("code_verifier", pkce_verifier.secret().as_str()),
            ("client_id", CLIENT_ID),
            ("client_secret", CLIENT_SECRET),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let seen = idp.last_token_request().unwrap();
    assert!(seen.basic_auth.is_none() && seen.authorization_header.is_none());
    assert_eq!(seen.post_client_id.as_deref(), Some(CLIENT_ID));
    assert_eq!(seen.post_client_secret.as_deref(), Some(CLIENT_SECRET));
    assert_eq!(idp.token_requests().len(), 3);
    assert_eq!(idp.authorizations().len(), 3);
}

#[tokio::test]
async fn hostile_idp_id_tokens_fail_exactly_the_check_they_attack() {
    let idp = HostileIdp::start(CLIENT_ID, CLIENT_SECRET).await;
    let jwks = fetch_jwks(&idp).await;
    let v = || verifier(&idp, jwks.clone());
    let sig = |e: ClaimsVerificationError| match e {
        ClaimsVerificationError::SignatureVerification(s) => s,
        other => panic!("expected a signature error, got {other:?}"),
    };

    // alg none, no signature: rejected as unsigned.
    idp.set_scenario(Scenario::AlgNone);
    let (nonce, token) = sign_in(&idp).await;
    assert_eq!(jwt_part(&token, 0), serde_json::json!({"alg": "none"}));
    assert!(token.ends_with('.'), "empty signature: {token}");
    let e = sig(check(&v(), &token, &nonce).unwrap_err());
    assert_eq!(e, SignatureVerificationError::NoSignature);

    // Key B, unpublished: no matching key; it IS a good key-B signature.
    idp.set_scenario(Scenario::ForeignKey);
    let (nonce, token) = sign_in(&idp).await;
    assert_eq!(jwt_part(&token, 0)["kid"], KID_B);
    let e = sig(check(&v(), &token, &nonce).unwrap_err());
    assert_eq!(e, SignatureVerificationError::NoMatchingKey);
    let with_b: CoreJsonWebKeySet =
        serde_json::from_value(serde_json::json!({"keys": [idp.jwk_a(), idp.jwk_b()]})).unwrap();
    check(&verifier(&idp, with_b.clone()), &token, &nonce).expect("valid with key B");

    // Key B claiming kid key-a: the signature does not verify with key A.
    idp.set_scenario(Scenario::ForeignKeyWithKidA);
    let (nonce, token) = sign_in(&idp).await;
    assert_eq!(jwt_part(&token, 0)["kid"], KID_A);
    let e = sig(check(&v(), &token, &nonce).unwrap_err());
    assert!(
        matches!(e, SignatureVerificationError::CryptoError(_)),
        "{e:?}"
    );
    let mut b_as_a = idp.jwk_b();
    b_as_a["kid"] = KID_A.into();
    let only_b: CoreJsonWebKeySet =
        serde_json::from_value(serde_json::json!({ "keys": [b_as_a] })).unwrap();
    check(&verifier(&idp, only_b), &token, &nonce).expect("valid with key B");

    // HS256 with the client secret: disallowed; a correct MAC under that secret.
    idp.set_scenario(Scenario::Hs256WithClientSecret);
    let (nonce, token) = sign_in(&idp).await;
    assert_eq!(jwt_part(&token, 0)["alg"], "HS256");
    let e = sig(check(&v(), &token, &nonce).unwrap_err());
    assert!(
        matches!(e, SignatureVerificationError::DisallowedAlg(_)),
        "{e:?}"
    );
    let hs = |secret: String| {
        CoreIdTokenVerifier::new_confidential_client(
            ClientId::new(CLIENT_ID.into()),
            ClientSecret::new(secret),
            IssuerUrl::new(idp.issuer.clone()).unwrap(),
            jwks.clone(),
        )
        .set_allowed_algs([CoreJwsSigningAlgorithm::HmacSha256])
    };
    check(&hs(CLIENT_SECRET.into()), &token, &nonce).expect("HS256 under the client secret");
    check(&hs("wrong".into()), &token, &nonce).expect_err("and only under it");

    // HS256 keyed with key A's public PEM: disallowed; a correct MAC under that PEM.
    idp.set_scenario(Scenario::Hs256WithPublicKey);
    let (nonce, token) = sign_in(&idp).await;
    let e = sig(check(&v(), &token, &nonce).unwrap_err());
    assert!(
        matches!(e, SignatureVerificationError::DisallowedAlg(_)),
        "{e:?}"
    );
    check(&hs(CLIENT_SECRET.into()), &token, &nonce).expect_err("not the client secret");
    check(&hs(idp.key_a_public_pem()), &token, &nonce).expect("HS256 under key A's PEM");
    // ...and that PEM is key A's public key: it verifies an honest RS256 signature.
    let honest = idp.sign_id_token(idp.honest_claims(None), KeyChoice::A);
    let (input, signature) = honest.rsplit_once('.').unwrap();
    josekit::jws::RS256
        .verifier_from_pem(idp.key_a_public_pem())
        .unwrap()
        .verify(
            input.as_bytes(),
            &URL_SAFE_NO_PAD.decode(signature).unwrap(),
        )
        .expect("the PEM is key A");

    // Wrong issuer: the issuer check, and only it.
    idp.set_scenario(Scenario::WrongIssuer);
    let (nonce, token) = sign_in(&idp).await;
    let e = check(&v(), &token, &nonce).unwrap_err();
    assert!(
        matches!(e, ClaimsVerificationError::InvalidIssuer(_)),
        "{e:?}"
    );
    check(&v().require_issuer_match(false), &token, &nonce).expect("only the issuer is wrong");

    // Wrong audience.
    idp.set_scenario(Scenario::WrongAudience);
    let (nonce, token) = sign_in(&idp).await;
    assert_eq!(jwt_part(&token, 1)["aud"], OTHER_AUDIENCE);
    let e = check(&v(), &token, &nonce).unwrap_err();
    assert!(
        matches!(e, ClaimsVerificationError::InvalidAudience(_)),
        "{e:?}"
    );
    check(&v().require_audience_match(false), &token, &nonce).expect("only the audience is wrong");

    // An extra untrusted audience and no azp.
    idp.set_scenario(Scenario::ExtraAudienceNoAzp);
    let (nonce, token) = sign_in(&idp).await;
    assert_eq!(
        jwt_part(&token, 1)["aud"],
        serde_json::json!([CLIENT_ID, OTHER_AUDIENCE])
    );
    let e = check(&v(), &token, &nonce).unwrap_err();
    assert!(
        matches!(e, ClaimsVerificationError::InvalidAudience(_)),
        "{e:?}"
    );
    let trusting = v().set_other_audience_verifier_fn(|aud| aud.as_str() == OTHER_AUDIENCE);
    let claims = check(&trusting, &token, &nonce).expect("only the extra audience");
    assert!(claims.authorized_party().is_none());

    // Wrong azp (openidconnect does not check azp: the token is otherwise valid).
    idp.set_scenario(Scenario::WrongAzp);
    let (nonce, token) = sign_in(&idp).await;
    let claims = check(&v(), &token, &nonce).expect("valid but for azp");
    assert_eq!(
        claims.authorized_party().map(|a| a.as_str()),
        Some(OTHER_AUDIENCE)
    );
    assert_eq!(claims.audiences().len(), 1);

    // Expired, and valid ten minutes earlier.
    idp.set_scenario(Scenario::Expired);
    let (nonce, token) = sign_in(&idp).await;
    let e = check(&v(), &token, &nonce).unwrap_err();
    assert!(matches!(e, ClaimsVerificationError::Expired(_)), "{e:?}");
    let earlier = v().set_time_fn(|| system_now() - chrono::Duration::seconds(700));
    check(&earlier, &token, &nonce).expect("only expired");

    // Issued in the future: caught by an iat check (openidconnect has none by default).
    idp.set_scenario(Scenario::IssuedInFuture);
    let (nonce, token) = sign_in(&idp).await;
    let iat_checked = || {
        v().set_issue_time_verifier_fn(|iat| {
            if iat > system_now() + chrono::Duration::seconds(60) {
                Err(format!("issued in the future: {iat}"))
            } else {
                Ok(())
            }
        })
    };
    let e = check(&iat_checked(), &token, &nonce).unwrap_err();
    assert!(
        matches!(e, ClaimsVerificationError::Expired(ref m) if m.starts_with("issued in the future")),
        "{e:?}"
    );
    let claims = check(&v(), &token, &nonce).expect("only the iat is off");
    assert!(claims.issue_time() > system_now() + chrono::Duration::seconds(3000));
    idp.set_scenario(Scenario::Honest);
    let (nonce, token) = sign_in(&idp).await;
    check(&iat_checked(), &token, &nonce).expect("honest iat passes the same check");

    // Wrong nonce.
    idp.set_scenario(Scenario::WrongNonce);
    let (nonce, token) = sign_in(&idp).await;
    let e = check(&v(), &token, &nonce).unwrap_err();
    assert!(
        matches!(e, ClaimsVerificationError::InvalidNonce(_)),
        "{e:?}"
    );
    let sent = jwt_part(&token, 1)["nonce"].as_str().unwrap().to_owned();
    assert_ne!(sent, nonce);
    check(&v(), &token, &sent).expect("only the nonce is wrong");

    // Missing nonce.
    idp.set_scenario(Scenario::MissingNonce);
    let (nonce, token) = sign_in(&idp).await;
    assert!(jwt_part(&token, 1).get("nonce").is_none());
    let e = check(&v(), &token, &nonce).unwrap_err();
    assert_eq!(
        e,
        ClaimsVerificationError::InvalidNonce("missing nonce claim".into())
    );

    // Replayed nonce: the old one, not this sign-in's.
    idp.set_scenario(Scenario::ReplayNonce("old-nonce-1".into()));
    let (nonce, token) = sign_in(&idp).await;
    let e = check(&v(), &token, &nonce).unwrap_err();
    assert!(
        matches!(e, ClaimsVerificationError::InvalidNonce(_)),
        "{e:?}"
    );
    check(&v(), &token, "old-nonce-1").expect("valid for the old nonce");

    // A hand-crafted token is served as is.
    let mut claims = idp.honest_claims(Some("crafted"));
    claims["sub"] = "crafted-sub".into();
    let crafted = idp.sign_id_token(claims, KeyChoice::A);
    idp.set_scenario(Scenario::FixedIdToken(crafted.clone()));
    let (_, token) = sign_in(&idp).await;
    assert_eq!(token, crafted);
    let claims = check(&v(), &token, "crafted").expect("crafted with key A verifies");
    assert_eq!(claims.subject().as_str(), "crafted-sub");

    // Honest again: the same verifier accepts (the checks above were not blanket failures).
    idp.set_scenario(Scenario::Honest);
    let (nonce, token) = sign_in(&idp).await;
    check(&v(), &token, &nonce).expect("honest");
    check(&verifier(&idp, with_b), &token, &nonce).expect("honest, with both keys known");
}

#[tokio::test]
async fn hostile_idp_publishes_key_b_only_when_rotated() {
    let idp = HostileIdp::start(CLIENT_ID, CLIENT_SECRET).await;
    assert_eq!(idp.jwks_fetches(), 0);
    let before = fetch_jwks(&idp).await;
    assert_eq!(before.keys().len(), 1);
    assert_eq!(idp.jwks_fetches(), 1);

    idp.set_scenario(Scenario::RotatedKey);
    let (nonce, token) = sign_in(&idp).await;
    assert_eq!(jwt_part(&token, 0)["kid"], KID_B);
    assert_eq!(idp.jwks_fetches(), 1, "signing does not touch the JWKS");
    // An RP with the old JWKS finds no key...
    let e = check(&verifier(&idp, before), &token, &nonce).unwrap_err();
    assert_eq!(
        e,
        ClaimsVerificationError::SignatureVerification(SignatureVerificationError::NoMatchingKey)
    );
    // ...and one refetch publishes key B next to key A.
    let after = fetch_jwks(&idp).await;
    assert_eq!(idp.jwks_fetches(), 2);
    let kids: Vec<String> = after
        .keys()
        .iter()
        .map(|k| k.key_id().unwrap().as_str().to_owned())
        .collect();
    assert_eq!(kids, [KID_A, KID_B]);
    check(&verifier(&idp, after), &token, &nonce).expect("rotation is legitimate");

    // Outside the scenario key B is withdrawn again.
    idp.set_scenario(Scenario::ForeignKey);
    assert_eq!(fetch_jwks(&idp).await.keys().len(), 1);
    assert_eq!(idp.jwks_fetches(), 3);
}

#[tokio::test]
async fn hostile_idp_authorize_scenarios_tamper_with_the_redirect() {
    let idp = HostileIdp::start(CLIENT_ID, CLIENT_SECRET).await;
    let (challenge, _) = PkceCodeChallenge::new_random_sha256();

    idp.set_scenario(Scenario::WrongState);
    let q = authorize(&idp, "mine", "n1", challenge.as_str()).await;
    let returned = get(&q, "state").expect("a state");
    assert_ne!(returned, "mine");
    assert!(get(&q, "code").is_some());
    assert_eq!(idp.last_authorize().unwrap().state.as_deref(), Some("mine"));

    idp.set_scenario(Scenario::MissingState);
    let q = authorize(&idp, "mine", "n2", challenge.as_str()).await;
    assert!(get(&q, "state").is_none());
    assert!(get(&q, "code").is_some());

    idp.set_scenario(Scenario::AuthorizeError);
    let q = authorize(&idp, "mine", "n3", challenge.as_str()).await;
    assert_eq!(get(&q, "error"), Some("access_denied"));
    assert_eq!(get(&q, "state"), Some("mine"));
    assert!(get(&q, "code").is_none());
    assert!(idp.last_authorize().unwrap().code_issued.is_none());

    // A request without redirect_uri has nowhere to go.
    let res = http()
        .get(idp.url("/authorize?state=x"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    assert_eq!(idp.authorizations().len(), 4);
}

#[tokio::test]
async fn hostile_idp_endpoint_failures_are_the_named_ones() {
    let idp = HostileIdp::start(CLIENT_ID, CLIENT_SECRET).await;
    let (challenge, pkce_verifier) = PkceCodeChallenge::new_random_sha256();
    let q = authorize(&idp, "s", "n", challenge.as_str()).await;
    let code = get(&q, "code").unwrap().to_owned();
    let short = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_millis(1500))
        .build()
        .unwrap();
    let discovery_url = idp.url("/.well-known/openid-configuration");
    let issuer = || IssuerUrl::new(idp.issuer.clone()).unwrap();

    idp.set_scenario(Scenario::TokenError);
    let res = redeem(&idp, &code, pkce_verifier.secret()).await;
    assert_eq!(res.status(), 400);
    assert_eq!(
        res.json::<Value>().await.unwrap(),
        serde_json::json!({"error": "invalid_grant"})
    );
    assert_eq!(
        idp.last_token_request().unwrap().code_verifier.as_deref(),
        Some(pkce_verifier.secret().as_str()),
        "recorded even when refusing"
    );

    idp.set_scenario(Scenario::GarbageToken);
    let res = redeem(&idp, &code, pkce_verifier.secret()).await;
    assert_eq!(res.status(), 200);
    let text = res.text().await.unwrap();
    assert_eq!(text, "not json");
    assert!(serde_json::from_str::<Value>(&text).is_err());

    idp.set_scenario(Scenario::GarbageDiscovery);
    let res = http().get(&discovery_url).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    assert_eq!(res.text().await.unwrap(), "<html>nope</html>");
    CoreProviderMetadata::discover_async(issuer(), &http())
        .await
        .expect_err("garbage discovery");

    idp.set_scenario(Scenario::RedirectDiscovery);
    let res = http().get(&discovery_url).send().await.unwrap();
    assert_eq!(res.status(), 302);
    let target = res.headers()["location"].to_str().unwrap().to_owned();
    assert_eq!(target, idp.url(REDIRECT_TARGET_PATH));
    assert!(
        CoreProviderMetadata::discover_async(issuer(), &http())
            .await
            .is_err(),
        "a client that does not follow redirects gets no metadata"
    );
    assert_eq!(idp.redirect_target_fetches(), 0);
    // The target is a valid document for this issuer, so following it would "work".
    let moved: Value = http()
        .get(&target)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(moved["issuer"], idp.issuer);
    assert_eq!(idp.redirect_target_fetches(), 1);

    idp.set_scenario(Scenario::UserinfoOtherSub);
    let (nonce, token) = sign_in(&idp).await;
    let jwks = fetch_jwks(&idp).await;
    let claims = check(&verifier(&idp, jwks), &token, &nonce).expect("honest ID token");
    assert_eq!(claims.subject().as_str(), "upstream-bob");
    let info: Value = http()
        .get(idp.url("/userinfo"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(info["sub"], "other-upstream-bob");

    // The hangs: the same short-timeout client gets an answer in the honest case.
    idp.set_scenario(Scenario::Honest);
    assert_eq!(
        short.get(&discovery_url).send().await.unwrap().status(),
        200
    );
    idp.set_scenario(Scenario::HangDiscovery);
    let fetches = idp.discovery_fetches();
    let err = short.get(&discovery_url).send().await.unwrap_err();
    assert!(err.is_timeout(), "{err:?}");
    assert_eq!(
        idp.discovery_fetches(),
        fetches + 1,
        "the request did arrive"
    );

    idp.set_scenario(Scenario::Hang);
    let err = short
        .post(idp.url("/token"))
        .basic_auth(CLIENT_ID, Some(CLIENT_SECRET))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
        ])
        .send()
        .await
        .unwrap_err();
    assert!(err.is_timeout(), "{err:?}");
    assert_eq!(
        idp.last_token_request().unwrap().code.as_deref(),
        Some(code.as_str())
    );
}

#[tokio::test]
async fn hostile_idp_stop_refuses_connections() {
    let idp = HostileIdp::start(CLIENT_ID, CLIENT_SECRET).await;
    let discovery_url = idp.url("/.well-known/openid-configuration");
    assert_eq!(
        http().get(&discovery_url).send().await.unwrap().status(),
        200
    );
    idp.stop();
    // Give the aborted accept loop a moment to drop its listener.
    let mut refused = None;
    for _ in 0..50 {
        match http().get(&discovery_url).send().await {
            Err(e) => {
                refused = Some(e);
                break;
            }
            Ok(_) => tokio::time::sleep(Duration::from_millis(20)).await,
        }
    }
    let err = refused.expect("connections refused after stop");
    assert!(err.is_connect(), "{err:?}");

    // Dropping does the same.
    let idp = HostileIdp::start(CLIENT_ID, CLIENT_SECRET).await;
    let url = idp.url("/jwks");
    drop(idp);
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(http().get(&url).send().await.unwrap_err().is_connect());
}
