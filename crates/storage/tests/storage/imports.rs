//! `ImportRepo`: jobs, idempotent staging, row pages, counts and the lease.

use crate::common::*;
use chrono::Duration;
use portico_directory::DirectoryError;
use portico_directory::import::{ImportCounts, ImportRepo, ImportRow, JobStatus, RowOutcome};
use portico_directory::invitations::ImportRowOutcome;
use portico_storage::Storage;
use uuid::Uuid;

async fn new_job(s: &Storage, sha: &str) -> Uuid {
    let j = job(sha);
    s.create_job(&j, &audit("Import", j.id)).await.unwrap();
    assert_eq!(s.find_job(j.id).await.unwrap(), Some(j.clone()));
    j.id
}

fn rows(job: Uuid, from: i64, to: i64) -> Vec<ImportRow> {
    (from..=to).map(|n| import_row(job, n)).collect()
}

fn outcome(job: Uuid, n: i64, outcome: RowOutcome) -> ImportRowOutcome {
    ImportRowOutcome {
        job_id: job,
        row_number: n,
        outcome,
    }
}

async fn staging_is_idempotent(s: &Storage) {
    let j = new_job(s, "sha-stage").await;
    assert_eq!(s.last_staged_row(j).await.unwrap(), 0);
    // More rows than one INSERT takes, then a resumed batch that overlaps.
    s.stage_rows(&rows(j, 1, 2500)).await.unwrap();
    let mut again = rows(j, 2401, 2600);
    again[0].email = "changed@fabrikam.example".into();
    s.stage_rows(&again).await.unwrap();
    s.stage_rows(&[]).await.unwrap();
    assert_eq!(s.last_staged_row(j).await.unwrap(), 2600);
    assert_eq!(s.count_rows(j).await.unwrap().total, 2600);
    let kept = s.rows(j, 2400, 1, false).await.unwrap();
    assert_eq!(
        kept,
        vec![import_row(j, 2401)],
        "an already staged row is left alone"
    );
}

async fn counts_and_pages_follow_outcomes(s: &Storage) {
    let j = new_job(s, "sha-count").await;
    let mut staged = rows(j, 1, 8);
    staged[1].error = Some("bad email".into());
    staged[4].error = Some("bad url".into());
    s.stage_rows(&staged).await.unwrap();
    let invited = RowOutcome::Invited {
        invitation_id: Uuid::now_v7(),
        user_id: Uuid::now_v7(),
    };
    let existing = RowOutcome::AlreadyInvited {
        user_id: Uuid::now_v7(),
        invitation_id: None,
    };
    let failed = RowOutcome::Failed {
        error: "smtp".into(),
    };
    for (n, o) in [
        (1, invited.clone()),
        (3, existing.clone()),
        (4, failed.clone()),
    ] {
        s.record_row_outcome(&outcome(j, n, o)).await.unwrap();
    }
    // First outcome wins; an unknown row is an error.
    s.record_row_outcome(&outcome(j, 1, failed.clone()))
        .await
        .unwrap();
    let missing = s.record_row_outcome(&outcome(j, 99, failed.clone())).await;
    assert!(
        matches!(missing, Err(DirectoryError::NotFound)),
        "{missing:?}"
    );

    let expect = ImportCounts {
        total: 8,
        invalid: 2,
        pending: 3,
        invited: 1,
        existing: 1,
        failed: 1,
    };
    assert_eq!(s.count_rows(j).await.unwrap(), expect);
    assert_eq!(
        s.count_rows(Uuid::now_v7()).await.unwrap(),
        ImportCounts::default()
    );

    let numbers = |r: Vec<ImportRow>| r.iter().map(|r| r.row_number).collect::<Vec<_>>();
    assert_eq!(
        numbers(s.pending_rows(j, 0, 10).await.unwrap()),
        vec![6, 7, 8]
    );
    assert_eq!(numbers(s.pending_rows(j, 6, 1).await.unwrap()), vec![7]);
    assert_eq!(
        numbers(s.rows(j, 0, 10, true).await.unwrap()),
        vec![2, 4, 5]
    );
    let page = s.rows(j, 0, 3, false).await.unwrap();
    assert_eq!(numbers(page.clone()), vec![1, 2, 3]);
    assert_eq!(
        (page[0].outcome.clone(), page[2].outcome.clone()),
        (Some(invited), Some(existing))
    );
}

async fn jobs_are_found_listed_and_completed(s: &Storage) {
    let a = new_job(s, "sha-a").await;
    let b = new_job(s, "sha-a").await;
    let c = new_job(s, "sha-c").await;
    let found = s.find_unfinished_job("sha-a").await.unwrap().map(|j| j.id);
    assert_eq!(found, Some(b), "the newest unfinished job for the file");
    let done = t0() + Duration::hours(1);
    s.set_job_status(b, JobStatus::Completed, done)
        .await
        .unwrap();
    assert_eq!(
        s.find_unfinished_job("sha-a").await.unwrap().map(|j| j.id),
        Some(a)
    );
    let b_job = s.find_job(b).await.unwrap().unwrap();
    assert_eq!(
        (b_job.status, b_job.finished_at),
        (JobStatus::Completed, Some(micros(done)))
    );
    let listed: Vec<Uuid> = s.list_jobs(2).await.unwrap().iter().map(|j| j.id).collect();
    assert_eq!(listed, vec![c, b]);
    let missing = s
        .set_job_status(Uuid::now_v7(), JobStatus::Running, done)
        .await;
    assert!(
        matches!(missing, Err(DirectoryError::NotFound)),
        "{missing:?}"
    );

    s.set_job_status(a, JobStatus::Running, done).await.unwrap();
    let runnable = |at| async move { s.list_runnable_jobs(at).await.unwrap().len() };
    assert_eq!(runnable(done).await, 1);
    assert!(
        s.lease_job(a, None, done + Duration::minutes(5), done)
            .await
            .unwrap()
    );
    assert_eq!(runnable(done).await, 0, "leased");
    assert_eq!(
        runnable(done + Duration::minutes(5)).await,
        1,
        "lease ran out"
    );
}

async fn lease_is_exclusive_and_renewable(s: &Storage) {
    let j = new_job(s, "sha-lease").await;
    // A nanosecond instant: the renewal must still match on PostgreSQL.
    let until = t0() + Duration::minutes(1) + Duration::nanoseconds(789);
    let wins = race(s, 10, move |s, _| async move {
        s.lease_job(j, None, until, t0()).await
    })
    .await
    .into_iter()
    .filter(|r| *r.as_ref().unwrap())
    .count();
    assert_eq!(wins, 1);
    let held = s.find_job(j).await.unwrap().unwrap().lease_until;
    let renewed = until + Duration::minutes(1);
    assert!(
        s.lease_job(j, Some(until), renewed, t0()).await.unwrap(),
        "own lease (as sent)"
    );
    assert!(
        s.lease_job(j, Some(renewed), renewed, t0()).await.unwrap(),
        "own lease again"
    );
    assert!(
        !s.lease_job(j, held, renewed, t0()).await.unwrap(),
        "an outdated lease"
    );
    assert!(
        !s.lease_job(j, None, renewed, until).await.unwrap(),
        "still held"
    );
    assert!(
        s.lease_job(j, None, renewed, renewed).await.unwrap(),
        "ran out: free"
    );
}

both_backends!(
    staging_is_idempotent,
    counts_and_pages_follow_outcomes,
    jobs_are_found_listed_and_completed,
    lease_is_exclusive_and_renewable,
);
