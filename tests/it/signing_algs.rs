//! ES256 and EdDSA signing keys next to RS256 (issue 11): a deployment that
//! chooses them publishes all three lines, signs access tokens with its
//! chosen algorithm and each application's ID tokens with the one it
//! registered (`idTokenSignedResponseAlg`, RS256 by default), and a relying
//! party verifies every token against the JWKS alone. An algorithm Portico
//! does not sign with, or that the deployment has not enabled, is refused
//! with a message that names it.

use crate::support::*;
use josekit::jwk::Jwk;
use josekit::jws::{ES256, EdDSA, JwsVerifier, RS256};
use openidconnect::core::{
    CoreIdToken, CoreIdTokenVerifier, CoreJwsSigningAlgorithm, CoreProviderMetadata,
};
use openidconnect::{AccessToken, AccessTokenHash, ClientId, ClientSecret, IssuerUrl, Nonce};
use portico_tests::*;
use serde_json::{Value, json};

async fn spawn_with_all_algs(backend: Backend) -> TestApp {
    spawn(backend, None, |s| {
        s.signing_algs = "ES256, EdDSA".into();
        s.access_token_signing_alg = "ES256".into();
    })
    .await
}

/// Verifies a Portico access token the way a resource server does: the
/// JWKS key its `kid` names, with the algorithm that key declares.
async fn verify_access_token(app: &TestApp, token: &str) -> Value {
    let kid = jwt_header(token)["kid"].as_str().unwrap().to_string();
    let jwks = get_json(&app.url("/jwks")).await;
    let key = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kid"] == kid.as_str())
        .expect("the JWKS publishes the access token's key");
    let jwk = Jwk::from_map(key.as_object().unwrap().clone()).unwrap();
    let verifier: Box<dyn JwsVerifier> = match key["alg"].as_str().unwrap() {
        "RS256" => Box::new(RS256.verifier_from_jwk(&jwk).unwrap()),
        "ES256" => Box::new(ES256.verifier_from_jwk(&jwk).unwrap()),
        "EdDSA" => Box::new(EdDSA.verifier_from_jwk(&jwk).unwrap()),
        other => panic!("unexpected alg {other}"),
    };
    let (payload, header) =
        josekit::jwt::decode_with_verifier(token, verifier.as_ref()).expect("verifies");
    assert_eq!(header.claim("alg"), key.get("alg"));
    Value::Object(payload.claims_set().clone())
}

