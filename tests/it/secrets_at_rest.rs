//! Secrets at rest (issue 10): a database dump alone holds no signing key,
//! upstream client secret or pepper; the master key outside the database
//! opens them, a different key refuses to start, and a rotation re-seals.

use portico::commands;
use portico::settings::SecretSetting;
use portico::{App, Settings};
use portico_core::{Clock, ManualClock, MasterKey};
use portico_federation::{IdpInput, IdpRepo};
use portico_oidc::store::KeyStore;
use portico_tests::{Backend, TestApp, spawn_app};
use std::sync::Arc;

const UPSTREAM_SECRET: &str = "fabrikam-upstream-client-secret-9f3k";

async fn add_idp(app: &TestApp) -> uuid::Uuid {
    let input: IdpInput = serde_json::from_value(serde_json::json!({
        "displayName": "Fabrikam",
        "issuer": "https://login.fabrikam.example",
        "clientId": "portico",
        "clientSecret": UPSTREAM_SECRET,
        "domains": ["fabrikam.example"],
    }))
    .unwrap();
    let idp = input.validate(app.clock.now()).unwrap();
    let audit = portico_directory::AuditEntry::new(
        app.clock.now(),
        &portico_directory::Actor::system("test"),
        "Add identity provider",
        "IdentityProviderManagement",
        "IdentityProvider",
        idp.id,
        "Fabrikam",
    );
    app.server
        .app
        .storage
        .create_idp(&idp, &audit)
        .await
        .unwrap();
    idp.id
}

/// Everything the database holds, as an operator's backup would: the SQLite
/// files byte for byte, or `pg_dump` of the PostgreSQL database.
fn dump(app: &TestApp) -> String {
    match app.backend {
        Backend::Sqlite => ["portico.db", "portico.db-wal"]
            .iter()
            .filter_map(|f| std::fs::read(app.data_dir.join(f)).ok())
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .collect(),
        Backend::Postgres => {
            let out = std::process::Command::new("pg_dump")
                .arg(&app.database_url)
                .output()
                .expect("pg_dump runs");
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            String::from_utf8(out.stdout).unwrap()
        }
    }
}

async fn restart(app: &TestApp, adjust: impl FnOnce(&mut Settings)) -> anyhow::Result<App> {
    let mut settings = app.server.app.settings.clone();
    adjust(&mut settings);
    App::build(settings, Arc::new(ManualClock::starting_now())).await
}

async fn a_dump_holds_no_secret_and_only_the_master_key_opens_them(backend: Backend) {
    let app = spawn_app(backend).await;
    let idp_id = add_idp(&app).await;
    let pepper = app
        .server
        .app
        .storage
        .server_secret("secret_hash_key", || unreachable!())
        .await
        .unwrap();
    let pem = app.server.app.storage.list_keys().await.unwrap()[0]
        .private_pem
        .clone();
    assert!(pem.contains("PRIVATE KEY"));

    let dump = dump(&app);
    assert!(
        !dump.contains("PRIVATE KEY"),
        "a PEM private key is in the dump"
    );
    assert!(
        !dump.contains(UPSTREAM_SECRET),
        "the upstream secret is in the dump"
    );
    assert!(!dump.contains(&pepper), "the pepper is in the dump");
    assert!(dump.contains("v2."), "the sealed values are");

    // A restart with the same key opens everything.
    let same = restart(&app, |_| {}).await.unwrap();
    assert_eq!(same.storage.list_keys().await.unwrap()[0].private_pem, pem);
    let idp = same.storage.find_idp(idp_id).await.unwrap().unwrap();
    assert_eq!(idp.client_secret, UPSTREAM_SECRET);

    // A different key refuses to start, with a message (not a panic).
    let other = MasterKey::generate().encode();
    let err = restart(&app, |s| s.master_key = Some(SecretSetting(other.clone())))
        .await
        .err()
        .expect("a different master key refuses to start");
    let msg = format!("{err:#}");
    assert!(msg.contains("master key"), "{msg}");
}

portico_tests::both_backends!(
    dump_holds_no_secret,
    super::a_dump_holds_no_secret_and_only_the_master_key_opens_them
);

async fn reseal_moves_every_secret_to_the_new_key_and_the_old_one_is_no_longer_needed(
    backend: Backend,
) {
    let app = spawn_app(backend).await;
    let idp_id = add_idp(&app).await;
    let old = app.server.app.settings.master_key.clone();
    let new = Some(SecretSetting(MasterKey::generate().encode()));
    // The new key alone does not open what the old one sealed.
    assert!(restart(&app, |s| s.master_key = new.clone()).await.is_err());
    let rotating = restart(&app, |s| {
        s.master_key = new.clone();
        s.master_key_previous = old.clone();
    })
    .await
    .unwrap();
    let report = commands::secrets_reseal(&rotating).await.unwrap();
    assert!(report["resealed"].as_u64().unwrap() >= 3, "{report}");
    assert_eq!(report["sealed"], 0);
    let again = commands::secrets_reseal(&rotating).await.unwrap();
    assert_eq!(again["resealed"], 0, "running it again changes nothing");

    let rotated = restart(&app, |s| s.master_key = new.clone()).await.unwrap();
    let idp = rotated.storage.find_idp(idp_id).await.unwrap().unwrap();
    assert_eq!(idp.client_secret, UPSTREAM_SECRET);
    assert!(
        rotated.storage.list_keys().await.unwrap()[0]
            .private_pem
            .contains("PRIVATE KEY")
    );
    assert!(restart(&app, |s| s.master_key = old.clone()).await.is_err());
}

portico_tests::both_backends!(
    reseal_after_rotation,
    super::reseal_moves_every_secret_to_the_new_key_and_the_old_one_is_no_longer_needed
);
