//! Starting Portico for a test.

use crate::smtp::SmtpServer;
use portico::commands;
use portico::settings::SecretSetting;
use portico::{RunningServer, Settings};
use portico_core::ManualClock;
use portico_directory::{Actor, NewUser, UserType};
use portico_mail::{MailQueue, MailStatus};
use portico_oidc::clients::NewClient;
use portico_oidc::model::{AuthMethod, ClientType};
use serde_json::Value;
use std::sync::Arc;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

pub struct TestApp {
    pub server: RunningServer,
    pub clock: ManualClock,
    pub issuer: String,
    pub backend: Backend,
    /// The management client from `bootstrap` (every admin permission).
    pub mgmt_client_id: String,
    pub mgmt_client_secret: String,
    pub admin_user_id: String,
    pub data_dir: std::path::PathBuf,
    pub database_url: String,
    /// The SMTP server mail goes to (`spawn_app_with_mail`); without one,
    /// mail is written to the outbox folder in `data_dir`.
    pub smtp: Option<SmtpServer>,
}

/// A registered test application.
#[derive(Debug, Clone)]
pub struct TestClient {
    pub client_id: String,
    pub secret: Option<String>,
    pub redirect_uri: String,
    pub post_logout_redirect_uri: String,
}

pub const USER_EMAIL: &str = "alice@contoso.example";
/// The admin `bootstrap` creates.
pub const ADMIN_EMAIL: &str = "admin@contoso.example";
pub const ADMIN_PASSWORD: &str = "admin password 1";
pub const USER_PASSWORD: &str = "correct horse battery";

/// The master key of every test server (a fixed one, so a second node or a
/// restart on the same database opens its secrets).
pub const TEST_MASTER_KEY: &str = "cG9ydGljby10ZXN0LW1hc3Rlci1rZXktMzItYnl0ZXM=";

/// [`TEST_MASTER_KEY`] as a setting.
pub fn test_master_key() -> Option<SecretSetting> {
    Some(SecretSetting(TEST_MASTER_KEY.into()))
}

