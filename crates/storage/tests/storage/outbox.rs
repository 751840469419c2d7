//! `MailQueue` over the outbox: due times, claims, retries and concurrent workers.

use crate::common::*;
use chrono::Duration;
use portico_core::MailKind;
use portico_directory::invitations::InvitationRepo;
use portico_mail::{MailQueue, MailStatus};
use portico_storage::Storage;
use std::collections::HashSet;
use uuid::Uuid;

/// Queues a message due at `t0 + offset` (through a one-time code, the way
/// messages get into the outbox) and returns its id.
async fn queue(s: &Storage, offset: Duration) -> Uuid {
    let mut m = mail("to@fabrikam.example", MailKind::OneTimeCode);
    m.created_at = t0() + offset;
    s.create_code(&otp("h"), &m).await.unwrap();
    m.id
}

fn ids(claimed: &[portico_mail::QueuedMail]) -> Vec<Uuid> {
    claimed.iter().map(|q| q.mail.id).collect()
}

async fn claims_respect_due_time_and_lease(s: &Storage) {
    let early = queue(s, Duration::zero()).await;
    let late = queue(s, Duration::minutes(10)).await;
    assert_eq!(s.next_mail_due().await.unwrap(), Some(micros(t0())));
    let lease = t0() + Duration::minutes(1);

    let first = s.claim_due_mail(t0(), lease, 10).await.unwrap();
    assert_eq!(ids(&first), vec![early], "the later message is not due");
    let m = &first[0].mail;
    assert_eq!(
        (m.kind, m.to.as_str(), first[0].attempts),
        (MailKind::OneTimeCode, "to@fabrikam.example", 0)
    );
    assert_eq!(m.cc, vec!["cc@contoso.example".to_string()]);
    assert!(
        s.claim_due_mail(t0(), lease, 10).await.unwrap().is_empty(),
        "claimed"
    );

    // The worker died: after the lease the message is claimable again.
    let again = s
        .claim_due_mail(lease, lease + Duration::minutes(1), 10)
        .await
        .unwrap();
    assert_eq!(ids(&again), vec![early]);

    let retry_at = t0() + Duration::minutes(20);
    s.schedule_mail_retry(early, 1, retry_at, "451 try later")
        .await
        .unwrap();
    assert_eq!(
        s.next_mail_due().await.unwrap(),
        Some(micros(t0() + Duration::minutes(10)))
    );
    let at_15 = t0() + Duration::minutes(15);
    assert_eq!(
        ids(&s.claim_due_mail(at_15, at_15, 10).await.unwrap()),
        vec![late]
    );
    s.mark_mail_sent(late, at_15).await.unwrap();
    let retried = s
        .claim_due_mail(retry_at, retry_at + Duration::minutes(1), 10)
        .await
        .unwrap();
    assert_eq!((ids(&retried), retried[0].attempts), (vec![early], 1));
    s.mark_mail_failed(early, 5, "550 no such user")
        .await
        .unwrap();

    let count = |st| async move { s.count_mail(st).await.unwrap() };
    assert_eq!(
        (
            count(MailStatus::Pending).await,
            count(MailStatus::Sent).await
        ),
        (0, 1)
    );
    assert_eq!(count(MailStatus::Failed).await, 1);
    assert_eq!(s.next_mail_due().await.unwrap(), None);
    assert!(
        s.claim_due_mail(retry_at + Duration::days(1), retry_at, 10)
            .await
            .unwrap()
            .is_empty()
    );
}

async fn claims_are_oldest_first_and_limited(s: &Storage) {
    let mut queued = vec![];
    for i in (0..5).rev() {
        queued.push((i, queue(s, Duration::seconds(i)).await));
    }
    queued.sort();
    let oldest: Vec<Uuid> = queued.iter().map(|(_, id)| *id).take(3).collect();
    let now = t0() + Duration::minutes(1);
    assert_eq!(
        ids(&s
            .claim_due_mail(now, now + Duration::minutes(1), 3)
            .await
            .unwrap()),
        oldest
    );
}

/// Two workers claim small batches until nothing is left: each message is
/// handed out exactly once.
async fn concurrent_claimers_never_share_a_message(s: &Storage) {
    const MESSAGES: usize = 60;
    for i in 0..MESSAGES {
        queue(s, Duration::milliseconds(i as i64)).await;
    }
    let now = t0() + Duration::minutes(1);
    let lease = now + Duration::minutes(5);
    let claimed: Vec<Vec<Uuid>> = race(s, 2, move |s, _| async move {
        let mut mine = vec![];
        loop {
            let batch = s.claim_due_mail(now, lease, 4).await.unwrap();
            if batch.is_empty() {
                return mine;
            }
            mine.extend(ids(&batch));
        }
    })
    .await;
    let all: Vec<Uuid> = claimed.concat();
    let unique: HashSet<Uuid> = all.iter().copied().collect();
    assert_eq!(all.len(), unique.len(), "a message was claimed twice");
    assert_eq!(unique.len(), MESSAGES, "every message was claimed");
}

/// A worker whose lease ran out reports late: the first final status stays.
async fn the_first_final_status_wins(s: &Storage) {
    let id = queue(s, Duration::zero()).await;
    s.claim_due_mail(t0(), t0() + Duration::minutes(1), 10)
        .await
        .unwrap();
    s.mark_mail_sent(id, t0()).await.unwrap();
    s.mark_mail_failed(id, 3, "late worker").await.unwrap();
    s.schedule_mail_retry(id, 2, t0() + Duration::minutes(5), "late worker")
        .await
        .unwrap();
    assert_eq!(s.count_mail(MailStatus::Sent).await.unwrap(), 1);
    assert_eq!(s.count_mail(MailStatus::Failed).await.unwrap(), 0);
    assert_eq!(s.count_mail(MailStatus::Pending).await.unwrap(), 0);
    let later = t0() + Duration::hours(2);
    assert!(s.claim_due_mail(later, later, 10).await.unwrap().is_empty());
}

both_backends!(
    the_first_final_status_wins,
    claims_respect_due_time_and_lease,
    claims_are_oldest_first_and_limited,
    concurrent_claimers_never_share_a_message,
);
