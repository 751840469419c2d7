//! Test databases on both backends, fixtures, and `both_backends!`.

mod fixtures;
mod race;
mod seed;

pub use fixtures::*;
pub use race::race;
pub use seed::*;

use chrono::{DateTime, Duration, DurationRound, Utc};
use portico_core::{Keyring, MasterKey};
use portico_directory::{User, UserType};
use portico_oidc::model::{AuthCode, AuthMethod, Client, ClientType, Grant, RefreshToken};
use portico_oidc::signin_log::{SignInRecord, SignInResult, StepRecord};
use portico_storage::Storage;
use std::path::PathBuf;
use uuid::Uuid;

/// The master key of every test database (secrets at rest are sealed under it).
pub fn test_keyring() -> Keyring {
    let key = MasterKey::parse(&"42".repeat(32)).expect("test master key");
    Keyring::new(&key, &[])
}

const DEFAULT_POSTGRES_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

/// A migrated, empty database that is removed when dropped (also when the test panics).
pub struct TestDb {
    pub storage: Storage,
    /// Where `storage` is connected, for a second connection pool ("another node").
    pub url: String,
    cleanup: Cleanup,
}

impl TestDb {
    /// A second, independent `Storage` on the same database, as another node would have.
    pub async fn connect_again(&self) -> Storage {
        Storage::connect(&self.url)
            .await
            .expect("second connection")
            .with_keyring(test_keyring())
    }
}

enum Cleanup {
    Dir(PathBuf),
    Postgres {
        admin_url: String,
        database_url: String,
    },
}

pub fn postgres_admin_url() -> String {
    std::env::var("PORTICO_TEST_POSTGRES_URL").unwrap_or_else(|_| DEFAULT_POSTGRES_URL.into())
}

