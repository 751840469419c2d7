//! Wiring: storage → provider, directory, UI → one router with the security
//! headers every response carries.

use crate::settings::Settings;
use crate::workers::{BackchannelLogouts, Cleanup, Workers};
use anyhow::Context;
use axum::Router;
use axum::http::{HeaderName, HeaderValue};
use axum::response::IntoResponse;
use axum::routing::get;
use chrono::Duration;
use portico_core::{Clock, Sealer, SecretHasher, random_token};
use portico_directory::import::Importer;
use portico_directory::invitations::{InvitationConfig, Invitations};
use portico_directory::mfa::{Mfa, MfaConfig};
use portico_directory::signin_limits::SignInLimiter;
use portico_directory::{Directory, PasswordSlots};
use portico_federation::{Federation, FederationConfig};
use portico_mail::{MailWorker, Transport};
use portico_oidc::backchannel::BackchannelSender;
use portico_oidc::http::OidcState;
use portico_oidc::signin_log::SignInLog;
use portico_oidc::{OidcConfig, Provider};
use portico_storage::{SealPass, Storage};
use portico_ui::mail::UiMailComposer;
use portico_ui::{UiPages, UiState};
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use tower::{Service, ServiceBuilder};
use tower_http::request_id::{PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;

#[derive(Clone)]
pub struct App {
    pub settings: Settings,
    pub storage: Storage,
    pub provider: Arc<Provider>,
    pub directory: Directory,
    pub invitations: Invitations,
    pub importer: Importer,
    pub federation: Federation,
    pub mfa: Mfa,
    pub workers: Workers,
    /// The sign-in log, read by the admin API and the portal.
    pub sign_in_log: Arc<dyn SignInLog>,
    /// Client address through trusted proxies, and its country (conditional access).
    pub origin: Arc<crate::client_origin::OriginResolver>,
}

impl App {
    /// Connects, migrates, seals the secrets at rest, loads the server
    /// secrets and the signing keys.
    pub async fn build(settings: Settings, clock: Arc<dyn Clock>) -> anyhow::Result<App> {
        let keyring = crate::master_key::load_keyring(&settings)?;
        let url = settings.effective_database_url()?;
        let storage = Storage::connect_with(&url, settings.database_max_connections)
            .await
            .with_context(|| "cannot open the database")?
            .with_clock(clock.clone())
            .with_keyring(keyring);
        storage
            .migrate()
            .await
            .context("database migration failed")?;
        // Before anything reads a secret: plain text from before sealing is
        // sealed, and a wrong master key stops the start here.
        let sealed = storage
            .seal_secrets_at_rest(SealPass::PlainTextOnly)
            .await
            .context("cannot open the secrets at rest")?;
        if sealed.sealed > 0 {
            tracing::info!(count = sealed.sealed, "sealed secrets stored in plain text");
        }
        let pepper = storage
            .server_secret("secret_hash_key", || random_token(32))
            .await?;
        let hasher = SecretHasher::new(pepper.as_bytes());
        // TOTP secrets are sealed under a key derived from the same material
        // (itself sealed under the master key).
        let sealer = Sealer::new(pepper.as_bytes());
        let mut cfg = OidcConfig::new(settings.issuer.clone());
        cfg.key_publication_delay = Duration::seconds(settings.key_publication_delay_secs);
        cfg.signing_algs = settings.signing_alg_list()?;
        cfg.access_token_alg = settings.access_token_alg()?;
        cfg.privacy_version = settings.privacy_version.clone();
        let store = Arc::new(storage.clone());
        let provider = Arc::new(Provider::new(cfg, store.clone(), clock.clone(), hasher));
        provider
            .start()
            .await
            .context("cannot load the signing keys")?;
        let directory = Directory::new(store.clone(), store.clone(), clock.clone())
            .with_password_slots(PasswordSlots::new(settings.password_hash_concurrency));
        let mail_config = settings.mail_config();
        let transport = Transport::from_config(&mail_config).context("invalid mail settings")?;
        let mail = MailWorker::new(store.clone(), transport, clock.clone(), mail_config)
            .context("invalid mail settings")?;
        let mail = Arc::new(mail);
        let invitations = Invitations::new(
            store.clone(),
            store.clone(),
            clock.clone(),
            provider.hasher.clone(),
            Arc::new(UiMailComposer),
            InvitationConfig {
                base_url: settings.issuer.clone(),
                organization: settings.organization_name.clone(),
                privacy_url: settings.privacy_url.clone(),
                expiry: Duration::days(settings.invitation_expiry_days),
                log_links: settings.smtp_url.is_none(),
                redirect_origins: settings.invite_redirect_origins(),
            },
        )
        .with_mail_notifier(mail.notifier());
        let mfa = Mfa::new(
            store.clone(),
            store.clone(),
            clock.clone(),
            provider.hasher.clone(),
            sealer,
            Arc::new(UiMailComposer),
            MfaConfig::new(&settings.organization_name),
        )
        .with_mail_notifier(mail.notifier())
        // The relying party is the issuer (an IP-address issuer: no passkeys,
        // which the provider's config knows by the same rule).
        .with_passkeys(&settings.issuer);
        let mut fed_cfg = FederationConfig::new(&settings.issuer);
        fed_cfg.request_timeout = std::time::Duration::from_secs(settings.federation_timeout_secs);
        fed_cfg.connect_timeout =
            std::time::Duration::from_secs(settings.federation_connect_timeout_secs);
        fed_cfg.allow_private_networks = settings.federation_allow_private_networks;
        let federation = Federation::new(
            store.clone(),
            store.clone(),
            clock.clone(),
            provider.hasher.clone(),
            fed_cfg,
        )
        .context("cannot set up federation")?;
        let sign_in_log: Arc<dyn SignInLog> = store.clone();
        let origin = Arc::new(crate::client_origin::OriginResolver::new(
            crate::client_origin::parse_trusted(&settings.trusted_proxies)?,
            match &settings.geoip_database {
                Some(path) => Some(maxminddb::Reader::open_readfile(path).with_context(|| {
                    format!("cannot open the GeoIP database {}", path.display())
                })?),
                None => None,
            },
        ));
        let importer = Importer::new(store, invitations.clone());
        let workers = Workers {
            mail,
            importer: importer.clone(),
            cleanup: Cleanup::new(
                storage.clone(),
                clock.clone(),
                std::time::Duration::from_secs(settings.cleanup_interval_secs),
            ),
            backchannel: BackchannelLogouts::new(
                storage.clone(),
                clock.clone(),
                BackchannelSender::new(provider.clone()),
                std::time::Duration::from_secs(settings.backchannel_interval_secs),
            ),
        };
        Ok(App {
            settings,
            storage,
            provider,
            directory,
            invitations,
            importer,
            federation,
            mfa,
            workers,
            sign_in_log,
            origin,
        })
    }

    pub fn router(&self) -> Router {
        let oidc = portico_oidc::http::router(OidcState {
            provider: self.provider.clone(),
            pages: Arc::new(UiPages),
        });
        let ui = portico_ui::router(UiState {
            provider: self.provider.clone(),
            directory: self.directory.clone(),
            invitations: self.invitations.clone(),
            importer: self.importer.clone(),
            federation: self.federation.clone(),
            mfa: self.mfa.clone(),
            limiter: Arc::new(SignInLimiter::new(Arc::new(self.storage.clone()))),
            background: Arc::new(self.workers.clone()),
            upload_dir: self.settings.data_dir.join("uploads"),
            sign_in_log: self.sign_in_log.clone(),
            groups: crate::api::groups::service(self),
            join_requests: crate::api::join_requests::service(self),
        });
        let api = crate::api::router(self.clone());
        crate::ops::recorder();
        let ops = Router::new()
            .route("/healthz", get(crate::ops::healthz))
            .route("/readyz", get(crate::ops::readyz))
            .route("/metrics", get(crate::ops::metrics_get))
            .with_state(crate::ops::OpsState {
                storage: self.storage.clone(),
                metrics_token: self.settings.metrics_token.clone(),
            });
        // Everything but the operations endpoints answers 503 at once while
        // the database is unreachable (`/readyz` says so by itself).
        let db_guard = crate::db_guard::DbGuard::new(self.storage.clone());
        Router::new()
            .merge(oidc)
            .merge(ui)
            .merge(api)
            .layer(axum::middleware::from_fn_with_state(
                db_guard,
                crate::db_guard::guard,
            ))
            .merge(ops)
            .route_layer(axum::middleware::from_fn(crate::ops::track_http))
    }

    /// What the server runs: the fast path for discovery and the JWKS
    /// (static_docs.rs, which adds what the layers here would), then the
    /// layers every answer gets, then [`App::router`]. The layers wrap the
    /// router once rather than each of its routes (`Router::layer`), which
    /// would box every route's stack and clone it, an allocation per layer,
    /// on every request.
    pub fn service(
        &self,
    ) -> impl Service<
        axum::extract::Request,
        Response = axum::response::Response,
        Error = Infallible,
        Future: Send,
    > + Clone
    + Send
    + Sync
    + 'static {
        let https = self.settings.issuer.starts_with("https://");
        // First: it installs the metrics recorder the fast path's counters
        // register with.
        let router = self.router();
        let x_request_id = HeaderName::from_static("x-request-id");
        let layered = ServiceBuilder::new()
            // The body the trace layer wraps, back to axum's.
            .map_response(IntoResponse::into_response)
            .layer(SetRequestIdLayer::new(x_request_id.clone(), RequestIds))
            .layer(PropagateRequestIdLayer::new(x_request_id))
            .layer(TraceLayer::new_for_http().make_span_with(request_span))
            .layer(axum::middleware::from_fn_with_state(
                self.origin.clone(),
                crate::client_origin::resolve,
            ))
            // On an https issuer cookies get the `__Host-`/`__Secure-` prefix
            // (cookie_prefix.rs), and HSTS is sent (security_headers.rs).
            .option_layer(
                https.then(|| axum::middleware::from_fn(crate::cookie_prefix::prefix_cookies)),
            )
            .map_response(IntoResponse::into_response)
            .layer(axum::middleware::map_response_with_state(
                crate::security_headers::SecurityHeaders::new(https),
                crate::security_headers::add,
            ))
            .service(router);
        crate::static_docs::StaticDocs::new(self.provider.clone(), https).serve(layered)
    }

    /// Serves on `listener` until the process ends.
    pub async fn serve(self, listener: tokio::net::TcpListener) -> anyhow::Result<()> {
        self.serve_until(listener, std::future::pending()).await
    }

    /// Serves on `listener` until `shutdown` resolves, then stops accepting,
    /// lets the requests in flight finish, and only then stops the workers
    /// (a mail or import round cut short resumes on any node: their leases).
    pub async fn serve_until(
        self,
        listener: tokio::net::TcpListener,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        // Held for as long as the server runs: dropping it stops the workers.
        let workers = self.workers.spawn();
        let service = self.service();
        axum::serve(
            listener,
            axum::ServiceExt::<axum::extract::Request>::into_make_service_with_connect_info::<
                SocketAddr,
            >(service),
        )
        .with_graceful_shutdown(shutdown)
        .await?;
        drop(workers);
        tracing::info!("stopped");
        Ok(())
    }
}

