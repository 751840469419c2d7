//! Online guessing and argon2 exhaustion: failed passwords are counted in the
//! database (every node sees them), keyed on the normalized address (bounded:
//! an over-long one is refused before anything is looked up), and password
//! checks beyond the cap wait in a bounded waiting room, and beyond it are
//! answered 503 with `Retry-After` at once.

use crate::support::*;
use portico_tests::{Backend, Browser, TestApp, both_backends, pkce_pair, spawn_app};

/// The sign-in page's URL (the interaction) on `issuer`, for a new sign-in.
async fn sign_in_path(app: &TestApp, issuer: &str, b: &Browser) -> String {
    let client = app.web_app().await;
    let (_, challenge) = pkce_pair();
    let url = authorize_url(app, &client, &challenge, &[]).replace(&app.issuer, issuer);
    let start = b.get(&url).await;
    assert_eq!(start.status, 303, "{}", start.body);
    start.location.unwrap()
}

async fn failures_on_one_node_block_the_account_on_the_other(backend: Backend) {
    let app = spawn_app(backend).await;
    app.alice().await;
    let node = app.second_node().await;
    let first = Browser::new(&app.issuer);
    let second = Browser::new(&node.issuer);
    let on_first = sign_in_path(&app, &app.issuer, &first).await;
    let on_second = sign_in_path(&app, &node.issuer, &second).await;
    // Ten wrong passwords, half on each node, under different spellings of
    // the same address: they all count for one account.
    for i in 0..10 {
        let (b, path) = if i % 2 == 0 {
            (&first, &on_first)
        } else {
            (&second, &on_second)
        };
        let typed = if i % 3 == 0 {
            " ALICE@Contoso.example "
        } else {
            ALICE
        };
        let hop = b.sign_in(b.get(path).await, typed, "wrong password").await;
        assert!(hop.body.contains("incorrect"), "{}", hop.body);
    }
    for (b, path) in [(&first, &on_first), (&second, &on_second)] {
        let hop = b.sign_in(b.get(path).await, ALICE, ALICE_PW).await;
        assert!(hop.location.is_none());
        assert!(
            hop.body.contains("Too many failed attempts"),
            "{}",
            hop.body
        );
    }
    // The window ends for both nodes at once.
    app.clock.advance(chrono::Duration::minutes(16));
    let hop = second
        .sign_in(second.get(&on_second).await, ALICE, ALICE_PW)
        .await;
    assert!(hop.status.is_redirection(), "{} {}", hop.status, hop.body);
}
both_backends!(
    failures_on_one_node_block_the_account_on_the_other,
    super::failures_on_one_node_block_the_account_on_the_other
);

#[tokio::test]
async fn an_oversized_email_gets_a_clear_400_page() {
    let app = spawn_app(Backend::Sqlite).await;
    let b = Browser::new(&app.issuer);
    let path = sign_in_path(&app, &app.issuer, &b).await;
    // Under the UI's 64 KiB form limit (a larger body is a 413 page,
    // it::limits::ui_forms_over_64_kib_get_a_readable_413_page).
    let huge = format!("{}@contoso.example", "a".repeat(60_000));
    let hop = b
        .sign_in(b.get(&path).await, &huge, "whatever password")
        .await;
    assert_eq!(hop.status, 400, "{}", &hop.body[..hop.body.len().min(500)]);
    assert!(hop.body.contains("email address is too long"));
    assert!(hop.body.len() < 100_000, "the address is not echoed back");
    // Nothing was counted under it: the table holds no megabyte key.
    let counts = app.server.app.storage.row_counts().await.unwrap();
    assert_eq!(
        counts.iter().find(|(t, _)| *t == "rate_limits").unwrap().1,
        0
    );
}

#[tokio::test]
async fn password_checks_beyond_the_cap_get_503_with_retry_after() {
    let app =
        portico_tests::spawn(Backend::Sqlite, None, |s| s.password_hash_concurrency = 2).await;
    app.alice().await;
    let b = Browser::new(&app.issuer);
    let path = sign_in_path(&app, &app.issuer, &b).await;
    // Every slot is busy (held here, as two running argon2 checks would), and
    // the waiting room is full (two sign-ins waiting).
    let password_slots = app.server.app.directory.password_slots();
    let slots = password_slots.semaphore();
    let held = slots.clone().acquire_many_owned(2).await.unwrap();
    let room = password_slots.waiting_room();
    let waiting = room.clone().acquire_many_owned(2).await.unwrap();
    let hop = b.sign_in(b.get(&path).await, ALICE, ALICE_PW).await;
    assert_eq!(hop.status, 503, "{}", hop.body);
    assert_eq!(hop.retry_after.as_deref(), Some("1"));
    assert!(hop.body.contains("Try again in a moment"));
    // Refused, not counted as a failure. With a place in the room, a sign-in
    // waits there and goes through as soon as a slot is free.
    drop(waiting);
    let page = b.get(&path).await;
    let signing_in = tokio::spawn({
        // The same browser (its cookie jar is shared) on another task.
        let b = Browser {
            http: b.http.clone(),
            base: b.base.clone(),
        };
        async move { b.sign_in(page, ALICE, ALICE_PW).await }
    });
    while room.available_permits() == 2 {
        assert!(
            !signing_in.is_finished(),
            "the sign-in did not wait for a slot"
        );
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    drop(held);
    let hop = signing_in.await.unwrap();
    assert!(hop.status.is_redirection(), "{} {}", hop.status, hop.body);
    assert_eq!(room.available_permits(), 2);
}
