//! The `portico` command line.

use anyhow::Context;
use clap::{ArgGroup, Parser, Subcommand};
use portico::commands::{self, AppAdd};
use portico::idp_cli::{self, BadInput, IdpAdd};
use portico::invite_cli::{self, InviteOne};
use portico::{App, Settings};
use portico_core::SystemClock;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

#[derive(Parser)]
#[command(
    name = "portico",
    version,
    about = "Portico: an OpenID Connect provider for B2B guest collaboration"
)]
struct Cli {
    /// A TOML configuration file; PORTICO_* environment variables override it.
    #[arg(long, global = true)]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server.
    Serve,
    /// Try the guest journey on this machine: Contoso's and Fabrikam's
    /// Portico, a sample app and a mailbox on three loopback ports, seeded,
    /// with the steps printed. Starts fresh on every run.
    Demo {
        /// Contoso's port; Fabrikam gets the next one, the sample app the one after.
        #[arg(long, default_value_t = 8080)]
        port: u16,
        /// The demo's data folder (cleared on every start; only a folder the
        /// demo made, or an empty one, is accepted).
        #[arg(long, default_value = "portico-demo")]
        dir: PathBuf,
    },
    /// Create or update the database schema.
    Migrate,
    /// Create the first admin and a management API client (prints credentials once).
    Bootstrap {
        #[arg(long)]
        admin_email: String,
        #[arg(long)]
        admin_password: String,
    },
    /// Applications (OIDC clients).
    App {
        #[command(subcommand)]
        command: AppCommand,
    },
    /// Invite a guest (`--email`), or many from a CSV file (`--csv`): the
    /// Azure portal's bulk-invite template or plain RFC 4180 CSV.
    Invite {
        #[arg(long, conflicts_with = "csv", required_unless_present = "csv")]
        email: Option<String>,
        #[arg(long)]
        name: Option<String>,
        /// A personal message shown in the invitation email.
        #[arg(long)]
        message: Option<String>,
        /// Where the guest lands after accepting (default: the issuer).
        #[arg(long)]
        redirect_url: Option<String>,
        /// Create the invitation without emailing it (the redeem URL is printed).
        #[arg(long)]
        no_email: bool,
        #[arg(long)]
        csv: Option<PathBuf>,
        /// With --csv: report every row's problems and invite nobody.
        #[arg(long, requires = "csv")]
        dry_run: bool,
    },
    /// Signing keys.
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
    /// Secrets at rest (sealed under the master key).
    Secrets {
        #[command(subcommand)]
        command: SecretsCommand,
    },
    /// Trusted identity providers (OpenID Connect) that guests sign in with.
    Idp {
        #[command(subcommand)]
        command: IdpCommand,
    },
}

#[derive(Subcommand)]
// Parsed once per run: the size of `Add` costs nothing.
#[allow(clippy::large_enum_variant)]
enum IdpCommand {
    /// Trust an OpenID Connect IdP (it is not contacted); prints it as JSON,
    /// with the redirectUri to register at the IdP.
    #[command(group(
        ArgGroup::new("secret")
            .required(true)
            .args(["client_secret_env", "client_secret_file"])
    ))]
    Add {
        /// The name admins and guests see.
        #[arg(long)]
        name: String,
        /// The issuer identifier (https; http only on localhost).
        #[arg(long)]
        issuer: String,
        /// The client ID Portico is registered under at the IdP.
        #[arg(long)]
        client_id: String,
        /// The environment variable holding the client secret, which keeps
        /// it out of shell history.
        #[arg(long, value_name = "VAR")]
        client_secret_env: Option<String>,
        /// A file holding the client secret.
        #[arg(long, value_name = "PATH")]
        client_secret_file: Option<PathBuf>,
        /// An email domain whose guests sign in here (repeat, or separate with commas).
        #[arg(long = "domain", value_name = "DOMAIN")]
        domains: Vec<String>,
        /// A scope to ask for (default: openid profile email).
        #[arg(long = "scope", value_name = "SCOPE")]
        scopes: Vec<String>,
        /// Add it disabled: nobody signs in with it until it is enabled.
        #[arg(long)]
        disabled: bool,
        /// An upstream `amr` value that counts as MFA here (repeat, or separate with commas).
        #[arg(long = "mfa-trust-amr", value_name = "AMR")]
        mfa_trust_amr: Vec<String>,
        /// An upstream `acr` value that counts as MFA here (repeat, or separate with commas).
        #[arg(long = "mfa-trust-acr", value_name = "ACR")]
        mfa_trust_acr: Vec<String>,
        /// How recent the upstream sign-in must be for its MFA to count (minutes, default 10).
        #[arg(long = "mfa-trust-max-age", value_name = "MINUTES")]
        mfa_trust_max_age: Option<i64>,
    },
    /// List the identity providers as a table (or JSON with --json).
    List {
        #[arg(long)]
        json: bool,
    },
    /// Fetch an IdP's discovery document and JWKS and print each step;
    /// exits non-zero when a step fails.
    Test {
        /// The IdP's id or issuer.
        #[arg(value_name = "ID_OR_ISSUER")]
        idp: String,
    },
}