/// A fresh SQLite file in its own temp directory.
pub async fn sqlite() -> TestDb {
    let dir = std::env::temp_dir().join(format!("portico-storage-{}", Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let url = format!("sqlite://{}/t.db?mode=rwc", dir.display());
    let storage = Storage::connect(&url)
        .await
        .expect("open sqlite")
        .with_keyring(test_keyring());
    storage.migrate().await.expect("migrate sqlite");
    TestDb {
        storage,
        url,
        cleanup: Cleanup::Dir(dir),
    }
}

/// A fresh PostgreSQL database; fails (never skips) when PostgreSQL is down.
pub async fn postgres() -> TestDb {
    let admin_url = postgres_admin_url();
    let database_url = portico_storage::create_test_database(&admin_url)
        .await
        .unwrap_or_else(|e| {
            panic!(
                "PostgreSQL is needed for this test and is not reachable ({e:#}). Start it with \
             `pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start`, \
             or set PORTICO_TEST_POSTGRES_URL to an admin URL of a running server."
            )
        });
    let cleanup = Cleanup::Postgres {
        admin_url,
        database_url: database_url.clone(),
    };
    let storage = Storage::connect(&database_url)
        .await
        .expect("open postgres")
        .with_keyring(test_keyring());
    let db = TestDb {
        storage,
        url: database_url,
        cleanup,
    };
    db.storage.migrate().await.expect("migrate postgres");
    db
}

impl Drop for TestDb {
    fn drop(&mut self) {
        match &self.cleanup {
            Cleanup::Dir(dir) => {
                let _ = std::fs::remove_dir_all(dir);
            }
            Cleanup::Postgres {
                admin_url,
                database_url,
            } => {
                // Drop runs inside the test's runtime: use a thread with its own.
                let (admin_url, database_url) = (admin_url.clone(), database_url.clone());
                let _ = std::thread::spawn(move || {
                    let rt = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()?;
                    rt.block_on(portico_storage::drop_test_database(
                        &admin_url,
                        &database_url,
                    ))
                })
                .join();
            }
        }
    }
}

/// Generates `sqlite::<case>` and `postgres::<case>` tests, each calling
/// `<case>(&Storage)` on a fresh database of that backend.
#[macro_export]
macro_rules! both_backends {
    ($($case:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $case() {
                    let db = $crate::common::sqlite().await;
                    super::$case(&db.storage).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $case() {
                    let db = $crate::common::postgres().await;
                    super::$case(&db.storage).await;
                }
            )*
        }
    };
}

/// Like [`both_backends!`], but each case gets the whole `&TestDb` (for a
/// second connection to the same database).
#[macro_export]
macro_rules! both_backends_db {
    ($($case:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $case() {
                    let db = $crate::common::sqlite().await;
                    super::$case(&db).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $case() {
                    let db = $crate::common::postgres().await;
                    super::$case(&db).await;
                }
            )*
        }
    };
}

/// A fixed instant, truncated to what both backends store (microseconds).
pub fn t0() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-11-21T10:00:00.123456Z")
        .expect("time")
        .with_timezone(&Utc)
}

pub fn micros(t: DateTime<Utc>) -> DateTime<Utc> {
    t.duration_trunc(Duration::microseconds(1)).expect("trunc")
}

pub fn user(mail: &str) -> User {
    User {
        id: Uuid::now_v7(),
        display_name: "Alice Example".into(),
        mail: mail.into(),
        user_type: UserType::Member,
        account_enabled: true,
        is_admin: false,
        guest_inviter: false,
        email_verified: false,
        password_hash: Some("$argon2id$fake".into()),
        external_user_state: None,
        external_user_state_changed_at: None,
        identities: vec![],
        access_expires_at: None,
        sponsor: None,
        created_at: t0(),
        updated_at: t0(),
    }
}

pub fn client(client_id: &str) -> Client {
    Client {
        id: Uuid::now_v7(),
        client_id: client_id.into(),
        secret_hash: Some("hash".into()),
        display_name: "Test app".into(),
        client_type: ClientType::Confidential,
        auth_method: AuthMethod::ClientSecretBasic,
        redirect_uris: vec!["https://app.example/cb".into()],
        post_logout_redirect_uris: vec![],
        grant_types: vec!["authorization_code".into(), "refresh_token".into()],
        backchannel_logout_uri: None,
        require_mfa: false,
        first_party: false,
        require_pkce: true,
        permissions: vec![],
        delegated_permissions: vec![],
        app_role_assignment_required: false,
        group_membership_claims: Default::default(),
        initiate_login_uri: None,
        logo_uri: None,
        id_token_signed_response_alg: None,
        created_at: t0(),
    }
}

pub fn grant(client_id: &str, user_id: Option<Uuid>) -> Grant {
    Grant {
        id: Uuid::new_v4(),
        client_id: client_id.into(),
        user_id,
        scope: "openid profile".into(),
        auth_time: Some(t0()),
        amr: vec!["pwd".into()],
        acr: None,
        idp: None,
        sid: Some("sid-1".into()),
        claims: Some(serde_json::json!({"userinfo": {"email": null}})),
        created_at: t0(),
        revoked_at: None,
    }
}

pub fn code(g: &Grant, code_hash: &str) -> AuthCode {
    AuthCode {
        code_hash: code_hash.into(),
        grant_id: g.id,
        client_id: g.client_id.clone(),
        redirect_uri: "https://app.example/cb".into(),
        nonce: Some("n-0S6_WzA2Mj".into()),
        code_challenge: None,
        created_at: t0(),
        expires_at: t0() + Duration::minutes(1),
        consumed_at: None,
    }
}

pub fn refresh(g: &Grant, token_hash: &str) -> RefreshToken {
    RefreshToken {
        token_hash: token_hash.into(),
        grant_id: g.id,
        client_id: g.client_id.clone(),
        created_at: t0(),
        expires_at: t0() + Duration::days(30),
        consumed_at: None,
    }
}

/// A sign-in of `user_id` at `client_id` ending in `result`, at `t0`, with a
/// password step (and the failure fields when it did not succeed).
pub fn sign_in(client_id: &str, user_id: Option<Uuid>, result: SignInResult) -> SignInRecord {
    let ok = result == SignInResult::Success;
    SignInRecord {
        id: Uuid::now_v7(),
        created_at: t0(),
        user_id,
        user_principal_name: user_id.map(|_| "alice@contoso.example".into()),
        user_display_name: user_id.map(|_| "Alice Example".into()),
        client_id: client_id.into(),
        app_display_name: "Test app".into(),
        home_idp: None,
        ip_address: Some("192.0.2.10".into()),
        user_agent: Some("Mozilla/5.0 (test)".into()),
        steps: vec![StepRecord {
            method: "password".into(),
            at: t0(),
            amr: Some("pwd".into()),
        }],
        amr: if ok { vec!["pwd".into()] } else { vec![] },
        acr: ok.then(|| "urn:portico:acr:pwd".into()),
        result,
        failure_reason: (!ok).then(|| "invalid_credentials".into()),
        failure_message: (!ok).then(|| "The email or password is incorrect.".into()),
        correlation_id: Uuid::new_v4().to_string(),
        platform: None,
        country: None,
        applied_policies: vec![],
    }
}
