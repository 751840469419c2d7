//! Bounded growth: the clean-up worker deletes what has expired (in batches),
//! keeps what is live, and runs on one node of the cluster at a time (a lease
//! in the database, taken over when its holder stops renewing it). Time only
//! moves when a test advances the clock.

use crate::redeem_steps::{code_page, invite};
use crate::support::*;
use chrono::Duration;
use portico::workers::{CLEANUP_LEASE, CLEANUP_LEASE_TTL};
use portico_core::Clock;
use portico_tests::{Backend, Browser, TestApp, both_backends, pkce_pair, spawn_app};

/// The rows the clean-up visits, by table.
async fn counts(app: &TestApp) -> Vec<(&'static str, u64)> {
    app.server.app.storage.row_counts().await.unwrap()
}

fn count(counts: &[(&'static str, u64)], table: &str) -> u64 {
    counts.iter().find(|(t, _)| *t == table).unwrap().1
}

/// One round of traffic: a full sign-in with tokens (session, code and
/// refresh token records) whose access token is then revoked (a revoked
/// access token record), an abandoned sign-in (an interaction), and a
/// redemption code (a one-time code). Returns the refresh token.
async fn traffic(app: &TestApp, client: &portico_tests::TestClient, round: usize) -> String {
    let tokens = tokens_for_alice(app, client).await;
    let revoked = reqwest::Client::new()
        .post(app.url("/revoke"))
        .basic_auth(&client.client_id, client.secret.as_ref())
        .form(&[
            ("token", tokens["access_token"].as_str().unwrap()),
            ("token_type_hint", "access_token"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status(), 200);
    let abandoned = Browser::new(&app.issuer);
    let (_, challenge) = pkce_pair();
    let hop = abandoned
        .get(&authorize_url(app, client, &challenge, &[]))
        .await;
    assert_eq!(hop.status, 303);
    let (_, link) = invite(app, &format!("guest{round}@fabrikam.example")).await;
    code_page(&Browser::new(&app.issuer), &link).await;
    tokens["refresh_token"].as_str().unwrap().to_string()
}

/// The size of SQLite's `-wal` file (0 when there is none).
fn wal_len(app: &TestApp) -> u64 {
    std::fs::metadata(app.data_dir.join("portico.db-wal")).map_or(0, |m| m.len())
}

const TABLES: [&str; 7] = [
    "interactions",
    "sessions",
    "grants",
    "auth_codes",
    "revoked_access_tokens",
    "refresh_tokens",
    "one_time_codes",
];

async fn expired_rows_go_and_the_tables_plateau(backend: Backend) {
    let app = spawn_app(backend).await;
    app.alice().await;
    let client = app.web_app().await;
    let cleanup = &app.server.app.workers.cleanup;
    for round in 0..3 {
        traffic(&app, &client, round).await;
        let before = counts(&app).await;
        for t in TABLES {
            assert!(
                count(&before, t) >= 1,
                "round {round}: no {t} row to clean: {before:?}"
            );
        }
        // Past every lifetime and grace: a refresh token's 30 days are the longest.
        app.clock.advance(Duration::days(31));
        let wal_before = wal_len(&app);
        let report = cleanup
            .run_once()
            .await
            .unwrap()
            .expect("the only node holds the lease");
        // SQLite's log goes into the file and starts over (other workers may
        // write a lease row meanwhile: a page or two, not the round's log).
        if backend == Backend::Sqlite {
            let wal_after = wal_len(&app);
            assert!(
                wal_before > 64 * 1024 && wal_after < wal_before / 4,
                "round {round}: the log was {wal_before} bytes, {wal_after} after the clean-up"
            );
        }
        let after = counts(&app).await;
        for t in TABLES {
            assert_eq!(count(&after, t), 0, "round {round}: {t} left: {after:?}");
            assert_eq!(report.of(t), count(&before, t), "round {round}: {t}");
        }
        assert!(report.total() > 0);
    }
    // Live rows stay: fresh traffic, a clean-up at the same instant, and the
    // session and refresh token still work.
    let refresh = traffic(&app, &client, 9).await;
    let before = counts(&app).await;
    let report = cleanup.run_once().await.unwrap().unwrap();
    for t in [
        "interactions",
        "sessions",
        "grants",
        "revoked_access_tokens",
        "refresh_tokens",
        "one_time_codes",
    ] {
        assert_eq!(report.of(t), 0, "live {t} deleted");
    }
    assert_eq!(counts(&app).await, before);
    let resp = refresh_request(&app, &client, &refresh).await;
    assert_eq!(
        resp.status(),
        200,
        "a live refresh token survives the clean-up"
    );
    let rotated = json(resp).await["refresh_token"]
        .as_str()
        .unwrap()
        .to_string();
    // Two days on, the session, codes and access tokens are gone and the grant
    // is past its keep time, but its refresh token still lives: the grant stays.
    app.clock.advance(Duration::days(2));
    let report = cleanup.run_once().await.unwrap().unwrap();
    assert!(report.of("sessions") >= 1 && report.of("revoked_access_tokens") >= 1);
    let resp = refresh_request(&app, &client, &rotated).await;
    assert_eq!(
        resp.status(),
        200,
        "the grant of a live refresh token stays"
    );
}
both_backends!(
    expired_rows_go_and_the_tables_plateau,
    super::expired_rows_go_and_the_tables_plateau
);

async fn one_node_holds_the_cleanup_lease_until_it_runs_out(backend: Backend) {
    let app = spawn_app(backend).await;
    let node = app.second_node().await;
    let first = &app.server.app.workers.cleanup;
    let second = &node.server.app.workers.cleanup;
    let storage = &app.server.app.storage;
    // Nodes wait one interval (a day here) before their first round, so
    // nothing runs behind the test's back: the first node to ask takes the
    // lease, the other is refused while it is live.
    assert_eq!(
        storage
            .lease_holder(CLEANUP_LEASE, app.clock.now())
            .await
            .unwrap(),
        None,
        "no round ran at start-up"
    );
    let (holding, waiting) = (first, second);
    assert!(holding.run_once().await.unwrap().is_some(), "free: taken");
    assert!(
        holding.run_once().await.unwrap().is_some(),
        "the holder renews"
    );
    assert!(
        waiting.run_once().await.unwrap().is_none(),
        "only one node runs it"
    );
    // The holder stops renewing (a crashed node): once the lease has run out,
    // the other node takes over, and the old holder is now refused.
    app.clock.advance(CLEANUP_LEASE_TTL - Duration::seconds(1));
    assert!(
        waiting.run_once().await.unwrap().is_none(),
        "not before it runs out"
    );
    app.clock.advance(Duration::seconds(1));
    assert!(waiting.run_once().await.unwrap().is_some(), "taken over");
    assert!(
        holding.run_once().await.unwrap().is_none(),
        "the old holder lost it"
    );
    assert_eq!(
        storage
            .lease_holder(CLEANUP_LEASE, app.clock.now())
            .await
            .unwrap()
            .as_deref(),
        Some(waiting.holder())
    );
}
both_backends!(
    one_node_holds_the_cleanup_lease_until_it_runs_out,
    super::one_node_holds_the_cleanup_lease_until_it_runs_out
);

#[tokio::test]
async fn oversized_request_values_are_refused_to_the_app() {
    let app = spawn_app(Backend::Sqlite).await;
    let client = app.web_app().await;
    let (_, challenge) = pkce_pair();
    for (name, max) in portico_oidc::authorize::VALUE_LIMITS {
        if *name == "code_challenge" {
            continue;
        }
        let long = "a".repeat(max + 1);
        let hop = Browser::new(&app.issuer)
            .get(&authorize_url(&app, &client, &challenge, &[(name, &long)]))
            .await;
        assert_eq!(hop.status, 303, "{name}");
        let loc = hop.location.unwrap();
        assert!(loc.starts_with(&client.redirect_uri), "{name}: {loc}");
        assert_eq!(
            param(&query_of(&loc), "error").as_deref(),
            Some("invalid_request"),
            "{name}"
        );
    }
}