#[derive(Subcommand)]
enum AppCommand {
    /// Register an application; prints its id, clientId and (confidential) clientSecret.
    Add {
        #[arg(long)]
        name: String,
        #[arg(long = "redirect-uri")]
        redirect_uris: Vec<String>,
        #[arg(long = "post-logout-redirect-uri")]
        post_logout_redirect_uris: Vec<String>,
        /// A public client (PKCE, no secret).
        #[arg(long)]
        public: bool,
        /// client_secret_basic (default), client_secret_post or none.
        #[arg(long)]
        auth_method: Option<String>,
        #[arg(long = "grant-type")]
        grant_types: Vec<String>,
        /// Do not require PKCE at /authorize (confidential clients only;
        /// PKCE is required by default, RFC 9700 §2.1.1).
        #[arg(long)]
        no_pkce: bool,
    },
    /// List applications as JSON.
    List,
    /// Replace a confidential application's client secret; prints the new
    /// one once. The old secret stops working at once.
    ResetSecret {
        /// The application's clientId.
        client_id: String,
    },
}

#[derive(Subcommand)]
enum KeysCommand {
    /// Publish a new signing key now; it signs after the publication delay.
    Rotate,
}

#[derive(Subcommand)]
enum SecretsCommand {
    /// Re-seal every secret under PORTICO_MASTER_KEY (after a rotation, with
    /// the old key in PORTICO_MASTER_KEY_PREVIOUS), in one transaction.
    Reseal,
}