async fn an_rp_verifies_es256_and_eddsa_tokens_against_the_jwks(backend: Backend) {
    let app = spawn_with_all_algs(backend).await;
    app.alice().await;
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let issuer = IssuerUrl::new(app.issuer.clone()).unwrap();
    let meta = CoreProviderMetadata::discover_async(issuer.clone(), &http)
        .await
        .expect("discovery");
    let d = get_json(&app.url("/.well-known/openid-configuration")).await;
    assert_eq!(
        d["id_token_signing_alg_values_supported"],
        json!(["RS256", "ES256", "EdDSA"])
    );
    let jwks = get_json(&app.url("/jwks")).await;
    let mut published: Vec<(String, String)> = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| {
            assert!(k.get("d").is_none(), "never the private part");
            (
                k["alg"].as_str().unwrap().into(),
                k["kty"].as_str().unwrap().into(),
            )
        })
        .collect();
    published.sort();
    assert_eq!(
        published,
        [("ES256", "EC"), ("EdDSA", "OKP"), ("RS256", "RSA")]
            .map(|(a, k)| (a.to_string(), k.to_string()))
    );

    for (registered, alg) in [
        (None, CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256),
        (Some("ES256"), CoreJwsSigningAlgorithm::EcdsaP256Sha256),
        (Some("EdDSA"), CoreJwsSigningAlgorithm::EdDsa),
    ] {
        let c = app.web_app().await;
        let id = app_id_of(&app, &c).await;
        if let Some(a) = registered {
            let (status, body) = app
                .api(
                    "PATCH",
                    &format!("/api/v1/applications/{id}"),
                    Some(json!({"idTokenSignedResponseAlg": a})),
                )
                .await;
            assert_eq!(status, 200, "{body}");
            assert_eq!(body["idTokenSignedResponseAlg"], a);
        }
        let browser = Browser::new(&app.issuer);
        let (code, verifier) = sign_in_for_code(&app, &browser, &c, &[]).await;
        let tokens = json(redeem(&app, &c, &code, &verifier).await).await;
        let id_token: CoreIdToken = tokens["id_token"].as_str().unwrap().parse().unwrap();
        let rp = CoreIdTokenVerifier::new_confidential_client(
            ClientId::new(c.client_id.clone()),
            ClientSecret::new(c.secret.clone().unwrap()),
            issuer.clone(),
            meta.jwks().clone(),
        )
        .set_allowed_algs(vec![alg.clone()]);
        let claims = id_token
            .claims(&rp, &Nonce::new("n-456".into()))
            .unwrap_or_else(|e| panic!("{registered:?}: the ID token verifies: {e}"));
        assert_eq!(id_token.signing_alg().unwrap(), &alg);
        let access_token = tokens["access_token"].as_str().unwrap();
        let expected = AccessTokenHash::from_token(
            &AccessToken::new(access_token.to_string()),
            id_token.signing_alg().unwrap(),
            id_token.signing_key(&rp).unwrap(),
        )
        .unwrap();
        assert_eq!(claims.access_token_hash(), Some(&expected), "at_hash");

        // The access token: the deployment's algorithm, whatever the app's.
        assert_eq!(jwt_header(access_token)["alg"], "ES256");
        let at = verify_access_token(&app, access_token).await;
        assert_eq!(at["client_id"], c.client_id.as_str());
        assert_eq!(userinfo(&app, access_token).await.status(), 200);
    }

    // Rotation renews every line; each new key is published at once.
    let (status, rotated) = app.api("POST", "/api/v1/signingKeys/rotate", None).await;
    assert_eq!(status, 201, "{rotated}");
    let algs: Vec<&str> = rotated["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["alg"].as_str().unwrap())
        .collect();
    assert_eq!(algs, ["RS256", "ES256", "EdDSA"]);
    let kids = jwks_kids(&app.url("")).await;
    for k in rotated["keys"].as_array().unwrap() {
        assert!(kids.contains(&k["kid"].as_str().unwrap().to_string()));
    }
}
both_backends!(
    an_rp_verifies_es256_and_eddsa_tokens_against_the_jwks,
    super::an_rp_verifies_es256_and_eddsa_tokens_against_the_jwks
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_credentials_tokens_are_signed_with_the_deployments_algorithm() {
    let app = spawn(Backend::Sqlite, None, |s| {
        s.signing_algs = "EdDSA".into();
        s.access_token_signing_alg = "EdDSA".into();
    })
    .await;
    let c = app
        .register(
            portico_oidc::model::ClientType::Confidential,
            portico_oidc::model::AuthMethod::ClientSecretBasic,
            &["client_credentials"],
        )
        .await;
    let t = json(token_request(&app, &c, &[("grant_type", "client_credentials")]).await).await;
    let token = t["access_token"].as_str().unwrap();
    assert_eq!(jwt_header(token)["alg"], "EdDSA");
    assert_eq!(
        verify_access_token(&app, token).await["sub"],
        c.client_id.as_str()
    );
    // Portico itself accepts it (introspection checks the signature).
    let r = reqwest::Client::new()
        .post(app.url("/introspect"))
        .basic_auth(&c.client_id, c.secret.as_deref())
        .form(&[("token", token)])
        .send()
        .await
        .unwrap();
    assert_eq!(json(r).await["active"], true);
}

#[tokio::test]
async fn an_unknown_or_disabled_id_token_algorithm_is_refused_with_its_name() {
    let app = spawn_app(Backend::Sqlite).await;
    let base = json!({
        "displayName": "Algorithms",
        "clientType": "confidential",
        "redirectUris": ["https://app.example/cb"],
    });
    for (alg, says) in [
        (
            "HS256",
            "'HS256' is not a signing algorithm Portico supports",
        ),
        ("none", "'none' is not a signing algorithm Portico supports"),
        (
            "es256",
            "'es256' is not a signing algorithm Portico supports",
        ),
        ("ES256", "ES256 is not enabled on this deployment"),
    ] {
        let mut body = base.clone();
        body["idTokenSignedResponseAlg"] = json!(alg);
        let (status, answer) = app.api("POST", "/api/v1/applications", Some(body)).await;
        assert_eq!(status, 400, "{alg}: {answer}");
        assert!(answer.to_string().contains(says), "{alg}: {answer}");
    }
    // Patching an existing application is checked alike.
    let (status, created) = app.api("POST", "/api/v1/applications", Some(base)).await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["idTokenSignedResponseAlg"], "RS256");
    let id = created["id"].as_str().unwrap();
    let (status, answer) = app
        .api(
            "PATCH",
            &format!("/api/v1/applications/{id}"),
            Some(json!({"idTokenSignedResponseAlg": "EdDSA"})),
        )
        .await;
    assert_eq!(status, 400, "{answer}");
    assert!(
        answer.to_string().contains("EdDSA is not enabled"),
        "{answer}"
    );
}
