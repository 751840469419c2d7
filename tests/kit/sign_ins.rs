//! Sign-in records for tests of the sign-in log's readers (the admin API and
//! the portal): built here, written straight into the test server's storage.

use crate::TestApp;
use portico_core::Clock;
use portico_oidc::signin_log::{SignInLog, SignInRecord, SignInResult, StepRecord};
use uuid::Uuid;

/// A sign-in of `user_id` (Alice, when given) at `client_id` ending in
/// `result`, now by the app's clock: a password step, and the failure fields
/// of a wrong password unless it succeeded.
pub fn sign_in_record(
    app: &TestApp,
    client_id: &str,
    user_id: Option<Uuid>,
    result: SignInResult,
) -> SignInRecord {
    let now = app.clock.now();
    let ok = result == SignInResult::Success;
    SignInRecord {
        id: Uuid::now_v7(),
        created_at: now,
        user_id,
        user_principal_name: user_id.map(|_| "alice@contoso.example".into()),
        user_display_name: user_id.map(|_| "Alice Example".into()),
        client_id: client_id.into(),
        app_display_name: format!("App {client_id}"),
        home_idp: None,
        ip_address: Some("192.0.2.10".into()),
        user_agent: Some("Mozilla/5.0 (X11; Linux x86_64) Test".into()),
        steps: vec![StepRecord {
            method: "password".into(),
            at: now,
            amr: Some("pwd".into()),
        }],
        amr: if ok { vec!["pwd".into()] } else { vec![] },
        acr: None,
        result,
        failure_reason: (!ok).then(|| "invalid_credentials".into()),
        failure_message: (!ok).then(|| "The email or password is incorrect.".into()),
        correlation_id: Uuid::new_v4().to_string(),
        platform: None,
        country: None,
        applied_policies: vec![],
    }
}

impl TestApp {
    /// Writes `record` to the sign-in log, as the end of a sign-in would.
    pub async fn record_sign_in(&self, record: &SignInRecord) {
        self.server
            .app
            .storage
            .record_sign_in(record)
            .await
            .expect("record sign-in");
    }
}
