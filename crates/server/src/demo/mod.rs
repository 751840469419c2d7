//! `portico demo`: the guest journey on one machine in one command
//! (PRODUCT.md §1 journey 1, issue 14).
//!
//! Three listeners on loopback, bound before anything is built so that each
//! issuer names its real port:
//!
//! | port      | what                                                          |
//! |-----------|---------------------------------------------------------------|
//! | base      | Contoso's Portico, `http://localhost:<base>`: the inviting organization |
//! | base + 1  | Fabrikam's Portico, `http://127.0.0.1:<base+1>`: the guest's home IdP |
//! | base + 2  | the sample app and the mailbox, `http://localhost:<base+2>`   |
//!
//! Fabrikam is served under `127.0.0.1` and Contoso under `localhost` on
//! purpose: browsers scope cookies by host, not by port, so two Porticos on
//! one host would overwrite each other's session cookies.
//!
//! Both organizations keep their data (SQLite, master key, outbox) under the
//! demo folder, which starts fresh on every run. Only a folder that is empty
//! or that a demo made (it holds [`MARKER`]) is ever cleared.

mod mailbox;
mod sample_app;
mod seed;

use crate::settings::Settings;
use crate::{App, ops};
use anyhow::{Context, bail};
use portico_core::{Clock, SystemClock};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

pub use seed::{Credentials, TRIALS_APP, TRIALS_GROUP};

/// The file that marks a folder as a demo's own, safe to clear.
pub const MARKER: &str = ".portico-demo";

/// Where the demo runs.
#[derive(Debug, Clone)]
pub struct DemoConfig {
    /// The demo folder (cleared on start; see [`MARKER`]).
    pub dir: PathBuf,
    /// Contoso's port; Fabrikam's is the next one, the sample app's the one
    /// after. `None`: any three free ports (tests).
    pub base_port: Option<u16>,
}

/// A running demo: two organizations and the sample app.
pub struct Demo {
    pub contoso: App,
    pub fabrikam: App,
    pub contoso_url: String,
    pub fabrikam_url: String,
    pub app_url: String,
    pub credentials: Credentials,
    tasks: Vec<JoinHandle<()>>,
}

impl Drop for Demo {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

impl Demo {
    /// Clears the folder, builds and seeds both organizations, and starts
    /// serving all three ports in the background.
    pub async fn start(config: DemoConfig) -> anyhow::Result<Demo> {
        prepare_dir(&config.dir)?;
        let [contoso_l, fabrikam_l, app_l] = bind(config.base_port).await?;
        let contoso_url = format!("http://localhost:{}", port(&contoso_l)?);
        let fabrikam_url = format!("http://127.0.0.1:{}", port(&fabrikam_l)?);
        let app_url = format!("http://localhost:{}", port(&app_l)?);
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);

        let fabrikam = App::build(
            org_settings(
                &config.dir,
                "fabrikam",
                "Fabrikam",
                &fabrikam_url,
                &fabrikam_l,
            )?,
            clock.clone(),
        )
        .await
        .context("cannot start Fabrikam's Portico")?;
        let contoso = App::build(
            org_settings(&config.dir, "contoso", "Contoso", &contoso_url, &contoso_l)?,
            clock,
        )
        .await
        .context("cannot start Contoso's Portico")?;
        let seeded = seed::seed(&contoso, &fabrikam, &app_url).await?;

        let mut tasks = vec![
            serve(contoso.clone(), contoso_l, "Contoso"),
            serve(fabrikam.clone(), fabrikam_l, "Fabrikam"),
        ];
        let sample = sample_app::SampleApp::new(sample_app::SampleAppConfig {
            issuer: contoso_url.clone(),
            base_url: app_url.clone(),
            client_id: seeded.app_client_id.clone(),
            client_secret: seeded.app_client_secret.clone(),
            outboxes: vec![
                ("Contoso".into(), contoso.settings.mail_config().outbox_dir),
                (
                    "Fabrikam".into(),
                    fabrikam.settings.mail_config().outbox_dir,
                ),
            ],
        });
        tasks.push(tokio::spawn(async move {
            if let Err(e) = axum::serve(app_l, sample.router()).await {
                tracing::error!(error = ?e, "the sample app stopped");
            }
        }));
        Ok(Demo {
            contoso,
            fabrikam,
            contoso_url,
            fabrikam_url,
            app_url,
            credentials: seeded.credentials,
            tasks,
        })
    }

