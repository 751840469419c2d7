//! Delivery through a real SMTP server: once, again after an outage, never twice.

use chrono::TimeDelta;
use portico_core::Clock;
use portico_mail::{DeliveryReport, MailQueue, MailStatus};

use crate::parse::parse;
use crate::smtp_server::SmtpServer;
use crate::support::{Harness, TempDir, smtp_config};

fn report(sent: u32, retried: u32, failed: u32) -> DeliveryReport {
    DeliveryReport {
        sent,
        retried,
        failed,
    }
}

#[tokio::test]
async fn queued_invitation_is_delivered_once_with_text_and_html() {
    let smtp = SmtpServer::start();
    let outbox = TempDir::new("unused");
    let h = Harness::new(smtp_config(&smtp.url(), outbox.path()));
    let mail = h.queue_invitation("guest@fabrikam.example", "You're invited to Contoso");

    assert_eq!(h.worker.run_once().await.unwrap(), report(1, 0, 0));
    assert_eq!(h.worker.run_once().await.unwrap(), report(0, 0, 0));
    h.clock.advance(TimeDelta::hours(2));
    assert_eq!(h.worker.run_once().await.unwrap(), report(0, 0, 0));

    let received = smtp.messages();
    assert_eq!(received.len(), 1, "exactly one delivery");
    let got = parse(&received[0]);
    assert_eq!(got.subject, "You're invited to Contoso");
    assert_eq!(got.from, "Contoso <no-reply@contoso.example>");
    assert_eq!(got.to, "guest@fabrikam.example");
    assert_eq!(got.cc, "sponsor@contoso.example");
    assert_eq!(got.message_id, format!("<{}@contoso.example>", mail.id));
    assert_eq!(got.text.trim_end(), mail.text);
    assert_eq!(got.html.trim_end(), mail.html);
    assert_eq!(h.queue.row(mail.id).status, MailStatus::Sent);
}

#[tokio::test]
async fn relay_outage_backs_off_loses_nothing_and_delivers_each_message_once_after() {
    let mut smtp = SmtpServer::start();
    let outbox = TempDir::new("unused");
    let h = Harness::new(smtp_config(&smtp.url(), outbox.path()));
    // One delivery first, so the transport's pool holds a connection that
    // the outage then breaks.
    h.queue_invitation("early@fabrikam.example", "Before the outage");
    assert_eq!(h.worker.run_once().await.unwrap(), report(1, 0, 0));
    smtp.stop();
    let a = h.queue_invitation("a@fabrikam.example", "Invitation A");
    let b = h.queue_invitation("b@fabrikam.example", "Invitation B");

    // Each failed round pushes the next attempt further out: 30 s, 60 s, 120 s.
    let mut waits = Vec::new();
    for _ in 0..3 {
        let before = h.queue.row(a.id).next_attempt_at;
        assert_eq!(h.worker.run_once().await.unwrap(), report(0, 2, 0));
        // Not due again until the backoff has passed.
        assert_eq!(h.worker.run_once().await.unwrap(), report(0, 0, 0));
        let row = h.queue.row(a.id);
        assert!(row.last_error.is_some());
        let wait = row.next_attempt_at - h.clock.now();
        assert!(row.next_attempt_at > before);
        waits.push(wait.num_seconds());
        h.clock.advance(wait);
    }
    assert_eq!(waits, [30, 60, 120]);
    assert_eq!(h.queue.row(b.id).attempts, 3);
    assert_eq!(h.queue.count_mail(MailStatus::Pending).await.unwrap(), 2);

    smtp.restart();
    assert_eq!(h.worker.run_once().await.unwrap(), report(2, 0, 0));
    h.clock.advance(TimeDelta::hours(3));
    assert_eq!(h.worker.drain().await.unwrap(), report(0, 0, 0));

    let subjects: Vec<String> = smtp
        .messages()
        .iter()
        .map(|raw| parse(raw).subject)
        .collect();
    assert_eq!(subjects.len(), 3, "{subjects:?}");
    assert!(subjects.contains(&"Invitation A".to_string()));
    assert!(subjects.contains(&"Invitation B".to_string()));
}

#[tokio::test]
async fn message_is_marked_failed_after_max_attempts() {
    let mut smtp = SmtpServer::start();
    let outbox = TempDir::new("unused");
    let h = Harness::new(portico_mail::MailConfig {
        max_attempts: 3,
        ..smtp_config(&smtp.url(), outbox.path())
    });
    smtp.stop();
    let mail = h.queue_invitation("guest@fabrikam.example", "Never arrives");

    assert_eq!(h.worker.run_once().await.unwrap(), report(0, 1, 0));
    h.clock.advance(TimeDelta::hours(2));
    assert_eq!(h.worker.run_once().await.unwrap(), report(0, 1, 0));
    h.clock.advance(TimeDelta::hours(2));
    assert_eq!(h.worker.run_once().await.unwrap(), report(0, 0, 1));

    let row = h.queue.row(mail.id);
    assert_eq!((row.status, row.attempts), (MailStatus::Failed, 3));
    smtp.restart();
    h.clock.advance(TimeDelta::days(1));
    assert_eq!(h.worker.run_once().await.unwrap(), report(0, 0, 0));
    assert!(smtp.messages().is_empty());
}

#[tokio::test]
async fn malformed_recipient_fails_at_once_without_retries() {
    let smtp = SmtpServer::start();
    let outbox = TempDir::new("unused");
    let h = Harness::new(smtp_config(&smtp.url(), outbox.path()));
    let mail = h.queue_invitation("not an address", "Hello");

    assert_eq!(h.worker.run_once().await.unwrap(), report(0, 0, 1));
    let row = h.queue.row(mail.id);
    assert_eq!((row.status, row.attempts), (MailStatus::Failed, 1));
    assert!(row.last_error.unwrap().contains("invalid recipient"));
    assert!(smtp.messages().is_empty());
}

#[tokio::test]
async fn line_breaks_in_the_subject_cannot_add_headers_or_recipients() {
    let smtp = SmtpServer::start();
    let outbox = TempDir::new("unused");
    let h = Harness::new(smtp_config(&smtp.url(), outbox.path()));
    h.queue_invitation(
        "guest@fabrikam.example",
        "Welcome\r\nBcc: spy@evil.example\r\nX-Injected: yes\n\nbody takeover",
    );

    assert_eq!(h.worker.run_once().await.unwrap(), report(1, 0, 0));
    let got = parse(&smtp.messages()[0]);
    assert!(got.subject.starts_with("Welcome"), "{got:?}");
    assert!(got.subject.contains("body takeover"), "{got:?}");
    for name in &got.header_names {
        assert!(
            !name.eq_ignore_ascii_case("Bcc") && !name.eq_ignore_ascii_case("X-Injected"),
            "{got:?}"
        );
    }
    assert!(!got.envelope_recipients.contains("evil"), "{got:?}");
    assert!(got.text.starts_with("You are invited"), "{got:?}");
}
