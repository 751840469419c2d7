//! `portico invite`: one guest, a CSV file, a dry run, a re-run, and a run
//! killed with SIGKILL mid-import and started again.

use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

fn portico(data_dir: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_portico"));
    c.env_remove("PORTICO_DATABASE_URL")
        .env_remove("PORTICO_SMTP_URL")
        .env("PORTICO_DATA_DIR", data_dir)
        .env("PORTICO_ORGANIZATION_NAME", "Contoso")
        .env("PORTICO_MAIL_MAX_PER_SECOND", "100000")
        .env(
            "PORTICO_INVITE_REDIRECT_ORIGINS",
            "https://trials.contoso.example",
        )
        .env("PORTICO_LOG", "warn");
    c
}

fn temp_dir() -> PathBuf {
    let d = std::env::temp_dir().join(format!("portico-cli-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn run_json(c: &mut Command) -> Value {
    let out = c.output().unwrap();
    assert!(
        out.status.success(),
        "exit {:?}: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)))
}

fn outbox(dir: &Path) -> Vec<String> {
    match std::fs::read_dir(dir.join("outbox")) {
        Ok(entries) => entries
            .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
            .collect(),
        Err(_) => Vec::new(),
    }
}

const AZURE: &str = "version:v1.0\n\
Email address to invite [inviteeEmail] Required,Redirection url [inviteRedirectURL] Required,Send invitation message (true or false) [sendEmail],Customized invitation message [customizedMessageBody]\n\
ann@fabrikam.example,https://trials.contoso.example,true,\"Hello Ann, welcome, truly\"\n\
not-an-email,https://trials.contoso.example,true,\n\
ben@fabrikam.example,https://trials.contoso.example,false,\n\
cat@fabrikam.example,https://trials.contoso.example,true,\"Quote \"\"this\"\", please\"\n";

#[test]
fn invite_one_writes_the_email_to_the_outbox_and_prints_the_redeem_url() {
    let dir = temp_dir();
    let v = run_json(portico(&dir).args([
        "invite",
        "--email",
        "Bob@Gmail.example",
        "--name",
        "Bob",
        "--message",
        "See you <soon>",
        "--redirect-url",
        "https://trials.contoso.example/",
    ]));
    assert_eq!(v["created"], true);
    assert_eq!(v["status"], "PendingAcceptance");
    assert_eq!(v["mailSent"], 1);
    assert!(
        v["inviteRedeemUrl"]
            .as_str()
            .unwrap()
            .contains("/redeem?i=")
    );
    let mails = outbox(&dir);
    assert_eq!(mails.len(), 1);
    assert!(mails[0].contains("To: bob@gmail.example"), "{}", mails[0]);
    assert!(mails[0].contains("Contoso"), "{}", mails[0]);
    // Again: the same guest, nothing new sent.
    let again = run_json(portico(&dir).args(["invite", "--email", "bob@gmail.example"]));
    assert_eq!(again["created"], false);
    assert_eq!(again["id"], v["id"]);
    assert_eq!(outbox(&dir).len(), 1);
    // No open redirect: a landing page the organization does not own is refused.
    let out = portico(&dir)
        .args([
            "invite",
            "--email",
            "eve@gmail.example",
            "--redirect-url",
            "https://evil.example/",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("https://evil.example"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(outbox(&dir).len(), 1);
}

#[test]
fn csv_dry_run_reports_every_bad_row_and_writes_nothing() {
    let dir = temp_dir();
    let file = dir.join("guests.csv");
    std::fs::write(&file, AZURE).unwrap();
    let db_dir = dir.join("data");
    let v = run_json(
        portico(&db_dir)
            .args(["invite", "--csv"])
            .arg(&file)
            .arg("--dry-run"),
    );
    assert_eq!(v["rows"], 4);
    assert_eq!(v["valid"], 3);
    assert_eq!(v["invalid"], 1);
    assert_eq!(v["errors"][0]["row"], 2);
    assert!(
        v["errors"][0]["errors"][0]
            .as_str()
            .unwrap()
            .contains("inviteeEmail"),
        "{v}"
    );
    assert!(
        !db_dir.join("portico.db").exists(),
        "a dry run writes nothing"
    );
}

#[test]
fn csv_import_invites_each_row_once_even_when_run_twice() {
    let dir = temp_dir();
    let file = dir.join("guests.csv");
    std::fs::write(&file, AZURE).unwrap();
    let first = run_json(portico(&dir).args(["invite", "--csv"]).arg(&file));
    assert_eq!(first["status"], "completed", "{first}");
    assert_eq!(
        (first["invited"].as_u64(), first["invalid"].as_u64()),
        (Some(3), Some(1))
    );
    let mails = outbox(&dir);
    assert_eq!(mails.len(), 2, "ben asked for no email");
    assert!(
        mails
            .iter()
            .any(|m| m.contains("Hello Ann, welcome, truly")),
        "quoted commas survive"
    );
    let second = run_json(portico(&dir).args(["invite", "--csv"]).arg(&file));
    assert_ne!(
        second["jobId"], first["jobId"],
        "a finished file starts a new job"
    );
    assert_eq!(second["invited"], 0, "{second}");
    assert_eq!(second["alreadyInvited"], 3);
    assert_eq!(outbox(&dir).len(), 2, "nobody was emailed twice");
}

#[test]
fn an_import_killed_mid_way_resumes_without_losing_or_duplicating_a_row() {
    const ROWS: usize = 3000;
    let dir = temp_dir();
    let file = dir.join("big.csv");
    let mut csv = String::from("email,redirectUrl,sendEmail,message\n");
    for i in 0..ROWS {
        let send = i % 10 == 0;
        csv.push_str(&format!(
            "g{i}@fabrikam.example,https://trials.contoso.example,{send},\"Hi, number {i}\"\n"
        ));
    }
    std::fs::write(&file, csv).unwrap();
    let mut child = portico(&dir)
        .args(["invite", "--csv"])
        .arg(&file)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let mut progress = None;
    for line in BufReader::new(stderr).lines() {
        let line = line.unwrap();
        if line.starts_with("progress:") {
            progress = Some(line);
            break;
        }
    }
    child.kill().unwrap(); // SIGKILL: no cleanup runs
    child.wait().unwrap();
    let progress = progress.expect("the import reported progress before it was killed");
    assert!(
        !progress.contains(&format!("{ROWS} of {ROWS}")),
        "killed mid-way: {progress}"
    );

    let resumed = run_json(portico(&dir).args(["invite", "--csv"]).arg(&file));
    assert_eq!(resumed["status"], "completed", "{resumed}");
    assert_eq!(resumed["rows"], ROWS as u64);
    assert_eq!(
        resumed["invited"], ROWS as u64,
        "every row invited by one of the runs"
    );
    assert_eq!(
        (resumed["failed"].as_u64(), resumed["pending"].as_u64()),
        (Some(0), Some(0))
    );
    let mails = outbox(&dir);
    assert_eq!(
        mails.len(),
        ROWS / 10,
        "one email per row that asked, none twice"
    );
    let again = run_json(portico(&dir).args(["invite", "--csv"]).arg(&file));
    assert_eq!(again["alreadyInvited"], ROWS as u64);
    assert_eq!(again["invited"], 0);
}
