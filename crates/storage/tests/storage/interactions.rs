//! Interactions (stored as JSON) and consents, on SQLite and PostgreSQL.

use crate::common::*;
use chrono::Duration;
use portico_oidc::interaction::Interaction;
use portico_oidc::model::Consent;
use portico_oidc::store::{ConsentStore, InteractionStore};
use portico_storage::Storage;
use uuid::Uuid;

fn interaction(id: &str) -> Interaction {
    let uid = Uuid::new_v4();
    serde_json::from_value(serde_json::json!({
        "id": id,
        "browser_hash": "bh",
        "request": {
            "client_id": "app",
            "redirect": { "uri": "https://app.example/cb", "mode": "Query", "state": "xyz" },
            "scopes": ["openid", "email"],
            "nonce": "n", "code_challenge": "abc",
            "prompt": { "none": false, "login": true, "consent": false, "select_account": false },
            "max_age": 300,
            "claims": { "id_token": { "email": { "essential": true } } },
            "login_hint": "alice", "id_token_hint_sub": null, "ui_locales": "fr", "acr_values": null
        },
        "session": { "id_hash": "h", "sid": "s", "auth": { "user_id": uid, "auth_time": t0(), "amr": ["pwd"] } },
        "login": null,
        "consented": false,
        "error": ["access_denied", "The user cancelled."],
        "created_at": t0(),
        "expires_at": t0() + Duration::minutes(10),
    }))
    .expect("an Interaction from JSON (update this fixture if the struct changed)")
}

async fn interactions_round_trip(s: &Storage) {
    let mut i = interaction("int-1");
    s.create_interaction(&i).await.unwrap();
    let back = s.find_interaction("int-1").await.unwrap().expect("stored");
    assert_eq!(
        serde_json::to_value(&back).unwrap(),
        serde_json::to_value(&i).unwrap()
    );

    i.consented = true;
    i.error = None;
    i.expires_at += Duration::minutes(5);
    s.update_interaction(&i).await.unwrap();
    let back = s.find_interaction("int-1").await.unwrap().expect("stored");
    assert_eq!(
        serde_json::to_value(&back).unwrap(),
        serde_json::to_value(&i).unwrap()
    );

    assert!(s.delete_interaction("int-1").await.unwrap());
    assert!(
        !s.delete_interaction("int-1").await.unwrap(),
        "already gone"
    );
    assert!(s.find_interaction("int-1").await.unwrap().is_none());
}

async fn consents_are_replaced(s: &Storage) {
    let uid = Uuid::new_v4();
    let mut c = Consent {
        user_id: uid,
        client_id: "app".into(),
        scopes: vec!["openid".into()],
        granted_at: t0(),
        privacy_version: None,
    };
    s.save_consent(&c).await.unwrap();
    c.scopes.push("email".into());
    c.granted_at += Duration::minutes(1);
    s.save_consent(&c).await.unwrap();
    let found = s.find_consent(uid, "app").await.unwrap().expect("consent");
    assert_eq!(
        (found.scopes, found.granted_at),
        (c.scopes, micros(c.granted_at))
    );
    assert!(s.find_consent(uid, "other").await.unwrap().is_none());
}

both_backends!(interactions_round_trip, consents_are_replaced);