/// Logs go to stderr, as text or, with `PORTICO_LOG_FORMAT=json`, one JSON
/// object per line whose `span` carries the request's `request_id`.
fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("PORTICO_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn,sea_orm=warn"));
    // Colours only for a terminal: not in a file or a journal.
    let fmt = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr);
    match std::env::var("PORTICO_LOG_FORMAT").as_deref() {
        Ok("json") => fmt.json().with_current_span(true).init(),
        _ => fmt.init(),
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    // The demo configures its own two organizations.
    if let Command::Demo { port, dir } = &cli.command {
        let config = portico::demo::DemoConfig {
            dir: dir.clone(),
            base_port: Some(*port),
        };
        return portico::demo::run(config).await;
    }
    let settings = Settings::load(cli.config.as_deref())?;
    // A dry run touches nothing, not even the database.
    if let Command::Invite {
        csv: Some(path),
        dry_run: true,
        ..
    } = &cli.command
    {
        println!("{}", invite_cli::dry_run(path)?);
        return Ok(());
    }
    // Every command opens and migrates the database and loads the keys.
    let app = App::build(settings, Arc::new(SystemClock)).await?;
    let output = match cli.command {
        Command::Serve => {
            let bind = app.settings.bind.clone();
            let listener = tokio::net::TcpListener::bind(&bind)
                .await
                .with_context(|| format!("cannot listen on {bind}"))?;
            tracing::info!(issuer = %app.settings.issuer, %bind, database = app.storage.backend_name(), "Portico is listening");
            let storage = app.storage.clone();
            app.serve_until(listener, portico::ops::shutdown_signal())
                .await?;
            // Once the requests in flight and the workers are done: SQLite
            // then leaves no write-ahead log for the next start to read.
            storage.close().await?;
            return Ok(());
        }
        // Ran above, before any database opened.
        Command::Demo { .. } => return Ok(()),
        Command::Migrate => {
            eprintln!("database schema is up to date");
            return Ok(());
        }
        Command::Bootstrap {
            admin_email,
            admin_password,
        } => commands::bootstrap(&app, &admin_email, &admin_password).await?,
        Command::App {
            command: AppCommand::List,
        } => commands::app_list(&app).await?,
        Command::App {
            command: AppCommand::ResetSecret { client_id },
        } => commands::app_reset_secret(&app, &client_id).await?,
        Command::App {
            command:
                AppCommand::Add {
                    name,
                    redirect_uris,
                    post_logout_redirect_uris,
                    public,
                    auth_method,
                    grant_types,
                    no_pkce,
                },
        } => {
            let a = AppAdd {
                name,
                redirect_uris,
                post_logout_redirect_uris,
                public,
                auth_method,
                grant_types,
                no_pkce,
            };
            commands::app_add(&app, a).await?
        }
        Command::Keys {
            command: KeysCommand::Rotate,
        } => commands::keys_rotate(&app).await?,
        Command::Secrets {
            command: SecretsCommand::Reseal,
        } => commands::secrets_reseal(&app).await?,
        Command::Invite {
            csv: Some(path), ..
        } => invite_cli::invite_csv(&app, &path).await?,
        Command::Idp { command } => return idp(&app, command).await,
        Command::Invite {
            email,
            name,
            message,
            redirect_url,
            no_email,
            ..
        } => {
            let one = InviteOne {
                email: email.unwrap_or_default(),
                name,
                message,
                redirect_url,
                send_email: !no_email,
            };
            invite_cli::invite_one(&app, one).await?
        }
    };
    println!("{output}");
    Ok(())
}

async fn idp(app: &App, command: IdpCommand) -> anyhow::Result<()> {
    match command {
        IdpCommand::Add {
            name,
            issuer,
            client_id,
            client_secret_env,
            client_secret_file,
            domains,
            scopes,
            disabled,
            mfa_trust_amr,
            mfa_trust_acr,
            mfa_trust_max_age,
        } => {
            let add = IdpAdd {
                name,
                issuer,
                client_id,
                client_secret_env,
                client_secret_file,
                domains,
                scopes,
                disabled,
                mfa_trust_amr,
                mfa_trust_acr,
                mfa_trust_max_age,
            };
            let v = idp_cli::add(app, add).await?;
            println!("{v}");
            if let Some(uri) = v["redirectUri"].as_str() {
                eprintln!("Register {uri} as a redirect URI at the identity provider.");
            }
        }
        IdpCommand::List { json: true } => println!("{}", idp_cli::list_json(app).await?),
        IdpCommand::List { json: false } => println!("{}", idp_cli::list_table(app).await?),
        IdpCommand::Test { idp } => {
            let (idp, report) = idp_cli::test(app, &idp).await?;
            println!("{}", idp_cli::render_report(&idp, &report));
            if !report.ok {
                anyhow::bail!("the connection test of {} failed", idp.display_name);
            }
        }
    }
    Ok(())
}

#[tokio::main]
async fn main() -> ExitCode {
    init_tracing();
    match run(Cli::parse()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            // Like clap's own usage errors: 2 means "fix the input".
            if e.downcast_ref::<BadInput>().is_some() {
                ExitCode::from(2)
            } else {
                ExitCode::FAILURE
            }
        }
    }
}
