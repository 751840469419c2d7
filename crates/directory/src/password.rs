//! Human passwords: argon2id, hashed and verified on the blocking pool so a
//! sign-in never stalls the async runtime. Unknown users are checked against a
//! dummy hash so the answer time does not reveal whether an account exists.

use argon2::{Argon2, PasswordHasher, PasswordVerifier};
use std::sync::OnceLock;

fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| {
        Argon2::default()
            .hash_password(b"portico-dummy-password-for-timing")
            .map(|h| h.to_string())
            .unwrap_or_default()
    })
}

/// argon2id with the crate's default (OWASP-recommended) parameters.
pub async fn hash_password(password: String) -> anyhow::Result<String> {
    let hash = tokio::task::spawn_blocking(move || {
        Argon2::default()
            .hash_password(password.as_bytes())
            .map(|h| h.to_string())
    })
    .await?
    .map_err(|e| anyhow::anyhow!("argon2: {e}"))?;
    Ok(hash)
}

/// Verifies `password` against `hash`, or against a dummy hash when `hash` is `None`
/// (and then always fails).
pub async fn verify_password(password: String, hash: Option<String>) -> bool {
    let known = hash.is_some();
    let hash = hash.unwrap_or_else(|| dummy_hash().to_string());
    let ok = tokio::task::spawn_blocking(move || {
        Argon2::default()
            .verify_password(password.as_bytes(), hash.as_str())
            .is_ok()
    })
    .await
    .unwrap_or(false);
    ok && known
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
}
