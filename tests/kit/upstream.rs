//! A real third-party OpenID provider as the upstream ("home") IdP of the
//! federation tests: npm `oidc-provider` (panva), run by Node from
//! `tests/upstream/upstream.mjs`. Portico talks to it exactly as to any
//! production OpenID provider (discovery, authorization code + PKCE, token,
//! userinfo, JWKS); a test drives its sign-in pages with the kit's [`Browser`].
//! Nothing here is Portico-specific.
//!
//! Needs Node.js 20+ and `npm ci --prefix tests/upstream` (`./test` does both).

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use serde::Serialize;
use url::Url;

use crate::{Browser, Hop};

const INSTALL_HINT: &str = "the upstream OpenID provider needs Node.js and its packages: \
     apt-get install nodejs npm && (cd tests/upstream && npm ci), or run ./test, which installs it all";

/// The password typed into the upstream's sign-in form (its development
/// interactions accept any).
pub const UPSTREAM_PASSWORD: &str = "any password";

/// A relying party registered at the upstream (Portico, in the federation
/// tests). Its secret works with `client_secret_basic` and `client_secret_post`;
/// PKCE (S256) is required.
#[derive(Debug, Clone, Serialize)]
pub struct UpstreamClient {
    pub client_id: String,
    pub client_secret: String,
    pub redirect_uris: Vec<String>,
}

/// A person at the upstream. `sub` is also what they type as login; the other
/// claims go to the ID token and to userinfo (scopes `email` and `profile`).
/// `amr` and `acr`, when set, are what their sign-in asserts in the ID token
/// (as a home IdP that did MFA would); every ID token has `auth_time`.
#[derive(Debug, Clone, Default, Serialize)]
pub struct UpstreamAccount {
    pub sub: String,
    pub email: String,
    pub email_verified: bool,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub amr: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub acr: Option<String>,
}

#[derive(Serialize)]
struct UpstreamConfig<'a> {
    clients: &'a [UpstreamClient],
    accounts: &'a [UpstreamAccount],
}

/// `oidc-provider` on a free 127.0.0.1 port (plain http); killed when dropped.
/// Its stdin is a pipe from this process, so it also exits if the test
/// process dies without dropping it.
pub struct NodeOidcProvider {
    /// `http://127.0.0.1:PORT`, exactly as in its discovery document and tokens.
    pub issuer: String,
    child: Child,
    log: PathBuf,
}

impl NodeOidcProvider {
    /// Starts the provider with these clients and accounts and returns once it
    /// listens. Panics, naming how to install it, if Node.js or the npm
    /// packages are missing.
    pub fn start(clients: &[UpstreamClient], accounts: &[UpstreamAccount]) -> Self {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("upstream");
        assert!(
            dir.join("node_modules/oidc-provider").is_dir(),
            "npm oidc-provider is not installed in {}; {INSTALL_HINT}",
            dir.display()
        );
        let config = serde_json::to_string(&UpstreamConfig { clients, accounts })
            .expect("serialize the upstream config");
        let log = std::env::temp_dir().join(format!(
            "portico-upstream-{}.log",
            uuid::Uuid::new_v4().simple()
        ));
        let stderr = std::fs::File::create(&log).expect("create the upstream log");
        let mut child = Command::new("node")
            .arg(dir.join("upstream.mjs"))
            .current_dir(&dir)
            .env("UPSTREAM_CONFIG", config)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run node ({e}); {INSTALL_HINT}"));

        // The first stdout line is {"issuer": ...}; a thread reads it (so a hung
        // process cannot hang the test) and then drains the pipe until exit.
        let stdout = child.stdout.take().expect("stdout is piped");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            let mut line = String::new();
            let _ = reader.read_line(&mut line);
            let _ = tx.send(line);
            let _ = std::io::copy(&mut reader, &mut std::io::sink());
        });
        let mut provider = Self {
            issuer: String::new(),
            child,
            log,
        };
        let line = rx
            .recv_timeout(Duration::from_secs(30))
            .unwrap_or_else(|_| {
                panic!(
                    "oidc-provider printed no issuer within 30 s{}",
                    provider.output()
                )
            });
        let parsed: serde_json::Value = serde_json::from_str(line.trim()).unwrap_or_else(|_| {
            panic!(
                "oidc-provider did not start: stdout {line:?}{}",
                provider.output()
            )
        });
        provider.issuer = parsed["issuer"]
            .as_str()
            .unwrap_or_else(|| panic!("no issuer in {line:?}"))
            .to_string();
        provider
    }

    /// `issuer` + `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.issuer)
    }

    /// Its exit status (if it exited) and everything it wrote to stderr, for
    /// panic messages.
    fn output(&mut self) -> String {
        let status = match self.child.try_wait() {
            Ok(Some(status)) => format!("exited ({status})"),
            _ => "still running".to_string(),
        };
        let log = std::fs::read_to_string(&self.log).unwrap_or_default();
        format!("\nnode {status}; stderr:\n{log}\n{INSTALL_HINT}")
    }
}

