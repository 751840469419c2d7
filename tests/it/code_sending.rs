//! One-time code sending: the hourly limit holds under concurrency (checked
//! and written in one step), and a code goes out ahead of bulk invitation
//! mail (the urgent lane of the queue), through a real SMTP server.

use crate::redeem_steps::{code_page, invite, nth_code};
use portico_core::Clock;
use portico_core::{MailKind, OutgoingMail};
use portico_directory::invitations::{CODES_PER_HOUR, InvitationRepo, RedeemError};
use portico_tests::{Backend, Browser, both_backends, spawn_app, spawn_app_with_mail};

async fn concurrent_requests_cannot_exceed_the_hourly_code_limit(backend: Backend) {
    let app = spawn_app(backend).await;
    let email = "gail@fabrikam.example";
    let (_, link) = invite(&app, email).await;
    let url = url::Url::parse(&link).unwrap();
    let q = |k: &str| {
        url.query_pairs()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.into_owned())
            .unwrap()
    };
    let invitations = app.server.app.invitations.clone();
    let inv = invitations.open_link(&q("i"), &q("t")).await.unwrap();
    let tasks: Vec<_> = (0..20)
        .map(|n| {
            let invitations = invitations.clone();
            let inv = inv.clone();
            tokio::spawn(async move {
                invitations
                    .send_redeem_code(&inv, &format!("browser-{n}"))
                    .await
            })
        })
        .collect();
    let mut sent = 0u64;
    let mut refused = 0u64;
    for t in tasks {
        match t.await.unwrap() {
            Ok(_) => sent += 1,
            Err(RedeemError::TooManyCodes) => refused += 1,
            Err(e) => panic!("unexpected: {e:?}"),
        }
    }
    assert_eq!(sent, CODES_PER_HOUR, "exactly the limit is sent");
    assert_eq!(refused, 20 - CODES_PER_HOUR);
    let stored = InvitationRepo::count_codes_since(
        &app.server.app.storage,
        email,
        app.clock.now() - chrono::Duration::hours(1),
    )
    .await
    .unwrap();
    assert_eq!(stored, CODES_PER_HOUR);
}
both_backends!(
    concurrent_requests_cannot_exceed_the_hourly_code_limit,
    super::concurrent_requests_cannot_exceed_the_hourly_code_limit
);

async fn a_code_is_delivered_ahead_of_ten_thousand_queued_invitations(backend: Backend) {
    let app = spawn_app_with_mail(backend).await;
    let email = "gail@fabrikam.example";
    let (_, link) = invite(&app, email).await;
    app.settle_mail().await;
    // A bulk import's worth of invitations waiting in the queue.
    let bulk: Vec<OutgoingMail> = (0..10_000)
        .map(|i| OutgoingMail {
            id: uuid::Uuid::now_v7(),
            kind: MailKind::Invitation,
            to: format!("bulk{i}@fabrikam.example"),
            cc: vec![],
            subject: format!("Bulk invitation {i}"),
            text: "You are invited.".into(),
            html: "<p>You are invited.</p>".into(),
            created_at: app.clock.now() - chrono::Duration::minutes(5),
        })
        .collect();
    app.server.app.storage.queue_mail(&bulk).await.unwrap();
    // The guest asks for a code; it wakes the worker.
    code_page(&Browser::new(&app.issuer), &link).await;
    nth_code(&app, email, 1).await;
    let smtp = app.smtp.as_ref().unwrap();
    let bulk_sent = smtp
        .messages()
        .iter()
        .filter(|m| m.subject.starts_with("Bulk invitation"))
        .count();
    // At 1,000 messages a second the whole backlog takes ten seconds or more;
    // the code came out while most of it was still queued.
    assert!(
        bulk_sent < 5_000,
        "the code waited behind {bulk_sent} invitations"
    );
}
both_backends!(
    a_code_is_delivered_ahead_of_ten_thousand_queued_invitations,
    super::a_code_is_delivered_ahead_of_ten_thousand_queued_invitations
);
