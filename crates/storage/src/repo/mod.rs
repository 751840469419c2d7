//! Implementations of the repository traits, by area, and the helpers they share.

mod audit;
pub(crate) mod backchannel;
pub(crate) mod cleanup;
mod clients;
mod conditional_access;
mod federation;
mod grants;
pub(crate) mod groups;
mod imports;
mod interactions;
mod invitations;
mod join_requests;
mod keys;
mod mail_queue;
mod mfa;
mod outbox;
mod passkeys;
mod policy;
mod rate_limits;
mod revoke;
mod sessions;
mod settings;
mod sign_ins;
mod tokens;
mod user_guards;
mod user_rows;
mod users;

pub(crate) use conditional_access::CaDocuments;
pub(crate) use federation::IdpIndex;
pub(crate) use grants::GrantWithAccount;

use chrono::{DateTime, DurationRound, TimeDelta, Utc};
use portico_directory::DirectoryError;
use portico_oidc::store::StoreError;
use sea_orm::{DbErr, RuntimeErr, SqlErr};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// Any database failure the caller cannot act on.
pub(crate) fn internal(e: DbErr) -> StoreError {
    StoreError::Internal(e.into())
}

/// The directory's flavour of [`internal`].
pub(crate) fn db_err(e: DbErr) -> DirectoryError {
    DirectoryError::Internal(e.into())
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

/// Structured values (actors) are stored as JSON objects.
pub(crate) fn to_json<T: Serialize>(v: &T) -> Result<serde_json::Value, DirectoryError> {
    serde_json::to_value(v).map_err(|e| DirectoryError::Internal(e.into()))
}

pub(crate) fn from_json<T: DeserializeOwned>(v: serde_json::Value) -> Result<T, DirectoryError> {
    serde_json::from_value(v).map_err(|e| DirectoryError::Internal(e.into()))
}

/// A stored state or type that no longer parses: the row was written by
/// something other than this code.
pub(crate) fn bad_value(column: &str, value: &str) -> DirectoryError {
    DirectoryError::Internal(anyhow::anyhow!(
        "unknown {column} {value:?} in the database"
    ))
}

/// `t` cut to whole microseconds, which is what PostgreSQL keeps. Timestamps
/// that are later compared for equality (a renewed lease) are written this
/// way on both backends, so the caller's own value still matches.
pub(crate) fn micros(t: DateTime<Utc>) -> DateTime<Utc> {
    t.duration_trunc(TimeDelta::microseconds(1)).unwrap_or(t)
}

/// `0` asks for everything; anything else is a page size.
pub(crate) fn page_limit(limit: u64) -> Option<u64> {
    (limit > 0).then_some(limit)
}
