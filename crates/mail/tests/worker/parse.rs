//! Reading delivered messages back with mailparse, as a mail client would.

use mailparse::{MailHeaderMap, ParsedMail, parse_mail};

/// The parts of a message the tests look at.
#[derive(Debug)]
pub struct Received {
    pub subject: String,
    pub from: String,
    pub to: String,
    pub cc: String,
    pub message_id: String,
    pub header_names: Vec<String>,
    /// aiosmtpd's record of the SMTP envelope (`RCPT TO`), if any.
    pub envelope_recipients: String,
    pub text: String,
    pub html: String,
}

pub fn parse(raw: &[u8]) -> Received {
    let mail = parse_mail(raw).unwrap();
    let header = |name: &str| mail.headers.get_first_value(name).unwrap_or_default();
    Received {
        subject: header("Subject"),
        from: header("From"),
        to: header("To"),
        cc: header("Cc"),
        message_id: header("Message-ID"),
        header_names: mail.headers.iter().map(|h| h.get_key()).collect(),
        envelope_recipients: header("X-RcptTo"),
        text: part(&mail, "text/plain"),
        html: part(&mail, "text/html"),
    }
}

fn part(mail: &ParsedMail, mimetype: &str) -> String {
    if mail.ctype.mimetype == mimetype {
        // On the wire lines end in CRLF; compare with what was queued.
        return mail.get_body().unwrap().replace("\r\n", "\n");
    }
    mail.subparts
        .iter()
        .map(|p| part(p, mimetype))
        .find(|b| !b.is_empty())
        .unwrap_or_default()
}
