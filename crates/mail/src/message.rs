//! Turns a queued [`OutgoingMail`] into an RFC 5322 message.
//!
//! Everything in the result comes from the queued row, never from the time of
//! sending, so a retried message is the same message: same `Message-ID` (a
//! receiver that got the first try can drop the duplicate) and same `Date`
//! (the moment Portico decided to send it).

use std::time::SystemTime;

use lettre::Message;
use lettre::message::{Mailbox, MultiPart};
use portico_core::OutgoingMail;

use crate::error::SendError;

/// Builds the `multipart/alternative` message (text first, HTML preferred).
/// A malformed recipient is a [`SendError::Permanent`]: no retry fixes it.
pub fn build_message(mail: &OutgoingMail, from: &Mailbox) -> Result<Message, SendError> {
    let mut builder = Message::builder()
        .from(from.clone())
        .to(parse_recipient(&mail.to)?)
        .subject(one_line(&mail.subject))
        .message_id(Some(message_id(mail, from)))
        .date(SystemTime::from(mail.created_at));
    for cc in &mail.cc {
        builder = builder.cc(parse_recipient(cc)?);
    }
    builder
        .multipart(MultiPart::alternative_plain_html(
            mail.text.clone(),
            mail.html.clone(),
        ))
        .map_err(|e| SendError::Permanent(format!("cannot build message {}: {e}", mail.id)))
}

/// `<{id}@{sender domain}>`: unique because the id is, and stable across retries.
fn message_id(mail: &OutgoingMail, from: &Mailbox) -> String {
    format!("<{}@{}>", mail.id, from.email.domain())
}

fn parse_recipient(address: &str) -> Result<Mailbox, SendError> {
    address
        .trim()
        .parse::<Mailbox>()
        .map_err(|e| SendError::Permanent(format!("invalid recipient {address:?}: {e}")))
}

/// A subject is one line. lettre already encodes what it writes, but a
/// subject comes from user input (an inviter's organization name, say), so
/// line breaks and other control characters are replaced here as well: no
/// input can start a header of its own.
fn one_line(subject: &str) -> String {
    subject
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};
    use portico_core::MailKind;
    use uuid::Uuid;

    fn mail(to: &str, subject: &str) -> OutgoingMail {
        OutgoingMail {
            id: Uuid::nil(),
            kind: MailKind::Invitation,
            to: to.into(),
            cc: vec!["owner@contoso.example".into()],
            subject: subject.into(),
            text: "Join us".into(),
            html: "<p>Join us</p>".into(),
            created_at: Utc.with_ymd_and_hms(2026, 3, 1, 9, 30, 0).unwrap(),
        }
    }

    fn from() -> Mailbox {
        "Contoso <no-reply@contoso.example>".parse().unwrap()
    }

    #[test]
    fn message_id_and_date_come_from_the_queued_row() {
        let raw = build_message(&mail("guest@fabrikam.example", "Hi"), &from())
            .unwrap()
            .formatted();
        let raw = String::from_utf8(raw).unwrap();
        let id = format!("Message-ID: <{}@contoso.example>", Uuid::nil());
        assert!(raw.contains(&id), "{raw}");
        assert!(
            raw.contains("Date: Sun, 01 Mar 2026 09:30:00 +0000"),
            "{raw}"
        );
        assert!(raw.contains("Cc: owner@contoso.example"), "{raw}");
    }

    #[test]
    fn malformed_recipient_is_a_permanent_error() {
        for to in [
            "",
            "no-at-sign",
            "a@b@c",
            "guest@fabrikam.example\r\nBcc: x@evil.example",
        ] {
            let err = build_message(&mail(to, "Hi"), &from()).unwrap_err();
            assert!(err.is_permanent(), "{to:?}: {err}");
        }
    }

    #[test]
    fn control_characters_in_the_subject_become_spaces() {
        assert_eq!(one_line("a\r\nBcc: x\tb\u{7}"), "a  Bcc: x b ");
    }
}
