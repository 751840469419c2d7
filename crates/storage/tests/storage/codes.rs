//! Email one-time codes: every attempt is decided atomically in storage.

use crate::common::*;
use chrono::Duration;
use portico_core::MailKind;
use portico_directory::invitations::{CodeCheck, InvitationRepo, OneTimeCode};
use portico_mail::{MailQueue, MailStatus};
use portico_storage::Storage;

const MAX: i32 = 3;

async fn save(s: &Storage, c: &OneTimeCode) {
    s.create_code(c, &mail(&c.email, MailKind::OneTimeCode))
        .await
        .unwrap();
}

async fn code_and_its_mail_are_saved_together(s: &Storage) {
    let c = otp("h1");
    save(s, &c).await;
    assert_eq!(s.find_code(c.id).await.unwrap(), Some(c.clone()));
    assert_eq!(s.count_mail(MailStatus::Pending).await.unwrap(), 1);
    let mut later = otp("h2");
    later.created_at = t0() + Duration::minutes(5);
    save(s, &later).await;
    let since = |m| s.count_codes_since("guest@fabrikam.example", t0() + Duration::minutes(m));
    assert_eq!(since(0).await.unwrap(), 2);
    assert_eq!(since(1).await.unwrap(), 1);
    assert_eq!(
        s.count_codes_since("other@fabrikam.example", t0())
            .await
            .unwrap(),
        0
    );
}

async fn right_code_is_accepted_once(s: &Storage) {
    let c = otp("right");
    save(s, &c).await;
    let now = t0() + Duration::minutes(1);
    assert_eq!(
        s.check_code(c.id, "right", MAX, now).await.unwrap(),
        CodeCheck::Accepted
    );
    assert_eq!(
        s.check_code(c.id, "right", MAX, now).await.unwrap(),
        CodeCheck::Spent
    );
    let stored = s.find_code(c.id).await.unwrap().unwrap();
    assert_eq!(stored.consumed_at, Some(micros(now)));
    let unknown = s
        .check_code(uuid::Uuid::now_v7(), "right", MAX, now)
        .await
        .unwrap();
    assert_eq!(unknown, CodeCheck::Spent);
}

async fn wrong_attempts_count_down_to_spent(s: &Storage) {
    let c = otp("right");
    save(s, &c).await;
    let now = t0() + Duration::minutes(1);
    for left in (0..MAX).rev() {
        let r = s.check_code(c.id, "wrong", MAX, now).await.unwrap();
        assert_eq!(
            r,
            CodeCheck::Wrong {
                attempts_left: left
            }
        );
    }
    assert_eq!(
        s.check_code(c.id, "wrong", MAX, now).await.unwrap(),
        CodeCheck::Spent
    );
    let late = s.check_code(c.id, "right", MAX, now).await.unwrap();
    assert_eq!(
        late,
        CodeCheck::Spent,
        "the right code is refused once attempts ran out"
    );
    assert_eq!(s.find_code(c.id).await.unwrap().unwrap().attempts, MAX);
}

async fn expired_code_is_spent(s: &Storage) {
    let c = otp("right");
    save(s, &c).await;
    assert_eq!(
        s.check_code(c.id, "right", MAX, c.expires_at)
            .await
            .unwrap(),
        CodeCheck::Spent
    );
    let wrong = s
        .check_code(c.id, "wrong", MAX, c.expires_at)
        .await
        .unwrap();
    assert_eq!(wrong, CodeCheck::Spent);
    assert_eq!(
        s.find_code(c.id).await.unwrap().unwrap().attempts,
        0,
        "no attempt counted"
    );
    let just_before = c.expires_at - Duration::microseconds(1);
    let ok = s.check_code(c.id, "right", MAX, just_before).await.unwrap();
    assert_eq!(ok, CodeCheck::Accepted);
}

async fn ten_concurrent_right_answers_accept_once(s: &Storage) {
    let c = otp("right");
    save(s, &c).await;
    let id = c.id;
    let now = t0() + Duration::minutes(1);
    let results = race(s, 10, move |s, _| async move {
        s.check_code(id, "right", MAX, now).await
    })
    .await;
    let results: Vec<CodeCheck> = results.into_iter().map(|r| r.unwrap()).collect();
    let accepted = results
        .iter()
        .filter(|r| **r == CodeCheck::Accepted)
        .count();
    assert_eq!(accepted, 1, "{results:?}");
    assert!(
        results
            .iter()
            .all(|r| matches!(r, CodeCheck::Accepted | CodeCheck::Spent))
    );
}

/// Concurrent wrong answers never get more tries than `max_attempts` in total.
async fn concurrent_wrong_answers_are_all_counted(s: &Storage) {
    let c = otp("right");
    save(s, &c).await;
    let id = c.id;
    let now = t0() + Duration::minutes(1);
    let results = race(s, 10, move |s, _| async move {
        s.check_code(id, "wrong", MAX, now).await
    })
    .await;
    let wrong = results
        .into_iter()
        .filter(|r| matches!(r.as_ref().unwrap(), CodeCheck::Wrong { .. }))
        .count();
    assert_eq!(wrong, MAX as usize);
    assert_eq!(s.find_code(id).await.unwrap().unwrap().attempts, MAX);
}

both_backends!(
    code_and_its_mail_are_saved_together,
    right_code_is_accepted_once,
    wrong_attempts_count_down_to_spent,
    expired_code_is_spent,
    ten_concurrent_right_answers_accept_once,
    concurrent_wrong_answers_are_all_counted,
);
