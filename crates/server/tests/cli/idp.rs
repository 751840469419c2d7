//! `portico idp add|list|test` as an operator runs it: the secret comes from
//! an environment variable or a file and is never printed, refused input
//! exits 2 naming the option, and `test` prints each step and fails when the
//! IdP cannot be reached.

use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const SECRET: &str = "upstream-client-secret-0123456789";

fn portico(data_dir: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_portico"));
    c.env_remove("PORTICO_DATABASE_URL")
        .env("PORTICO_DATA_DIR", data_dir)
        .env("PORTICO_ISSUER", "https://id.contoso.example")
        .env("PORTICO_LOG", "warn")
        // The providers these tests run listen on 127.0.0.1.
        .env("PORTICO_FEDERATION_ALLOW_PRIVATE_NETWORKS", "true")
        .env("FABRIKAM_SECRET", SECRET);
    c
}

fn temp_dir() -> PathBuf {
    let d = std::env::temp_dir().join(format!("portico-cli-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn text(out: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn add(dir: &Path, name: &str, issuer: &str, domains: &[&str]) -> Output {
    let mut c = portico(dir);
    c.args([
        "idp",
        "add",
        "--name",
        name,
        "--issuer",
        issuer,
        "--client-id",
        "contoso-portico",
        "--client-secret-env",
        "FABRIKAM_SECRET",
    ]);
    for d in domains {
        c.args(["--domain", d]);
    }
    c.output().unwrap()
}

#[test]
fn idp_add_prints_the_idp_without_its_secret_and_list_shows_it() {
    let dir = temp_dir();
    let out = add(
        &dir,
        "Fabrikam",
        "https://login.fabrikam.example",
        &["fabrikam.example", "Corp.Fabrikam.example"],
    );
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    assert!(!stdout.contains(SECRET) && !stderr.contains(SECRET));
    let v: Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_eq!(v["displayName"], "Fabrikam");
    assert_eq!(v["type"], "OpenIdConnect");
    assert_eq!(v["issuer"], "https://login.fabrikam.example");
    assert_eq!(v["clientId"], "contoso-portico");
    assert_eq!(
        v["redirectUri"],
        "https://id.contoso.example/federation/callback"
    );
    assert_eq!(
        v["domains"],
        json!(["corp.fabrikam.example", "fabrikam.example"])
    );
    assert_eq!(v["enabled"], true);
    assert!(v.get("clientSecret").is_none(), "{v}");
    let id = v["id"].as_str().unwrap();

    let list = portico(&dir).args(["idp", "list"]).output().unwrap();
    let (table, stderr) = text(&list);
    assert!(list.status.success(), "{stderr}");
    assert!(table.contains(id) && table.contains("Fabrikam"), "{table}");
    assert!(table.contains("https://id.contoso.example/federation/callback"));
    let json = portico(&dir)
        .args(["idp", "list", "--json"])
        .output()
        .unwrap();
    let all: Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(all.as_array().unwrap().len(), 1);
    assert_eq!(all[0]["id"], id);
    assert!(!String::from_utf8_lossy(&json.stdout).contains(SECRET));

    // The secret may also come from a file (with the newline editors add).
    let file = dir.join("secret.txt");
    std::fs::write(&file, format!("{SECRET}\n")).unwrap();
    let out = portico(&dir)
        .args(["idp", "add", "--name", "Tailspin", "--issuer"])
        .args(["https://login.tailspin.example", "--client-id", "c"])
        .arg("--client-secret-file")
        .arg(&file)
        .args(["--domain", "tailspin.example", "--disabled"])
        .output()
        .unwrap();
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    assert!(!stdout.contains(SECRET));
    let v: Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_eq!(v["enabled"], false);
}

#[test]
fn refused_input_exits_2_and_names_the_option() {
    let dir = temp_dir();
    let bad = add(&dir, "Bad", "http://login.fabrikam.example", &[]);
    assert_eq!(bad.status.code(), Some(2));
    let (stdout, stderr) = text(&bad);
    assert!(stdout.is_empty());
    assert!(
        stderr.contains("--issuer") && stderr.contains("https"),
        "{stderr}"
    );

    assert!(
        add(
            &dir,
            "Fabrikam",
            "https://a.fabrikam.example",
            &["fabrikam.example"]
        )
        .status
        .success()
    );
    let taken = add(
        &dir,
        "Other",
        "https://b.fabrikam.example",
        &["fabrikam.example"],
    );
    assert_eq!(taken.status.code(), Some(2));
    let (_, stderr) = text(&taken);
    assert!(
        stderr.contains("fabrikam.example") && stderr.contains("already served"),
        "{stderr}"
    );

    let no_var = portico(&dir)
        .args(["idp", "add", "--name", "X", "--issuer", "https://x.example"])
        .args([
            "--client-id",
            "c",
            "--client-secret-env",
            "PORTICO_TEST_UNSET_VAR",
        ])
        .output()
        .unwrap();
    assert_eq!(no_var.status.code(), Some(2));
    assert!(
        text(&no_var)
            .1
            .contains("PORTICO_TEST_UNSET_VAR is not set")
    );

    // No secret at all is a usage error from clap (also 2).
    let no_secret = portico(&dir)
        .args(["idp", "add", "--name", "X", "--issuer", "https://x.example"])
        .args(["--client-id", "c"])
        .output()
        .unwrap();
    assert_eq!(no_secret.status.code(), Some(2));

    let list: Value = serde_json::from_slice(
        &portico(&dir)
            .args(["idp", "list", "--json"])
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    assert_eq!(
        list.as_array().unwrap().len(),
        1,
        "nothing refused was written"
    );

    let unknown = portico(&dir)
        .args(["idp", "test", "https://nobody.example"])
        .output()
        .unwrap();
    assert_eq!(unknown.status.code(), Some(2));
}

#[test]
fn idp_test_fails_with_the_discovery_step_when_the_issuer_is_unreachable() {
    let dir = temp_dir();
    let out = add(&dir, "Down", "http://127.0.0.1:9", &[]);
    assert!(out.status.success(), "{}", text(&out).1);
    let test = portico(&dir)
        .args(["idp", "test", "http://127.0.0.1:9"])
        .output()
        .unwrap();
    let (stdout, stderr) = text(&test);
    assert_eq!(test.status.code(), Some(1), "{stdout}{stderr}");
    assert!(stdout.contains("✗ Discovery"), "{stdout}");
    assert!(stdout.contains("cannot connect"), "{stdout}");
    assert!(stderr.contains("failed"), "{stderr}");
}

#[test]
fn idp_add_refuses_a_loopback_issuer_unless_private_networks_are_allowed() {
    let dir = temp_dir();
    let mut c = portico(&dir);
    c.env_remove("PORTICO_FEDERATION_ALLOW_PRIVATE_NETWORKS");
    c.args([
        "idp",
        "add",
        "--name",
        "Inside",
        "--issuer",
        "http://127.0.0.1:9",
        "--client-id",
        "x",
        "--client-secret-env",
        "FABRIKAM_SECRET",
    ]);
    let out = c.output().unwrap();
    let (stdout, stderr) = text(&out);
    assert!(!out.status.success(), "{stdout}");
    assert!(
        stderr.contains("PORTICO_FEDERATION_ALLOW_PRIVATE_NETWORKS"),
        "{stderr}"
    );
}

/// A tiny OpenID provider: discovery and a JWKS with one RSA public key,
/// served from a thread (one request per connection).
fn serve_discovery() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let issuer = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
    let mut key = josekit::jwk::Jwk::generate_rsa_key(2048)
        .unwrap()
        .to_public_key()
        .unwrap();
    key.set_key_id("k1");
    key.set_algorithm("RS256");
    key.set_key_use("sig");
    let jwks = json!({ "keys": [Value::Object(key.as_ref().clone())] }).to_string();
    let discovery = json!({
        "issuer": issuer,
        "authorization_endpoint": format!("{issuer}/authorize"),
        "token_endpoint": format!("{issuer}/token"),
        "jwks_uri": format!("{issuer}/jwks"),
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "scopes_supported": ["openid", "profile", "email"],
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic"],
    })
    .to_string();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut request_line = String::new();
            if reader.read_line(&mut request_line).is_err() {
                continue;
            }
            // Skip the headers.
            let mut line = String::new();
            while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
                line.clear();
            }
            let path = request_line.split_whitespace().nth(1).unwrap_or("");
            let (status, body) = match path {
                "/.well-known/openid-configuration" => ("200 OK", discovery.as_str()),
                "/jwks" => ("200 OK", jwks.as_str()),
                _ => ("404 Not Found", "{}"),
            };
            let _ = write!(
                stream,
                "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    issuer
}

#[test]
fn idp_test_passes_against_a_provider_with_discovery_and_jwks() {
    let issuer = serve_discovery();
    let dir = temp_dir();
    let out = add(&dir, "Local", &issuer, &["local.example"]);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    let id = serde_json::from_str::<Value>(stdout.trim()).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let test = portico(&dir).args(["idp", "test", &id]).output().unwrap();
    let (stdout, stderr) = text(&test);
    assert!(test.status.success(), "{stdout}{stderr}");
    assert!(
        stdout.contains("✓ Discovery") && stdout.contains("✓ Signing keys"),
        "{stdout}"
    );
    assert!(!stdout.contains('✗'), "{stdout}");
    assert!(stdout.contains("The connection works."), "{stdout}");
}
