//! The directory's emails (invitation, one-time code, recovery code used),
//! rendered with askama from `templates/email/`. The directory hands over the
//! facts ([`InvitationMessage`], [`CodeMessage`], [`RecoveryCodeUsedMessage`])
//! and queues what comes back.
//!
//! Everything the inviter typed is untrusted. The HTML part relies on askama's
//! escaping: the custom message is split into lines here so its newlines
//! survive as `<br>` without the text ever being marked safe. Names are
//! reduced to one line of printable text before they reach the subject or a
//! greeting, so a CR/LF cannot add a header or a fake paragraph, and a bidi
//! override cannot disguise who is writing. Emails use inline styles only:
//! mail clients drop external stylesheets.

use crate::pages::show_date;
use askama::Template;
use portico_directory::invitations::{CodeMessage, InvitationMessage, MailComposer, RenderedMail};
use portico_directory::mfa::RecoveryCodeUsedMessage;

/// Longest name kept in a subject or greeting; longer ones are cut with "…".
const MAX_NAME_CHARS: usize = 100;

/// Renders Portico's emails; the server hands it to `Invitations::new`.
#[derive(Debug, Clone, Copy, Default)]
pub struct UiMailComposer;

/// The invitation's facts, cleaned for display.
struct InvitationFacts {
    organization: String,
    inviter_name: String,
    invitee_name: Option<String>,
    invitee_email: String,
    message_lines: Vec<String>,
    language: Option<String>,
    redeem_url: String,
    block_url: String,
    privacy_url: Option<String>,
    expires: String,
}

#[derive(Template)]
#[template(path = "email/invitation.html")]
struct InvitationHtml<'a> {
    f: &'a InvitationFacts,
}

#[derive(Template)]
#[template(path = "email/invitation.txt")]
struct InvitationText<'a> {
    f: &'a InvitationFacts,
}

struct CodeFacts {
    organization: String,
    email: String,
    code: String,
    minutes_valid: i64,
}

#[derive(Template)]
#[template(path = "email/code.html")]
struct CodeHtml<'a> {
    f: &'a CodeFacts,
}

#[derive(Template)]
#[template(path = "email/code.txt")]
struct CodeText<'a> {
    f: &'a CodeFacts,
}

struct RecoveryFacts {
    organization: String,
    display_name: String,
    email: String,
    used_at: String,
    codes_left: u32,
}

#[derive(Template)]
#[template(path = "email/recovery_code_used.html")]
struct RecoveryHtml<'a> {
    f: &'a RecoveryFacts,
}

#[derive(Template)]
#[template(path = "email/recovery_code_used.txt")]
struct RecoveryText<'a> {
    f: &'a RecoveryFacts,
}