fn postgres_admin_url() -> String {
    std::env::var("PORTICO_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

pub async fn spawn_app(backend: Backend) -> TestApp {
    spawn(backend, None, |_| {}).await
}

/// A server whose mail goes through a real SMTP server (aiosmtpd).
pub async fn spawn_app_with_mail(backend: Backend) -> TestApp {
    spawn(backend, Some(SmtpServer::start()), |_| {}).await
}

/// A server whose issuer is `http://localhost:PORT`: browsers accept it as
/// a WebAuthn relying party (an IP address they refuse), so passkeys work.
pub async fn spawn_app_on_localhost(backend: Backend) -> TestApp {
    spawn_as(backend, None, |_| {}, "localhost").await
}

/// A server with adjusted settings (and optionally an SMTP server).
pub async fn spawn(
    backend: Backend,
    smtp: Option<SmtpServer>,
    adjust: impl FnOnce(&mut Settings),
) -> TestApp {
    spawn_as(backend, smtp, adjust, "127.0.0.1").await
}

/// [`spawn`] with the issuer's host named (`127.0.0.1` or `localhost`).
pub async fn spawn_as(
    backend: Backend,
    smtp: Option<SmtpServer>,
    adjust: impl FnOnce(&mut Settings),
    host: &str,
) -> TestApp {
    let data_dir =
        std::env::temp_dir().join(format!("portico-it-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&data_dir).expect("temp dir");
    let database_url = match backend {
        Backend::Sqlite => format!("sqlite://{}?mode=rwc", data_dir.join("portico.db").display()),
        Backend::Postgres => portico_storage::create_test_database(&postgres_admin_url()).await.unwrap_or_else(|e| {
            panic!(
                "PostgreSQL is needed for this test and is not reachable ({e:#}). Start it with \
                 `pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start`, \
                 or point PORTICO_TEST_POSTGRES_URL at one."
            )
        }),
    };
    let mut settings = Settings {
        database_url: Some(database_url.clone()),
        data_dir: data_dir.clone(),
        key_publication_delay_secs: 300,
        organization_name: "Contoso".into(),
        privacy_url: Some("https://contoso.example/privacy".into()),
        smtp_url: smtp.as_ref().map(|s| s.url()),
        mail_from: "Contoso <invites@contoso.example>".into(),
        mail_max_per_second: 1000,
        // The landing page the tests' invitations use.
        invite_redirect_origins: "https://trials.contoso.example".into(),
        // The clean-up runs once at start-up; tests run further rounds themselves.
        cleanup_interval_secs: 86_400,
        backchannel_interval_secs: 86_400,
        master_key: test_master_key(),
        // The tests' upstream IdPs listen on 127.0.0.1.
        federation_allow_private_networks: true,
        ..Settings::default()
    };
    adjust(&mut settings);
    let clock = ManualClock::starting_now();
    let server = RunningServer::start_as(settings, Arc::new(clock.clone()), host)
        .await
        .expect("server starts");
    let boot = commands::bootstrap(&server.app, ADMIN_EMAIL, ADMIN_PASSWORD)
        .await
        .expect("bootstrap");
    let s = |k: &str| boot[k].as_str().expect("bootstrap field").to_string();
    let issuer = server.app.settings.issuer.clone();
    TestApp {
        issuer,
        backend,
        mgmt_client_id: s("clientId"),
        mgmt_client_secret: s("clientSecret"),
        admin_user_id: s("adminUserId"),
        server,
        clock,
        data_dir,
        database_url,
        smtp,
    }
}

impl Drop for TestApp {
    /// Drops the test's PostgreSQL database (forcing its connections closed) and the data folder.
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.data_dir);
        if self.backend == Backend::Postgres {
            let url = self.database_url.clone();
            let _ = std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()?;
                rt.block_on(portico_storage::drop_test_database(
                    &postgres_admin_url(),
                    &url,
                ))
            })
            .join();
        }
    }
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.issuer, path)
    }

    /// A member with the standard test credentials.
    pub async fn create_user(&self, email: &str, password: &str) -> String {
        let u = self
            .server
            .app
            .directory
            .create_user(
                NewUser {
                    display_name: "Alice Example".into(),
                    mail: email.into(),
                    password: Some(password.into()),
                    user_type: UserType::Member,
                    is_admin: false,
                    email_verified: false,
                },
                &Actor::system("test kit"),
            )
            .await
            .expect("user");
        u.id.to_string()
    }

    /// A member whose address an admin vouched for (`emailVerified`), as a
    /// home IdP's users must be for their assertion to prove a mailbox.
    pub async fn create_verified_user(&self, email: &str, password: &str) -> String {
        let id = self.create_user(email, password).await;
        let (status, body) = self
            .api(
                "PATCH",
                &format!("/api/v1/users/{id}"),
                Some(serde_json::json!({"emailVerified": true})),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        id
    }

    pub async fn alice(&self) -> String {
        self.create_user(USER_EMAIL, USER_PASSWORD).await
    }

    /// Registers an application directly through the provider.
    pub async fn register(
        &self,
        client_type: ClientType,
        auth: AuthMethod,
        grants: &[&str],
    ) -> TestClient {
        self.register_with(client_type, auth, grants, None).await
    }

    /// A confidential code + refresh app with a back-channel logout URI.
    pub async fn web_app_with_backchannel(&self, uri: &str) -> TestClient {
        self.register_with(
            ClientType::Confidential,
            AuthMethod::ClientSecretBasic,
            &["authorization_code", "refresh_token"],
            Some(uri.to_string()),
        )
        .await
    }

    async fn register_with(
        &self,
        client_type: ClientType,
        auth: AuthMethod,
        grants: &[&str],
        backchannel_logout_uri: Option<String>,
    ) -> TestClient {
        let redirect_uri = "http://127.0.0.1:9/callback".to_string();
        let post_logout_redirect_uri = "http://127.0.0.1:9/signed-out".to_string();
        let (c, secret) = self
            .server
            .app
            .provider
            .register_client(
                NewClient {
                    display_name: "Contoso Trials".into(),
                    redirect_uris: vec![redirect_uri.clone()],
                    post_logout_redirect_uris: vec![post_logout_redirect_uri.clone()],
                    client_type,
                    token_endpoint_auth_method: Some(auth),
                    grant_types: Some(grants.iter().map(|g| g.to_string()).collect()),
                    backchannel_logout_uri,
                    require_mfa: false,
                    require_pkce: None,
                    app_role_assignment_required: false,
                    group_membership_claims: None,
                    initiate_login_uri: None,
                    logo_uri: None,
                    id_token_signed_response_alg: None,
                    delegated_permissions: None,
                },
                vec![],
                &portico_directory::Actor::system("test kit"),
            )
            .await
            .expect("client");
        TestClient {
            client_id: c.client_id,
            secret,
            redirect_uri,
            post_logout_redirect_uri,
        }
    }

    /// A confidential client_secret_basic app with code + refresh.
    pub async fn web_app(&self) -> TestClient {
        self.register(
            ClientType::Confidential,
            AuthMethod::ClientSecretBasic,
            &["authorization_code", "refresh_token"],
        )
        .await
    }

    /// A public PKCE app.
    pub async fn spa(&self) -> TestClient {
        self.register(
            ClientType::Public,
            AuthMethod::None,
            &["authorization_code", "refresh_token"],
        )
        .await
    }

    /// An admin API token from the management client (client credentials).
    pub async fn admin_token(&self) -> String {
        let resp = reqwest::Client::new()
            .post(self.url("/token"))
            .basic_auth(&self.mgmt_client_id, Some(&self.mgmt_client_secret))
            .form(&[("grant_type", "client_credentials")])
            .send()
            .await
            .expect("token request");
        assert_eq!(resp.status(), 200);
        let v: Value = resp.json().await.expect("json");
        v["access_token"]
            .as_str()
            .expect("access_token")
            .to_string()
    }

    /// An admin API token from the management client narrowed to `scope`
    /// (space-separated permissions).
    pub async fn admin_token_for(&self, scope: &str) -> String {
        let resp = reqwest::Client::new()
            .post(self.url("/token"))
            .basic_auth(&self.mgmt_client_id, Some(&self.mgmt_client_secret))
            .form(&[("grant_type", "client_credentials"), ("scope", scope)])
            .send()
            .await
            .expect("token request");
        assert_eq!(resp.status(), 200);
        let v: Value = resp.json().await.expect("json");
        v["access_token"]
            .as_str()
            .expect("access_token")
            .to_string()
    }

    /// A browser signed in to the admin portal as the bootstrap admin.
    pub async fn portal_admin(&self) -> crate::Browser {
        let b = crate::Browser::new(&self.issuer);
        let hop = b
            .sign_in(b.get("/admin/signin").await, ADMIN_EMAIL, ADMIN_PASSWORD)
            .await;
        assert_eq!(hop.status, 303, "portal sign-in: {}", hop.body);
        // Through /authorize's resume and /admin/callback to the portal.
        let page = b.follow(hop).await;
        assert_eq!(page.status, 200, "portal sign-in: {}", page.body);
        assert!(
            page.body.contains("/admin/signout"),
            "not the portal (an MFA step?): {}",
            page.body
        );
        b
    }

    /// Delivers every message due now (the background worker would, within
    /// its poll interval); returns how many were sent.
    pub async fn deliver_mail(&self) -> u32 {
        self.server
            .app
            .workers
            .mail
            .drain()
            .await
            .expect("mail drain")
            .sent
    }

    /// How many messages are queued and not yet sent (or given up on).
    pub async fn pending_mail(&self) -> u64 {
        MailQueue::count_mail(&self.server.app.storage, MailStatus::Pending)
            .await
            .expect("count pending mail")
    }

    /// Waits until the mail queue holds no pending message, so the background
    /// worker is done with everything queued so far (sent or given up on).
    /// Panics after about 20 s.
    pub async fn settle_mail(&self) {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        loop {
            let pending = self.pending_mail().await;
            if pending == 0 {
                return;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "the mail queue did not settle: {pending} message(s) still pending after 20 s"
            );
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }

    /// `POST /api/v1/invitations` with the management client; the JSON answer.
    pub async fn invite(&self, body: Value) -> (u16, Value) {
        let token = self.admin_token().await;
        let resp = reqwest::Client::new()
            .post(self.url("/api/v1/invitations"))
            .bearer_auth(token)
            .json(&body)
            .send()
            .await
            .expect("invite request");
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap_or(Value::Null))
    }

    /// An admin API call: method, path, optional JSON body → (status, JSON).
    pub async fn api(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        self.api_on(&self.url(""), method, path, body).await
    }

    /// [`TestApp::api`] sent to another node sharing this one's database
    /// (`base`, e.g. [`Node::issuer`]), with this node's admin token.
    pub async fn api_on(
        &self,
        base: &str,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let token = self.admin_token().await;
        let m = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        let mut req = reqwest::Client::new()
            .request(m, format!("{base}{path}"))
            .bearer_auth(token);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.expect("api request");
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap_or(Value::Null))
    }
}

