//! Placeholder until the sign-in log's table lands (branch `signins`).

use crate::Storage;
use async_trait::async_trait;
use portico_oidc::signin_log::{SignInLog, SignInQuery, SignInRecord};
use portico_oidc::store::StoreResult;
use uuid::Uuid;

#[async_trait]
impl SignInLog for Storage {
    async fn record_sign_in(&self, record: &SignInRecord) -> StoreResult<()> {
        tracing::info!(result = record.result.as_str(), "sign-in");
        Ok(())
    }
    async fn list_sign_ins(&self, _: &SignInQuery) -> StoreResult<Vec<SignInRecord>> {
        Ok(vec![])
    }
    async fn find_sign_in(&self, _: Uuid) -> StoreResult<Option<SignInRecord>> {
        Ok(None)
    }
}
