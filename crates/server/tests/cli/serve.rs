//! The `portico` binary as an operator runs it: no configuration, env overrides,
//! bootstrap once, app add, keys rotate.

use std::process::{Command, Stdio};
use std::time::Duration;

fn portico(data_dir: &std::path::Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_portico"));
    c.env_remove("PORTICO_DATABASE_URL")
        .env("PORTICO_DATA_DIR", data_dir)
        .env("PORTICO_LOG", "warn");
    c
}

fn temp_dir() -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("portico-cli-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[test]
fn bootstrap_prints_one_json_object_and_refuses_a_second_run() {
    let dir = temp_dir();
    let out = portico(&dir)
        .args([
            "bootstrap",
            "--admin-email",
            "admin@contoso.example",
            "--admin-password",
            "long password",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert_eq!(
        stdout.trim().lines().count(),
        1,
        "exactly one line: {stdout}"
    );
    let v: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
    for k in ["adminUserId", "clientId", "clientSecret"] {
        assert!(v[k].as_str().is_some_and(|s| !s.is_empty()), "{k} in {v}");
    }
    assert!(
        dir.join("portico.db").exists(),
        "SQLite in the data folder by default"
    );
    let again = portico(&dir)
        .args([
            "bootstrap",
            "--admin-email",
            "x@contoso.example",
            "--admin-password",
            "long password",
        ])
        .output()
        .unwrap();
    assert_eq!(again.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&again.stderr).contains("already bootstrapped"));
    assert!(again.stdout.is_empty());
}

#[test]
fn app_add_and_keys_rotate_print_json() {
    let dir = temp_dir();
    let out = portico(&dir)
        .args([
            "app",
            "add",
            "--name",
            "Trials",
            "--redirect-uri",
            "https://trials.example/cb",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(v["clientSecret"].is_string() && v["clientId"].is_string());
    assert_eq!(v["requirePkce"], true, "PKCE is required by default");
    let client_id = v["clientId"].as_str().unwrap().to_string();
    let out = portico(&dir)
        .args(["app", "reset-secret", &client_id])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let reset: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(reset["clientId"], client_id.as_str());
    assert!(reset["clientSecret"].is_string() && reset["clientSecret"] != v["clientSecret"]);
    let out = portico(&dir)
        .args(["app", "reset-secret", "no-such-app"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no application"));
    // A confidential app may opt out of PKCE; a public one may not.
    let legacy = |extra: &[&str]| {
        let mut args = vec![
            "app",
            "add",
            "--name",
            "Legacy",
            "--redirect-uri",
            "https://legacy.example/cb",
            "--no-pkce",
        ];
        args.extend_from_slice(extra);
        portico(&dir).args(args).output().unwrap()
    };
    let out = legacy(&[]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["requirePkce"], false);
    let out = legacy(&["--public"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("requirePkce"));
    let bad = portico(&dir)
        .args([
            "app",
            "add",
            "--name",
            "Bad",
            "--redirect-uri",
            "http://evil.example/cb",
        ])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("https"));
    let out = portico(&dir).args(["keys", "rotate"]).output().unwrap();
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(v["kid"].is_string());
}

#[test]
fn serve_runs_with_no_configuration_and_honours_env_overrides() {
    let dir = temp_dir();
    let (mut child, issuer) = spawn_serve(&dir, |_| {});
    let rt = tokio::runtime::Runtime::new().unwrap();
    let result = rt.block_on(async {
        for _ in 0..100 {
            if let Ok(r) = reqwest::get(format!("{issuer}/.well-known/openid-configuration")).await
            {
                return r.json::<serde_json::Value>().await.ok();
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        None
    });
    let _ = child.kill();
    let _ = child.wait();
    let d = result.expect("the server answered discovery");
    assert_eq!(d["issuer"], issuer);
    assert!(dir.join("portico.db").exists());
}

#[test]
fn a_bad_configuration_fails_with_a_clear_message() {
    let dir = temp_dir();
    let out = portico(&dir)
        .arg("migrate")
        .env("PORTICO_ISSUER", "not a url")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("PORTICO_ISSUER"));
    let out = portico(&dir)
        .args(["--config", "/nonexistent.toml", "migrate"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stderr).contains("does not exist"));
    let toml = dir.join("portico.toml");
    std::fs::write(&toml, "issuer = \"https://id.contoso.example\"\n").unwrap();
    let out = portico(&dir)
        .args(["--config", toml.to_str().unwrap(), "migrate"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `portico serve` on `dir` at a free port, output discarded unless
/// `configure` (extra env, stderr) says otherwise; returns the child and
/// its issuer at once.
fn spawn_serve(
    dir: &std::path::Path,
    configure: impl FnOnce(&mut Command),
) -> (std::process::Child, String) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let issuer = format!("http://127.0.0.1:{port}");
    let mut cmd = portico(dir);
    cmd.arg("serve")
        .env("PORTICO_BIND", format!("127.0.0.1:{port}"))
        .env("PORTICO_ISSUER", &issuer)
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    configure(&mut cmd);
    (cmd.spawn().unwrap(), issuer)
}

/// [`spawn_serve`], returning once `/healthz` answers.
fn serve(dir: &std::path::Path, rt: &tokio::runtime::Runtime) -> (std::process::Child, String) {
    let (child, issuer) = spawn_serve(dir, |_| {});
    let up = rt.block_on(async {
        for _ in 0..200 {
            if reqwest::get(format!("{issuer}/healthz")).await.is_ok() {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        false
    });
    assert!(up, "portico serve answered /healthz");
    (child, issuer)
}

/// `kill -9` while clients create users and invitations on the embedded
/// SQLite: the file passes `PRAGMA integrity_check`, and every write the
/// server acknowledged (201) is there after a restart, the invitation with
/// its user (one transaction: never one without the other).
#[test]
fn kill_9_under_concurrent_writes_keeps_every_acknowledged_write() {
    let dir = temp_dir();
    let out = portico(&dir)
        .args(["bootstrap", "--admin-email", "admin@contoso.example"])
        .args(["--admin-password", "long password"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let boot: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let (id, secret) = (
        boot["clientId"].as_str().unwrap().to_string(),
        boot["clientSecret"].as_str().unwrap().to_string(),
    );
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (mut child, issuer) = serve(&dir, &rt);
    let http = reqwest::Client::new();
    let token = |issuer: String| {
        let (http, id, secret) = (http.clone(), id.clone(), secret.clone());
        async move {
            let v: serde_json::Value = http
                .post(format!("{issuer}/token"))
                .basic_auth(id, Some(secret))
                .form(&[("grant_type", "client_credentials")])
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            v["access_token"].as_str().unwrap().to_string()
        }
    };
    let acknowledged: Vec<(String, String)> = rt.block_on(async {
        let bearer = token(issuer.clone()).await;
        let mut writers = Vec::new();
        for w in 0..4 {
            let (http, issuer, bearer) = (http.clone(), issuer.clone(), bearer.clone());
            writers.push(tokio::spawn(async move {
                let mut done = Vec::new();
                for n in 0.. {
                    let (path, body) = if n % 2 == 0 {
                        let mail = format!("m{w}-{n}@contoso.example");
                        let body = serde_json::json!({"displayName": mail, "mail": mail, "password": "long enough password", "userType": "Member"});
                        ("users", body)
                    } else {
                        let mail = format!("g{w}-{n}@fabrikam.example");
                        let body = serde_json::json!({
                            "invitedUserEmailAddress": mail,
                            "inviteRedirectUrl": format!("{issuer}/"),
                            "sendInvitationMessage": false,
                        });
                        ("invitations", body)
                    };
                    let sent = http
                        .post(format!("{issuer}/api/v1/{path}"))
                        .bearer_auth(&bearer)
                        .json(&body)
                        .send()
                        .await;
                    let Ok(resp) = sent else { break };
                    if resp.status() != 201 {
                        // Only the kill ends a writer: anything else is a bug.
                        let status = resp.status();
                        let text = resp.text().await.unwrap_or_default();
                        assert!(status.is_server_error(), "{path}: {status} {text}");
                        break;
                    }
                    let Ok(v) = resp.json::<serde_json::Value>().await else { break };
                    done.push((path.to_string(), v["id"].as_str().unwrap().to_string()));
                }
                done
            }));
        }
        tokio::time::sleep(Duration::from_millis(1500)).await;
        child.kill().unwrap(); // SIGKILL
        let _ = child.wait();
        let mut all = Vec::new();
        for w in writers {
            all.extend(w.await.unwrap());
        }
        all
    });
    assert!(
        acknowledged.len() > 4,
        "writes were acknowledged before the kill"
    );

    let url = format!("sqlite://{}?mode=rw", dir.join("portico.db").display());
    let check = rt.block_on(async {
        let storage = portico_storage::Storage::connect(&url).await.unwrap();
        storage.integrity_check().await.unwrap()
    });
    assert_eq!(check, "ok");

    let (mut child, issuer) = serve(&dir, &rt);
    rt.block_on(async {
        let bearer = token(issuer.clone()).await;
        for (path, id) in &acknowledged {
            let resp = http
                .get(format!("{issuer}/api/v1/{path}/{id}"))
                .bearer_auth(&bearer)
                .send()
                .await
                .unwrap();
            assert_eq!(resp.status(), 200, "{path}/{id} was acknowledged");
            if path == "invitations" {
                let v: serde_json::Value = resp.json().await.unwrap();
                let user = v["invitedUser"]["id"].as_str().unwrap();
                let u = http
                    .get(format!("{issuer}/api/v1/users/{user}"))
                    .bearer_auth(&bearer)
                    .send()
                    .await
                    .unwrap();
                assert_eq!(u.status(), 200, "the invitation's guest exists");
            }
        }
    });
    let _ = child.kill();
    let _ = child.wait();
}

/// JSON logs carry the request id of each request, and SIGTERM stops the
/// server cleanly (exit 0, "stopped" logged after the last request, no SQLite
/// write-ahead log left behind).
#[test]
fn json_logs_name_the_request_id_and_sigterm_stops_cleanly() {
    let dir = temp_dir();
    let (child, issuer) = spawn_serve(&dir, |c| {
        c.env("PORTICO_LOG_FORMAT", "json")
            .env("PORTICO_LOG", "info,tower_http=debug")
            .stderr(Stdio::piped());
    });
    let rt = tokio::runtime::Runtime::new().unwrap();
    let answered = rt.block_on(async {
        let http = reqwest::Client::new();
        for _ in 0..200 {
            let sent = http
                // Not discovery: the static documents skip the request span
                // to stay near the hardware (static_docs.rs).
                .get(format!("{issuer}/api/v1/users"))
                .header("x-request-id", "req-json-log-test")
                .send()
                .await;
            if let Ok(r) = sent {
                return r.status().as_u16();
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        0
    });
    assert_eq!(answered, 401, "no bearer token");
    let term = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(term.success());
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "SIGTERM exits 0: {:?}", out.status);
    // Every connection was closed: SQLite copied its log into the database
    // and deleted it, so the next start has none to read back.
    assert!(dir.join("portico.db").exists());
    assert!(
        !dir.join("portico.db-wal").exists(),
        "the write-ahead log is left behind"
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    let lines: Vec<serde_json::Value> = stderr
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    assert!(
        lines
            .iter()
            .any(|l| l["span"]["request_id"] == "req-json-log-test"),
        "a line of the request names its id: {stderr}"
    );
    assert!(
        lines.iter().any(|l| l["fields"]["message"] == "stopped"),
        "graceful shutdown ran to its end: {stderr}"
    );
}