    /// What `portico demo` prints: the addresses, the sign-ins, and the
    /// five steps of the guest journey.
    pub fn instructions(&self) -> String {
        let c = &self.credentials;
        format!(
            "\
Portico demo is running (Ctrl-C stops it; data in a fresh folder each run).

  Contoso (the inviting organization)   {contoso}
  Fabrikam (the guest's home IdP)        {fabrikam}
  Contoso Trials (a sample app)          {app}
  Mailbox (every email both send)        {app}/mail

  Contoso admin:  {admin}  password {admin_pw}
  Fabrikam user:  {guest}  password {guest_pw}
  Admin API:      client {api_id}, secret {api_secret}

Try the guest journey:
  1. Open {contoso}/admin and sign in as {admin}.
  2. Choose Invite: invite {guest}, add her to the group \"{group}\", and keep
     the redirect URL (Contoso's address: guests land on My Apps).
  3. Open the mailbox {app}/mail and follow the invitation link.
  4. Continue to Fabrikam, sign in as {guest}, accept both consent pages, and
     set up an authenticator app (Contoso requires MFA of guests; the page
     shows a QR code and the key for any TOTP app).
  5. On My Apps, open {trials}: it signs Alice in through Contoso, as a guest.
",
            contoso = self.contoso_url,
            fabrikam = self.fabrikam_url,
            app = self.app_url,
            admin = c.admin_email,
            admin_pw = c.admin_password,
            guest = c.guest_email,
            guest_pw = c.guest_password,
            api_id = c.api_client_id,
            api_secret = c.api_client_secret,
            group = seed::TRIALS_GROUP,
            trials = seed::TRIALS_APP,
        )
    }
}

/// `portico demo`: starts, prints the instructions, runs until Ctrl-C.
pub async fn run(config: DemoConfig) -> anyhow::Result<()> {
    let demo = Demo::start(config).await?;
    println!("{}", demo.instructions());
    ops::shutdown_signal().await;
    drop(demo);
    Ok(())
}

fn org_settings(
    dir: &Path,
    name: &str,
    organization: &str,
    issuer: &str,
    listener: &TcpListener,
) -> anyhow::Result<Settings> {
    Ok(Settings {
        bind: listener.local_addr()?.to_string(),
        issuer: issuer.into(),
        data_dir: dir.join(name),
        organization_name: organization.into(),
        mail_from: format!("{organization} <no-reply@{name}.example>"),
        // Both organizations run on loopback: Contoso must reach Fabrikam.
        federation_allow_private_networks: true,
        ..Settings::default()
    })
}

fn serve(app: App, listener: TcpListener, name: &'static str) -> JoinHandle<()> {
    tokio::spawn(async move {
        if let Err(e) = app.serve(listener).await {
            tracing::error!(error = ?e, organization = name, "server stopped");
        }
    })
}

fn port(l: &TcpListener) -> anyhow::Result<u16> {
    Ok(l.local_addr()?.port())
}

/// Three listeners on loopback: `base`, `base+1`, `base+2`, or three free ports.
async fn bind(base: Option<u16>) -> anyhow::Result<[TcpListener; 3]> {
    let mut out = Vec::with_capacity(3);
    for i in 0..3u16 {
        let port = match base {
            Some(b) => b
                .checked_add(i)
                .context("the base port leaves no room for three ports")?,
            None => 0,
        };
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let l = TcpListener::bind(addr)
            .await
            .with_context(|| format!("cannot listen on {addr} (pick another with --port)"))?;
        out.push(l);
    }
    out.try_into()
        .map_err(|_| anyhow::anyhow!("three listeners expected"))
}

/// Makes `dir` an empty demo folder: creates it, or clears one a demo made.
/// A non-empty folder without the marker is someone else's: refused.
fn prepare_dir(dir: &Path) -> anyhow::Result<()> {
    if dir.exists() {
        let empty = std::fs::read_dir(dir)
            .with_context(|| format!("cannot read {}", dir.display()))?
            .next()
            .is_none();
        if !empty && !dir.join(MARKER).exists() {
            bail!(
                "{} is not empty and was not made by `portico demo`; pick another folder with --dir",
                dir.display()
            );
        }
        std::fs::remove_dir_all(dir)
            .with_context(|| format!("cannot clear the demo folder {}", dir.display()))?;
    }
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    std::fs::write(
        dir.join(MARKER),
        "Made by `portico demo`, which clears this folder on every start.\n",
    )?;
    Ok(())
}
