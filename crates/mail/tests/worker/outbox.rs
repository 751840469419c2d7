//! Without a relay: `.eml` files, the drain used by the CLI, and the loop.

use std::time::Duration;

use portico_mail::{DeliveryReport, MailQueue, MailStatus, eml_file_name};

use crate::parse::parse;
use crate::support::{Harness, TempDir, outbox_config};

fn eml_files(dir: &std::path::Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[tokio::test]
async fn without_a_relay_each_message_becomes_a_parseable_eml_file() {
    let tmp = TempDir::new("outbox");
    // The directory does not exist yet: the first message creates it.
    let dir = tmp.path().join("outbox");
    let h = Harness::new(outbox_config(&dir));
    let first = h.queue_invitation("a@fabrikam.example", "First\r\nX-Injected: yes");
    h.clock.advance(chrono::TimeDelta::seconds(1));
    let second = h.queue_invitation("b@fabrikam.example", "Second");

    assert_eq!(
        h.worker.run_once().await.unwrap(),
        DeliveryReport {
            sent: 2,
            retried: 0,
            failed: 0
        }
    );

    // Only the final files, in queue order; no temporary file left behind.
    assert_eq!(
        eml_files(&dir),
        [eml_file_name(&first), eml_file_name(&second)]
    );
    let got = parse(&std::fs::read(dir.join(eml_file_name(&first))).unwrap());
    assert_eq!(got.to, "a@fabrikam.example");
    assert_eq!(got.subject, "First  X-Injected: yes");
    assert!(
        !got.header_names
            .iter()
            .any(|n| n.eq_ignore_ascii_case("X-Injected"))
    );
    assert_eq!(got.message_id, format!("<{}@contoso.example>", first.id));
    assert_eq!(got.text.trim_end(), first.text);
    assert_eq!(got.html.trim_end(), first.html);
}

#[tokio::test]
async fn drain_sends_everything_due_across_several_batches() {
    let tmp = TempDir::new("outbox");
    let h = Harness::new(outbox_config(tmp.path()));
    for n in 0..45 {
        h.queue_invitation(&format!("guest{n}@fabrikam.example"), "Invitation");
    }
    h.queue_invitation("broken address", "Invitation");

    let report = h.worker.drain().await.unwrap();
    assert_eq!(
        report,
        DeliveryReport {
            sent: 45,
            retried: 0,
            failed: 1
        }
    );
    assert_eq!(eml_files(tmp.path()).len(), 45);
    assert_eq!(h.queue.count_mail(MailStatus::Pending).await.unwrap(), 0);
}

#[tokio::test]
async fn spawned_loop_sends_queued_mail_and_stops_on_shutdown() {
    let tmp = TempDir::new("outbox");
    let h = Harness::new(outbox_config(tmp.path()));
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let handle = h.worker.clone().spawn(async move {
        let _ = stopped.await;
    });

    let mail = h.queue_invitation("guest@fabrikam.example", "Your code");
    h.worker.poke();
    // Waits for an event from the loop, not for time to pass; the bound only
    // turns a hang into a failure.
    tokio::time::timeout(Duration::from_secs(10), h.queue.sent.notified())
        .await
        .unwrap();
    assert_eq!(h.queue.row(mail.id).status, MailStatus::Sent);

    stop.send(()).unwrap();
    tokio::time::timeout(Duration::from_secs(10), handle)
        .await
        .unwrap()
        .unwrap();
}
