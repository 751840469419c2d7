//! `group_join_requests`: one pending request per user and group, a request
//! is decided once, approving adds the member, audits and mail go with the
//! change, self-service groups are those an application owner also owns, and
//! the requests go with their user or group.

use crate::common::{audit, client, mail, pending_mail, t0, user};
use portico_core::MailKind;
use portico_directory::groups::{
    AppRoleAssignment, AssignmentRepo, Group, GroupRepo, PrincipalType, Relation,
};
use portico_directory::join_requests::{JoinRequest, JoinRequestRepo, JoinState};
use portico_directory::{DirectoryError, UserRepo};
use portico_oidc::store::ClientStore;
use portico_storage::Storage;
use uuid::Uuid;

fn group(name: &str) -> Group {
    Group {
        id: Uuid::now_v7(),
        display_name: name.into(),
        description: None,
        security_enabled: true,
        created_at: t0(),
        updated_at: t0(),
    }
}

fn request(group_id: Uuid, user_id: Uuid) -> JoinRequest {
    JoinRequest {
        id: Uuid::now_v7(),
        group_id,
        user_id,
        state: JoinState::Pending,
        created_at: t0(),
        decided_at: None,
        decided_by: None,
    }
}

async fn join_requests_are_pending_once_and_decided_once(s: &Storage) {
    let owner = user("olivia@contoso.example");
    let asker = user("bob@contoso.example");
    for u in [&owner, &asker] {
        s.create_user(u, &audit("Add user", u.id)).await.unwrap();
    }
    let g = group("Trials users");
    s.create_group(&g, &audit("Add group", g.id)).await.unwrap();
    let other = group("Not self-service");
    s.create_group(&other, &audit("Add group", other.id))
        .await
        .unwrap();

    // Self-service: assigned to an application whose owner owns the group too.
    let app = client("trials");
    s.create_client(&app, None).await.unwrap();
    assert!(s.self_service_groups().await.unwrap().is_empty());
    for gid in [g.id, other.id] {
        let a = AppRoleAssignment {
            id: Uuid::now_v7(),
            principal_id: gid,
            principal_type: PrincipalType::Group,
            principal_display_name: String::new(),
            resource_id: app.id,
            resource_display_name: String::new(),
            app_role_id: Uuid::nil(),
            created_at: t0(),
        };
        s.create_assignment(&a, &audit("Assign", app.id))
            .await
            .unwrap();
    }
    s.add_to_group(g.id, Relation::Owner, owner.id, &audit("Own", g.id))
        .await
        .unwrap();
    assert!(
        s.self_service_groups().await.unwrap().is_empty(),
        "not an app owner yet"
    );
    s.add_app_owner(app.id, owner.id, &audit("Own app", app.id))
        .await
        .unwrap();
    let ss = s.self_service_groups().await.unwrap();
    assert_eq!(ss.len(), 1, "{ss:?}");
    assert_eq!(ss[0].group.id, g.id);
    assert_eq!(ss[0].app_id, app.id);
    assert_eq!(ss[0].managers, vec![owner.id]);

    // One pending request per user and group, with its audit and mail.
    let mail_before = pending_mail(s).await;
    let r = request(g.id, asker.id);
    s.create_join_request(
        &r,
        &audit("Request to join group", g.id),
        &[mail(&owner.mail, MailKind::GroupJoinRequest)],
    )
    .await
    .unwrap();
    assert_eq!(pending_mail(s).await, mail_before + 1);
    let dup = s
        .create_join_request(
            &request(g.id, asker.id),
            &audit("Request to join group", g.id),
            &[mail(&owner.mail, MailKind::GroupJoinRequest)],
        )
        .await;
    assert!(matches!(dup, Err(DirectoryError::Conflict(_))), "{dup:?}");
    assert_eq!(
        pending_mail(s).await,
        mail_before + 1,
        "no mail for the refused request"
    );
    assert_eq!(
        s.pending_join_requests_of(asker.id).await.unwrap(),
        vec![r.clone()]
    );

    // Decided once: approving adds the member, with the audits and the mail.
    let approved = JoinRequest {
        state: JoinState::Approved,
        decided_at: Some(t0()),
        decided_by: Some(crate::common::admin()),
        ..r.clone()
    };
    let audits = [
        audit("Approve request to join group", g.id),
        audit("Add member to group", g.id),
    ];
    let to_asker = mail(&asker.mail, MailKind::GroupJoinRequest);
    assert!(
        s.decide_join_request(&approved, &audits, Some(&to_asker))
            .await
            .unwrap()
    );
    assert_eq!(s.user_group_ids(asker.id, false).await.unwrap(), vec![g.id]);
    assert_eq!(pending_mail(s).await, mail_before + 2);
    let declined = JoinRequest {
        state: JoinState::Declined,
        ..approved.clone()
    };
    assert!(
        !s.decide_join_request(&declined, &audits, Some(&to_asker))
            .await
            .unwrap(),
        "a request is decided once"
    );
    assert_eq!(pending_mail(s).await, mail_before + 2);
    assert_eq!(
        s.find_join_request(r.id).await.unwrap(),
        Some(approved.clone())
    );
    assert!(
        s.pending_join_requests_of(asker.id)
            .await
            .unwrap()
            .is_empty()
    );

    // Once decided, a new request may be made; the history stays.
    let again = request(g.id, asker.id);
    s.create_join_request(&again, &audit("Request to join group", g.id), &[])
        .await
        .unwrap();
    let listed = s.group_join_requests(g.id).await.unwrap();
    assert_eq!(listed.len(), 2);

    // The requests go with their user.
    assert!(
        s.delete_user(asker.id, &audit("Delete user", asker.id))
            .await
            .unwrap()
    );
    assert!(s.group_join_requests(g.id).await.unwrap().is_empty());
}

both_backends!(join_requests_are_pending_once_and_decided_once);
