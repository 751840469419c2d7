//! The directory audit log: written with each change, listed newest first.

use crate::common::*;
use chrono::Duration;
use portico_directory::UserRepo;
use portico_directory::audit::{AuditQuery, AuditRepo};
use portico_storage::Storage;
use uuid::Uuid;

async fn changes_are_audited_and_listed_newest_first(s: &Storage) {
    let mut u = user("log@contoso.example");
    let create = audit("Add user", u.id).after(u.audit_view());
    s.create_user(&u, &create).await.unwrap();
    let before = u.audit_view();
    u.display_name = "Logged".into();
    u.updated_at = t0() + Duration::minutes(1);
    let update = audit("Update user", u.id)
        .before(before)
        .after(u.audit_view());
    s.update_user(&u, &update).await.unwrap();
    let delete = audit("Delete user", u.id).before(u.audit_view());
    s.delete_user(u.id, &delete).await.unwrap();
    let other = user("other@contoso.example");
    let other_entry = audit("Add user", other.id);
    s.create_user(&other, &other_entry).await.unwrap();

    let all = s.list_audits(&AuditQuery::default()).await.unwrap();
    let expected = [&other_entry, &delete, &update, &create];
    assert_eq!(all.len(), expected.len());
    for (got, want) in all.iter().zip(expected) {
        assert_eq!(got.id, want.id);
        assert_eq!(
            (&got.actor, &got.before, &got.after),
            (&want.actor, &want.before, &want.after)
        );
        assert_eq!(
            (got.at, got.target_name.as_str()),
            (micros(want.at), "Target")
        );
    }

    let of_u = AuditQuery {
        target_id: Some(u.id.to_string()),
        ..Default::default()
    };
    assert_eq!(s.list_audits(&of_u).await.unwrap().len(), 3);
    let adds = AuditQuery {
        activity: Some("Add user".into()),
        ..Default::default()
    };
    let adds: Vec<Uuid> = s
        .list_audits(&adds)
        .await
        .unwrap()
        .iter()
        .map(|a| a.id)
        .collect();
    assert_eq!(adds, vec![other_entry.id, create.id]);

    let mut q = AuditQuery {
        limit: 3,
        ..Default::default()
    };
    let first = s.list_audits(&q).await.unwrap();
    q.before = first.last().map(|a| a.id);
    let second = s.list_audits(&q).await.unwrap();
    let paged: Vec<Uuid> = first.iter().chain(&second).map(|a| a.id).collect();
    assert_eq!(paged, expected.iter().map(|e| e.id).collect::<Vec<_>>());
}

both_backends!(changes_are_audited_and_listed_newest_first);
