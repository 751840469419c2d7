//! Implementations of the repository traits, by area, and the helpers they share.

mod clients;
mod grants;
mod interactions;
mod keys;
mod revoke;
mod sessions;
mod tokens;
mod users;

use portico_oidc::store::StoreError;
use sea_orm::{DbErr, RuntimeErr, SqlErr};

/// Any database failure the caller cannot act on.
pub(crate) fn internal(e: DbErr) -> StoreError {
    StoreError::Internal(e.into())
}

pub(crate) fn is_unique_violation(e: &DbErr) -> bool {
    matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_)))
}

/// PostgreSQL's `serialization_failure` (SQLSTATE 40001): the transaction lost
/// a race under SERIALIZABLE and may be retried.
pub(crate) fn is_serialization_failure(e: &DbErr) -> bool {
    match e {
        DbErr::Exec(RuntimeErr::SqlxError(e))
        | DbErr::Query(RuntimeErr::SqlxError(e))
        | DbErr::Conn(RuntimeErr::SqlxError(e)) => match e.as_ref() {
            sea_orm::sqlx::Error::Database(d) => d.code().as_deref() == Some("40001"),
            _ => false,
        },
        _ => false,
    }
}

/// Lists of strings are stored as JSON arrays.
pub(crate) fn list_to_json(v: &[String]) -> serde_json::Value {
    serde_json::Value::from(v.to_vec())
}

pub(crate) fn list_from_json(v: serde_json::Value) -> anyhow::Result<Vec<String>> {
    Ok(serde_json::from_value(v)?)
}