/// Another Portico node on the same database (and the same clock): what a
/// second server behind a load balancer sees. Its data folder is its own.
pub struct Node {
    pub server: RunningServer,
    pub issuer: String,
    /// The node's own data folder, removed with it (`None`: it shares the
    /// first node's, which that node removes).
    own_dir: Option<std::path::PathBuf>,
}

impl TestApp {
    pub async fn second_node(&self) -> Node {
        self.second_node_with(|_| {}).await
    }

    /// [`Self::second_node`] with settings of its own (e.g. a guarded egress).
    pub async fn second_node_with(&self, configure: impl FnOnce(&mut Settings)) -> Node {
        let data_dir =
            std::env::temp_dir().join(format!("portico-node-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&data_dir).expect("temp dir");
        let settings = Settings {
            database_url: Some(self.database_url.clone()),
            data_dir: data_dir.clone(),
            organization_name: "Contoso".into(),
            invite_redirect_origins: "https://trials.contoso.example".into(),
            cleanup_interval_secs: self.server.app.settings.cleanup_interval_secs,
            master_key: self.server.app.settings.master_key.clone(),
            federation_allow_private_networks: true,
            ..Settings::default()
        };
        let mut settings = settings;
        configure(&mut settings);
        let server = RunningServer::start(settings, Arc::new(self.clock.clone()))
            .await
            .expect("second node starts");
        let issuer = format!("http://127.0.0.1:{}", server.addr.port());
        Node {
            server,
            issuer,
            own_dir: Some(data_dir),
        }
    }
}

impl TestApp {
    /// A node behind the same load balancer: the same settings (issuer,
    /// database, secrets, data folder), its own port and its own memory
    /// (key cache, limiter slots). `issuer` of the returned node is its own
    /// address; the tokens it issues name the shared issuer.
    pub async fn peer_node(&self) -> Node {
        let mut settings = self.server.app.settings.clone();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        settings.bind = addr.to_string();
        let app = portico::App::build(settings, Arc::new(self.clock.clone()))
            .await
            .expect("peer node starts");
        let serving = app.clone();
        let handle = tokio::spawn(async move {
            let _ = serving.serve(listener).await;
        });
        Node {
            server: RunningServer { app, addr, handle },
            issuer: format!("http://127.0.0.1:{}", addr.port()),
            own_dir: None,
        }
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        self.server.handle.abort();
        if let Some(dir) = &self.own_dir {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}