/// Characters that must never reach a subject or a one-line field: controls
/// (CR, LF, NEL, …), Unicode line/paragraph separators, and the bidi
/// overrides and isolates that can reorder what a reader sees.
fn is_unsafe_char(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{2028}' | '\u{2029}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// One line of printable text: unsafe characters become spaces, runs of
/// whitespace collapse, and the result is cut to `MAX_NAME_CHARS`.
pub(crate) fn one_line(s: &str) -> String {
    let cleaned: String = s
        .chars()
        .map(|c| if is_unsafe_char(c) { ' ' } else { c })
        .collect();
    let joined = cleaned.split_whitespace().collect::<Vec<_>>().join(" ");
    if joined.chars().count() <= MAX_NAME_CHARS {
        return joined;
    }
    let mut cut: String = joined.chars().take(MAX_NAME_CHARS - 1).collect();
    cut.push('…');
    cut
}

/// The custom message as lines: any newline convention is accepted, other
/// control characters are dropped (tabs become spaces).
fn message_lines(message: Option<&str>) -> Vec<String> {
    let Some(m) = message.map(str::trim).filter(|m| !m.is_empty()) else {
        return Vec::new();
    };
    m.replace("\r\n", "\n")
        .replace('\r', "\n")
        .split('\n')
        .map(|line| {
            line.chars()
                .filter_map(|c| match c {
                    '\t' => Some(' '),
                    c if is_unsafe_char(c) => None,
                    c => Some(c),
                })
                .collect()
        })
        .collect()
}

/// Renders a template, logging (never panicking) on the rare failure; the
/// fallback keeps the mail useful because it still carries the link or code.
pub(crate) fn render(t: &impl Template, fallback: impl FnOnce() -> String) -> String {
    t.render().unwrap_or_else(|e| {
        tracing::error!(error = %e, "email template failed to render");
        fallback()
    })
}

/// The HTML part when its template fails: the text part, escaped. An empty
/// part would not do, since clients that prefer HTML would show nothing.
pub(crate) fn text_as_html(text: &str) -> String {
    let Ok(escaped) = askama::filters::escape(text, askama::filters::Html);
    format!("<pre style=\"white-space:pre-wrap;font-family:inherit\">{escaped}</pre>")
}

impl MailComposer for UiMailComposer {
    fn invitation(&self, m: &InvitationMessage) -> RenderedMail {
        let f = InvitationFacts {
            organization: one_line(&m.organization),
            inviter_name: one_line(&m.inviter_name),
            invitee_name: m
                .invitee_name
                .as_deref()
                .map(one_line)
                .filter(|n| !n.is_empty()),
            invitee_email: one_line(&m.invitee_email),
            message_lines: message_lines(m.message.as_deref()),
            language: m
                .language
                .as_deref()
                .map(one_line)
                .filter(|l| !l.is_empty()),
            redeem_url: m.redeem_url.clone(),
            block_url: m.block_url.clone(),
            privacy_url: m.privacy_url.clone(),
            expires: show_date(m.expires_at),
        };
        let subject = one_line(&format!(
            "{} invited you to access applications within {}",
            f.inviter_name, f.organization
        ));
        let text = render(&InvitationText { f: &f }, || {
            format!("Accept the invitation: {}", f.redeem_url)
        });
        let html = render(&InvitationHtml { f: &f }, || text_as_html(&text));
        RenderedMail {
            subject,
            text,
            html,
        }
    }

    fn one_time_code(&self, m: &CodeMessage) -> RenderedMail {
        let f = CodeFacts {
            organization: one_line(&m.organization),
            email: one_line(&m.email),
            code: one_line(&m.code),
            minutes_valid: m.minutes_valid,
        };
        let subject = one_line(&format!("Your verification code for {}", f.organization));
        let text = render(&CodeText { f: &f }, || format!("Your code: {}", f.code));
        let html = render(&CodeHtml { f: &f }, || text_as_html(&text));
        RenderedMail {
            subject,
            text,
            html,
        }
    }

    fn recovery_code_used(&self, m: &RecoveryCodeUsedMessage) -> RenderedMail {
        let f = RecoveryFacts {
            organization: one_line(&m.organization),
            display_name: one_line(&m.display_name),
            email: one_line(&m.email),
            used_at: m.used_at.format("%-d %B %Y, %H:%M").to_string(),
            codes_left: m.codes_left,
        };
        let subject = one_line(&format!(
            "A recovery code was used for your {} account",
            f.organization
        ));
        let text = render(&RecoveryText { f: &f }, || {
            format!("A recovery code was used; {} codes are left.", f.codes_left)
        });
        let html = render(&RecoveryHtml { f: &f }, || text_as_html(&text));
        RenderedMail {
            subject,
            text,
            html,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{DateTime, Utc};

    fn expiry() -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000, 0).unwrap_or_default()
    }

    fn invitation(inviter: &str, message: Option<&str>) -> InvitationMessage {
        InvitationMessage {
            organization: "Contoso".into(),
            inviter_name: inviter.into(),
            invitee_email: "guest@fabrikam.example".into(),
            invitee_name: Some("Gail Guest".into()),
            message: message.map(str::to_string),
            language: None,
            redeem_url: "https://id.contoso.example/redeem?i=abc&t=def".into(),
            block_url: "https://id.contoso.example/invitations/block?i=abc&t=ghi".into(),
            privacy_url: Some("https://contoso.example/privacy".into()),
            expires_at: expiry(),
        }
    }

    #[test]
    fn one_line_removes_controls_separators_and_bidi_overrides() {
        let check =
            |input: &str, expected: &str| assert_eq!(one_line(input), expected, "{input:?}");
        check("Ann\r\nBcc: evil@x.example", "Ann Bcc: evil@x.example");
        check("  a\tb\u{85}c\u{2028}d  ", "a b c d");
        check("admin\u{202E}gpj.exe", "admin gpj.exe");
        check("\u{0}\u{7}", "");
        assert_eq!(one_line(&"x".repeat(500)).chars().count(), MAX_NAME_CHARS);
    }

    #[test]
    fn message_keeps_its_lines_whatever_the_newline_convention() {
        let lines = message_lines(Some("one\r\ntwo\rthree\nfour\u{7}"));
        assert_eq!(lines, ["one", "two", "three", "four"]);
        assert!(message_lines(Some("  \n ")).is_empty());
        assert!(message_lines(None).is_empty());
    }

    #[test]
    fn invitation_shows_the_facts_and_both_links() {
        let m = UiMailComposer.invitation(&invitation("Ines Inviter", Some("Welcome!\nSee you")));
        assert_eq!(
            m.subject,
            "Ines Inviter invited you to access applications within Contoso"
        );
        for part in [&m.text, &m.html] {
            assert!(part.contains("Contoso"));
            assert!(part.contains("Ines Inviter"));
            assert!(part.contains("guest@fabrikam.example"));
            assert!(part.contains("Gail Guest"));
            assert!(part.contains("https://contoso.example/privacy"));
            assert!(part.contains("invitations/block?i=abc"));
            assert!(part.contains("2027"), "expiry date shown");
        }
        assert!(
            m.text
                .contains("https://id.contoso.example/redeem?i=abc&t=def")
        );
        // In HTML attributes `&` is escaped, which browsers and mail clients undo.
        assert!(m.html.contains("redeem?i=abc&#38;t=def"));
        assert!(m.html.contains("Accept invitation"));
        assert!(m.html.contains("Welcome!<br>See you"));
        assert!(m.text.contains("Welcome!\n  See you"));
        assert!(!m.html.contains("<link") && !m.html.contains("<style"));
    }

    #[test]
    fn hostile_name_and_message_are_escaped_and_cannot_break_the_subject() {
        let name = "Eve\r\nBcc: all@x.example <script>alert(1)</script>";
        let message = "\"><img src=x onerror=alert(1)>\r\n<script>alert(2)</script>";
        let m = UiMailComposer.invitation(&invitation(name, Some(message)));
        assert!(!m.subject.contains(['\r', '\n']));
        assert!(m.subject.starts_with("Eve Bcc: all@x.example"));
        assert!(!m.html.contains("<script"), "{}", m.html);
        assert!(!m.html.contains("<img"));
        assert!(m.html.contains("&#60;script&#62;"));
        assert!(
            m.html
                .contains("&#34;&#62;&#60;img src=x onerror=alert(1)&#62;<br>")
        );
        // The text part is plain text: shown as typed, one line per line.
        assert!(m.text.contains("<img src=x onerror=alert(1)>"));
        assert!(!m.text.contains("Eve\r\nBcc"));
    }

    #[test]
    fn invitation_without_message_or_privacy_statement_leaves_them_out() {
        let mut i = invitation("Ines", None);
        i.privacy_url = None;
        i.invitee_name = None;
        let m = UiMailComposer.invitation(&i);
        assert!(!m.html.contains("Message from"));
        assert!(!m.text.contains("privacy statement"));
        assert!(m.text.starts_with("Hello,"));
    }

    #[test]
    fn code_email_carries_the_code_and_its_validity() {
        let m = UiMailComposer.one_time_code(&CodeMessage {
            organization: "Contoso\r\nX-Evil: 1".into(),
            email: "guest@fabrikam.example".into(),
            code: "01234567".into(),
            minutes_valid: 10,
        });
        assert_eq!(m.subject, "Your verification code for Contoso X-Evil: 1");
        for part in [&m.text, &m.html] {
            assert!(part.contains("01234567"));
            assert!(part.contains("10 minutes"));
            assert!(part.contains("didn't ask"));
        }
    }

    #[test]
    fn recovery_code_email_says_when_and_how_many_are_left() {
        let message = |left| RecoveryCodeUsedMessage {
            organization: "Contoso".into(),
            email: "ada@contoso.example".into(),
            display_name: "Ada <b>Lovelace</b>".into(),
            used_at: expiry(),
            codes_left: left,
        };
        let m = UiMailComposer.recovery_code_used(&message(9));
        assert_eq!(
            m.subject,
            "A recovery code was used for your Contoso account"
        );
        for part in [&m.text, &m.html] {
            assert!(part.contains("ada@contoso.example"));
            assert!(part.contains("9 recovery codes left"), "{part}");
            assert!(part.contains("15 January 2027"), "{part}");
            assert!(part.contains("wasn't you"));
        }
        assert!(m.html.contains("Ada &#60;b&#62;Lovelace"));
        let none = UiMailComposer.recovery_code_used(&message(0));
        assert!(none.text.contains("no recovery codes left"));
        let one = UiMailComposer.recovery_code_used(&message(1));
        assert!(one.text.contains("1 recovery code left."));
    }
}