impl Drop for NodeOidcProvider {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.log);
    }
}

/// Signs `login` (an account's `sub`) in at the upstream, starting from the
/// absolute authorization URL a relying party sent the browser to: walks
/// oidc-provider's sign-in page (fields `prompt=login`, `login`, `password`)
/// and consent page (`prompt=consent`, "Continue") as they come, following the
/// upstream's redirects, and returns the first redirect that leaves the
/// upstream (normally the relying party's `redirect_uri?code=…&state=…&iss=…`,
/// or its error response), as an absolute URL. If the browser already holds an
/// upstream session and grant, no page is shown and `login` is not used.
/// Panics with the page on anything else.
pub async fn sign_in_at_upstream(browser: &Browser, authorize_url: &str, login: &str) -> String {
    let mut here = Url::parse(authorize_url)
        .unwrap_or_else(|e| panic!("not an absolute URL ({e}): {authorize_url}"));
    let upstream = here.origin();
    let mut hop = browser.get(here.as_str()).await;
    for _ in 0..20 {
        if hop.status.is_redirection() {
            let location = hop
                .location
                .as_deref()
                .unwrap_or_else(|| panic!("{} from {here} without a Location", hop.status));
            let next = here
                .join(location)
                .unwrap_or_else(|e| panic!("bad Location {location:?} from {here}: {e}"));
            if next.origin() != upstream {
                return next.to_string();
            }
            here = next;
            hop = browser.get(here.as_str()).await;
            continue;
        }
        let prompt = if hop.status.is_success() {
            dev_interaction_prompt(&hop.body)
        } else {
            None
        };
        let action = match prompt {
            Some(_) => here
                .join(&form_attribute(&hop.body, "action"))
                .unwrap_or_else(|e| panic!("bad form action at {here}: {e}\n{}", hop.body)),
            None => unexpected(&here, &hop),
        };
        hop = match prompt {
            Some("login") => {
                browser
                    .post_form(
                        action.as_str(),
                        &[
                            ("prompt", "login"),
                            ("login", login),
                            ("password", UPSTREAM_PASSWORD),
                        ],
                    )
                    .await
            }
            Some("consent") => {
                browser
                    .post_form(action.as_str(), &[("prompt", "consent")])
                    .await
            }
            _ => unexpected(&here, &hop),
        };
        here = action;
    }
    panic!("more than 20 hops at the upstream, last at {here}");
}

fn unexpected(at: &Url, hop: &Hop) -> ! {
    panic!(
        "unexpected upstream response at {at}: {} {:?}\n{}",
        hop.status, hop.location, hop.body
    )
}

/// `login` or `consent` for oidc-provider's development interaction pages
/// (`<input type="hidden" name="prompt" value="...">`), None for anything else.
fn dev_interaction_prompt(html: &str) -> Option<&'static str> {
    ["login", "consent"]
        .into_iter()
        .find(|prompt| html.contains(&format!("name=\"prompt\" value=\"{prompt}\"")))
}

/// An attribute of the page's first `<form>`, HTML-unescaped.
fn form_attribute(html: &str, name: &str) -> String {
    let form = &html[html
        .find("<form")
        .unwrap_or_else(|| panic!("no form in the upstream page:\n{html}"))..];
    let tag = &form[..form.find('>').unwrap_or(form.len())];
    let marker = format!(" {name}=\"");
    let start = tag
        .find(&marker)
        .unwrap_or_else(|| panic!("no {name} on the upstream form:\n{html}"))
        + marker.len();
    let end = tag[start..]
        .find('"')
        .unwrap_or_else(|| panic!("unterminated {name} on the upstream form:\n{html}"))
        + start;
    tag[start..end]
        .replace("&#x2F;", "/")
        .replace("&#x2f;", "/")
        .replace("&#47;", "/")
        .replace("&#x3D;", "=")
        .replace("&#39;", "'")
        .replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}