/// `x-request-id` for a request that has none: a random (v4) UUID from the
/// thread's CSPRNG (`rand`), not a `getrandom` system call per request as
/// `MakeRequestUuid` does.
#[derive(Clone, Copy)]
struct RequestIds;

impl tower_http::request_id::MakeRequestId for RequestIds {
    fn make_request_id<B>(
        &mut self,
        _: &axum::http::Request<B>,
    ) -> Option<tower_http::request_id::RequestId> {
        let id = uuid::Builder::from_random_bytes(rand::random()).into_uuid();
        HeaderValue::from_str(&id.to_string())
            .ok()
            .map(tower_http::request_id::RequestId::new)
    }
}

/// The span of one request: method, path and query with every secret
/// redacted (`redact.rs`: codes, `state`, hints, tokens never reach a log)
/// and the request id set by `SetRequestIdLayer`, so every log line of a
/// request (JSON logs included) names it.
fn request_span(req: &axum::http::Request<axum::body::Body>) -> tracing::Span {
    let request_id = req
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    tracing::info_span!(
        "request",
        method = %req.method(),
        path = %crate::redact::loggable_path(req.uri().path()),
        query = %crate::redact::loggable_query(req.uri().query().unwrap_or_default()),
        request_id = %request_id,
    )
}

/// A server started in the background (tests, `portico demo`).
pub struct RunningServer {
    pub app: App,
    pub addr: SocketAddr,
    pub handle: tokio::task::JoinHandle<()>,
}

impl RunningServer {
    /// Binds `127.0.0.1:0` first so the issuer can name the real port.
    pub async fn start(settings: Settings, clock: Arc<dyn Clock>) -> anyhow::Result<RunningServer> {
        Self::start_as(settings, clock, "127.0.0.1").await
    }

    /// Like [`RunningServer::start`], with the issuer named by `host` (still
    /// served on 127.0.0.1): `localhost` gives an issuer browsers accept as
    /// a WebAuthn relying party and treat as a secure context.
    pub async fn start_as(
        mut settings: Settings,
        clock: Arc<dyn Clock>,
        host: &str,
    ) -> anyhow::Result<RunningServer> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        settings.issuer = format!("http://{host}:{}", addr.port());
        settings.bind = addr.to_string();
        let app = App::build(settings, clock).await?;
        let serving = app.clone();
        let handle = tokio::spawn(async move {
            if let Err(e) = serving.serve(listener).await {
                tracing::error!(error = ?e, "server stopped");
            }
        });
        Ok(RunningServer { app, addr, handle })
    }
}

impl Drop for RunningServer {
    fn drop(&mut self) {
        self.handle.abort();
    }
}
