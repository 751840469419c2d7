//! The demo's mailbox (`/mail`): every message both organizations wrote to
//! their outbox folders (no SMTP relay is configured in the demo), newest
//! first, with the links in each message made clickable.

use super::sample_app::SampleApp;
use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use std::path::Path;
use std::time::SystemTime;

/// The newest messages shown; older ones stay in the folders.
const SHOWN: usize = 50;
/// Larger files are not ours: skipped rather than read into memory.
const MAX_EML_BYTES: u64 = 1024 * 1024;

pub struct Message {
    pub organization: String,
    pub to: String,
    pub subject: String,
    pub text: String,
    pub links: Vec<String>,
    modified: SystemTime,
}

#[derive(Template)]
#[template(path = "demo/mailbox.html")]
struct MailboxPage {
    messages: Vec<Message>,
}

pub async fn list(State(app): State<SampleApp>) -> Response {
    let outboxes = app.outboxes().to_vec();
    let messages = tokio::task::spawn_blocking(move || {
        let mut all: Vec<Message> = outboxes
            .iter()
            .flat_map(|(org, dir)| read_folder(org, dir))
            .collect();
        all.sort_by_key(|m| std::cmp::Reverse(m.modified));
        all.truncate(SHOWN);
        all
    })
    .await
    .unwrap_or_default();
    match (MailboxPage { messages }).render() {
        Ok(html) => Html(html).into_response(),
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, format!("template: {e}")).into_response(),
    }
}

/// Every readable `.eml` in `dir` (a folder not written yet: none).
fn read_folder(organization: &str, dir: &Path) -> Vec<Message> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    entries
        .filter_map(Result::ok)
        .filter(|e| e.path().extension().is_some_and(|x| x == "eml"))
        .filter_map(|e| {
            let meta = e.metadata().ok().filter(|m| m.len() <= MAX_EML_BYTES)?;
            let raw = std::fs::read(e.path()).ok()?;
            let mut m = parse(organization, &raw)?;
            m.modified = meta.modified().unwrap_or(SystemTime::UNIX_EPOCH);
            Some(m)
        })
        .collect()
}

fn parse(organization: &str, raw: &[u8]) -> Option<Message> {
    use mailparse::MailHeaderMap;
    let mail = mailparse::parse_mail(raw).ok()?;
    let header = |name: &str| mail.headers.get_first_value(name).unwrap_or_default();
    let text = plain_text(&mail).unwrap_or_default();
    Some(Message {
        organization: organization.into(),
        to: header("To"),
        subject: header("Subject"),
        links: links(&text),
        text,
        modified: SystemTime::UNIX_EPOCH,
    })
}

/// The first `text/plain` part, decoded.
fn plain_text(part: &mailparse::ParsedMail<'_>) -> Option<String> {
    if part.subparts.is_empty() {
        return (part.ctype.mimetype == "text/plain")
            .then(|| part.get_body().ok())
            .flatten();
    }
    part.subparts.iter().find_map(plain_text)
}

/// The `http(s)://` addresses in `text`, in order, each once.
fn links(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for word in text.split(|c: char| c.is_whitespace() || c == '<' || c == '>') {
        let word = word.trim_end_matches(['.', ',', ')', ';']);
        if (word.starts_with("http://") || word.starts_with("https://"))
            && !out.iter().any(|l| l == word)
        {
            out.push(word.to_string());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_are_found_once_without_trailing_punctuation() {
        let text = "Accept: http://localhost:8080/redeem?i=abc.\nAgain <http://localhost:8080/redeem?i=abc> or https://x.example/p, done";
        assert_eq!(
            links(text),
            vec!["http://localhost:8080/redeem?i=abc", "https://x.example/p"]
        );
    }

    #[test]
    fn a_multipart_message_shows_its_plain_text_part() {
        let raw = b"To: alice@fabrikam.example\r\nSubject: You're invited\r\nMIME-Version: 1.0\r\nContent-Type: multipart/alternative; boundary=\"b\"\r\n\r\n--b\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nOpen http://localhost:8080/redeem?i=3D=\r\nabc\r\n--b\r\nContent-Type: text/html\r\n\r\n<p>html</p>\r\n--b--\r\n";
        let m = parse("Contoso", raw).expect("parses");
        assert_eq!(m.to, "alice@fabrikam.example");
        assert_eq!(m.subject, "You're invited");
        assert_eq!(m.links, vec!["http://localhost:8080/redeem?i=abc"]);
    }
}
