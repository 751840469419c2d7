//! Human passwords: argon2id, hashed and verified on the blocking pool so a
//! sign-in never stalls the async runtime. Unknown users are checked against a
//! dummy hash so the answer time does not reveal whether an account exists.
//!
//! Each argon2 run takes ~19 MiB and tens of milliseconds of one core, so
//! [`PasswordSlots`] caps how many run at once (one per core by default). A
//! sign-in that finds every slot taken is refused at once
//! ([`DirectoryError::Busy`], which the UI answers 503 with `Retry-After`)
//! rather than queued: a queue would grow with the attack. Admin writes
//! (setting a password) wait for a slot instead.

use crate::users::DirectoryError;
use argon2::{Argon2, PasswordHasher, PasswordVerifier};
use std::sync::{Arc, OnceLock};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// The longest password accepted, in bytes; longer is refused before hashing.
pub const MAX_PASSWORD_BYTES: usize = 1024;

fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| {
        Argon2::default()
            .hash_password(b"portico-dummy-password-for-timing")
            .map(|h| h.to_string())
            .unwrap_or_default()
    })
}

/// How many argon2 computations may run at the same time.
#[derive(Clone)]
pub struct PasswordSlots(Arc<Semaphore>);

impl PasswordSlots {
    /// `n` slots; `0` means one per core (`std::thread::available_parallelism`).
    pub fn new(n: usize) -> Self {
        let n = if n == 0 {
            std::thread::available_parallelism().map_or(1, |c| c.get())
        } else {
            n
        };
        Self(Arc::new(Semaphore::new(n)))
    }

    /// The semaphore itself, so a test can hold every slot.
    pub fn semaphore(&self) -> Arc<Semaphore> {
        Arc::clone(&self.0)
    }

    /// A slot now, or `Busy`.
    pub fn try_take(&self) -> Result<OwnedSemaphorePermit, DirectoryError> {
        Arc::clone(&self.0)
            .try_acquire_owned()
            .map_err(|_| DirectoryError::Busy)
    }

    /// A slot, waiting for one.
    pub async fn take(&self) -> Result<OwnedSemaphorePermit, DirectoryError> {
        Arc::clone(&self.0)
            .acquire_owned()
            .await
            .map_err(|e| DirectoryError::Internal(e.into()))
    }
}

impl Default for PasswordSlots {
    fn default() -> Self {
        Self::new(0)
    }
}

/// argon2id with the crate's default (OWASP-recommended) parameters, on the
/// blocking pool; the slot is held until the hash is done (even if the
/// caller goes away meanwhile).
pub async fn hash_password_in(
    slot: OwnedSemaphorePermit,
    password: String,
) -> anyhow::Result<String> {
    let hash = tokio::task::spawn_blocking(move || {
        let h = Argon2::default()
            .hash_password(password.as_bytes())
            .map(|h| h.to_string());
        drop(slot);
        h
    })
    .await?
    .map_err(|e| anyhow::anyhow!("argon2: {e}"))?;
    Ok(hash)
}

/// Verifies `password` against `hash`, or against a dummy hash when `hash` is
/// `None` (and then always fails), on the blocking pool, holding `slot`.
pub async fn verify_password_in(
    slot: OwnedSemaphorePermit,
    password: String,
    hash: Option<String>,
) -> bool {
    let known = hash.is_some();
    let hash = hash.unwrap_or_else(|| dummy_hash().to_string());
    let ok = tokio::task::spawn_blocking(move || {
        let ok = Argon2::default()
            .verify_password(password.as_bytes(), hash.as_str())
            .is_ok();
        drop(slot);
        ok
    })
    .await
    .unwrap_or(false);
    ok && known
}

/// [`hash_password_in`] outside any cap (the CLI, tests).
pub async fn hash_password(password: String) -> anyhow::Result<String> {
    let slot = PasswordSlots::new(1).take().await?;
    hash_password_in(slot, password).await
}

/// [`verify_password_in`] outside any cap (the CLI, tests).
pub async fn verify_password(password: String, hash: Option<String>) -> bool {
    match PasswordSlots::new(1).try_take() {
        Ok(slot) => verify_password_in(slot, password, hash).await,
        Err(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_verify_and_unknown_users_never_do() {
        let h = hash_password("correct horse".into())
            .await
            .unwrap_or_default();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password("correct horse".into(), Some(h.clone())).await);
        assert!(!verify_password("wrong".into(), Some(h)).await);
        assert!(!verify_password("portico-dummy-password-for-timing".into(), None).await);
    }

    #[tokio::test]
    async fn a_full_set_of_slots_refuses_instead_of_queueing() {
        let slots = PasswordSlots::new(2);
        let a = slots.try_take();
        let b = slots.try_take();
        assert!(a.is_ok() && b.is_ok());
        assert!(matches!(slots.try_take(), Err(DirectoryError::Busy)));
        drop(a);
        assert!(slots.try_take().is_ok());
    }
}
