//! Human passwords: argon2id, hashed and verified on the blocking pool so a
//! sign-in never stalls the async runtime. Unknown users are checked against a
//! dummy hash so the answer time does not reveal whether an account exists.
//!
//! Each argon2 run takes ~19 MiB and tens of milliseconds of one core, so
//! [`PasswordSlots`] caps how many run at once (one per core by default). A
//! sign-in that finds every slot taken waits in a small waiting room (as many
//! places as slots, at most [`MAX_WAIT`]), so a busy core goes on hashing
//! while the next request arrives; when the room is full too, or the wait
//! runs out, it is refused ([`DirectoryError::Busy`], which the UI answers 503
//! with `Retry-After`). The room is bounded, so it cannot grow with an attack.
//! Admin writes (setting a password) wait for a slot instead.
//!
//! Why not more slots instead: two argon2 memories (2 × 19 MiB) no longer fit
//! a 32 MiB last-level cache, and hashing slowed to 0.68× the one-at-a-time
//! rate on one core (bench/run, stop 20); one slot and one waiter per core
//! keeps the core busy on one memory at a time.
//!
//! The ~19 MiB of working memory is kept between computations ([`MEMORY`])
//! instead of allocated for each: freed, it stayed with the allocator's
//! per-thread arenas of the blocking pool, and sign-in load grew the process
//! to hundreds of MB (bench/run, stop 20). Now the process holds at most one
//! copy per slot, and the memory is wiped after every computation.

use crate::users::DirectoryError;
use argon2::password_hash::phc::{Output, ParamsString, PasswordHash, Salt};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::Duration;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Working memories kept for the next computation (see the module doc).
static MEMORY: Mutex<Vec<Vec<Block>>> = Mutex::new(Vec::new());
/// How many [`MEMORY`] keeps: the most slots any [`PasswordSlots`] has.
static MEMORY_KEPT: AtomicUsize = AtomicUsize::new(1);
/// A working memory larger than this many blocks (1 KiB each) is not kept.
const MAX_KEPT_BLOCKS: usize = 64 * 1024;

/// Runs `f` on a working memory of `blocks` blocks from [`MEMORY`] (or a new
/// one), wipes it, and keeps it for the next computation when there is room.
fn with_memory<R>(blocks: usize, f: impl FnOnce(&mut [Block]) -> R) -> R {
    let mut memory = MEMORY
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .pop()
        .unwrap_or_default();
    if memory.len() < blocks {
        memory.resize(blocks, Block::default());
    }
    let out = f(&mut memory[..blocks]);
    // Nothing derived from a password outlives the computation.
    memory.fill(Block::default());
    if memory.len() <= MAX_KEPT_BLOCKS {
        let mut kept = MEMORY.lock().unwrap_or_else(PoisonError::into_inner);
        if kept.len() < MEMORY_KEPT.load(Ordering::Relaxed) {
            kept.push(memory);
        }
    }
    out
}

/// argon2id with the crate's default (OWASP-recommended) parameters and a
/// fresh salt, as a PHC string, computed in a kept working memory.
fn hash_with_kept_memory(password: &[u8]) -> anyhow::Result<String> {
    let params = Params::default();
    let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
    let salt = Salt::generate();
    let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
    with_memory(params.block_count(), |m| {
        argon.hash_password_into_with_memory(password, &salt, &mut out, m)
    })
    .map_err(|e| anyhow::anyhow!("argon2: {e}"))?;
    let phc = PasswordHash {
        algorithm: Algorithm::Argon2id.into(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(&params).map_err(|e| anyhow::anyhow!("argon2: {e}"))?,
        salt: Some(salt),
        hash: Some(Output::new(&out).map_err(|e| anyhow::anyhow!("argon2: {e}"))?),
    };
    Ok(phc.to_string())
}

/// Whether `password` matches the PHC string `hash` (any argon2 variant,
/// version and parameters it names), computed in a kept working memory and
/// compared in constant time.
fn verify_with_kept_memory(password: &[u8], hash: &str) -> bool {
    let Ok(phc) = PasswordHash::new(hash) else {
        return false;
    };
    let (Some(salt), Some(expected)) = (&phc.salt, &phc.hash) else {
        return false;
    };
    let Ok(algorithm) = Algorithm::try_from(phc.algorithm.as_str()) else {
        return false;
    };
    let version = match phc.version.map(Version::try_from).transpose() {
        Ok(v) => v.unwrap_or_default(),
        Err(_) => return false,
    };
    let Ok(params) = Params::try_from(&phc) else {
        return false;
    };
    let argon = Argon2::new(algorithm, version, params.clone());
    let mut out = vec![0u8; expected.len()];
    let computed = with_memory(params.block_count(), |m| {
        argon.hash_password_into_with_memory(password, salt, &mut out, m)
    });
    // `Output`'s equality is constant-time.
    computed.is_ok() && Output::new(&out).is_ok_and(|o| &o == expected)
}

/// The longest password accepted, in bytes; longer is refused before hashing.
pub const MAX_PASSWORD_BYTES: usize = 1024;

fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    // In a kept working memory too: a fresh one would be a second 19 MiB.
    DUMMY.get_or_init(|| {
        hash_with_kept_memory(b"portico-dummy-password-for-timing").unwrap_or_default()
    })
}

/// The longest a sign-in waits in the waiting room for a password slot.
pub const MAX_WAIT: Duration = Duration::from_secs(1);

/// How many argon2 computations may run at the same time, and how many
/// sign-ins may wait for one (see the module doc).
#[derive(Clone)]
pub struct PasswordSlots {
    slots: Arc<Semaphore>,
    /// Places in the waiting room (as many as slots).
    room: Arc<Semaphore>,
}

impl PasswordSlots {
    /// `n` slots; `0` means one per core (`std::thread::available_parallelism`).
    pub fn new(n: usize) -> Self {
        let n = if n == 0 {
            std::thread::available_parallelism().map_or(1, |c| c.get())
        } else {
            n
        };
        MEMORY_KEPT.fetch_max(n, Ordering::Relaxed);
        Self {
            slots: Arc::new(Semaphore::new(n)),
            room: Arc::new(Semaphore::new(n)),
        }
    }

    /// The slots themselves, so a test can hold every slot.
    pub fn semaphore(&self) -> Arc<Semaphore> {
        Arc::clone(&self.slots)
    }

    /// The waiting room's places, so a test can fill it.
    pub fn waiting_room(&self) -> Arc<Semaphore> {
        Arc::clone(&self.room)
    }

    /// A slot now, or `Busy`.
    pub fn try_take(&self) -> Result<OwnedSemaphorePermit, DirectoryError> {
        Arc::clone(&self.slots)
            .try_acquire_owned()
            .map_err(|_| DirectoryError::Busy)
    }

    /// A slot now, or after waiting at most `MAX_WAIT` in the waiting room;
    /// `Busy` when the room is full or the wait runs out.
    pub async fn take_or_wait(&self) -> Result<OwnedSemaphorePermit, DirectoryError> {
        if let Ok(slot) = self.try_take() {
            return Ok(slot);
        }
        let _place = self.room.try_acquire().map_err(|_| DirectoryError::Busy)?;
        match tokio::time::timeout(MAX_WAIT, Arc::clone(&self.slots).acquire_owned()).await {
            Ok(Ok(slot)) => Ok(slot),
            Ok(Err(e)) => Err(DirectoryError::Internal(e.into())),
            Err(_) => Err(DirectoryError::Busy),
        }
    }

    /// A slot, waiting for one.
    pub async fn take(&self) -> Result<OwnedSemaphorePermit, DirectoryError> {
        Arc::clone(&self.slots)
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
    tokio::task::spawn_blocking(move || {
        let h = hash_with_kept_memory(password.as_bytes());
        drop(slot);
        h
    })
    .await?
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
        let ok = verify_with_kept_memory(password.as_bytes(), &hash);
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

    /// The kept-memory path and the crate's own agree both ways, for the
    /// default parameters and for others a stored hash may name.
    #[test]
    fn kept_memory_hashes_are_the_crates_hashes() {
        use argon2::{PasswordHasher, PasswordVerifier};
        let ours = hash_with_kept_memory(b"correct horse").unwrap_or_default();
        assert!(
            Argon2::default()
                .verify_password(b"correct horse", ours.as_str())
                .is_ok()
        );
        let small = Params::new(1024, 1, 1, None).unwrap_or_default();
        for argon in [
            Argon2::default(),
            Argon2::new(Algorithm::Argon2i, Version::V0x10, small.clone()),
            Argon2::new(Algorithm::Argon2d, Version::V0x13, small),
        ] {
            let theirs = argon
                .hash_password(b"correct horse")
                .map(|h| h.to_string())
                .unwrap_or_default();
            assert!(
                verify_with_kept_memory(b"correct horse", &theirs),
                "{theirs}"
            );
            assert!(!verify_with_kept_memory(b"correct horsf", &theirs));
        }
        assert!(!verify_with_kept_memory(b"x", "not a phc string"));
        assert!(!verify_with_kept_memory(
            b"x",
            "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ"
        ));
    }

    /// Concurrent computations leave at most one kept memory per slot,
    /// each wiped.
    #[test]
    fn the_kept_memories_are_bounded_and_wiped() {
        let _slots = PasswordSlots::new(2);
        let kept = MEMORY_KEPT.load(Ordering::Relaxed);
        std::thread::scope(|s| {
            for _ in 0..6 {
                s.spawn(|| hash_with_kept_memory(b"pw").unwrap_or_default());
            }
        });
        let memory = MEMORY.lock().unwrap_or_else(PoisonError::into_inner);
        assert!(
            !memory.is_empty() && memory.len() <= kept,
            "{}",
            memory.len()
        );
        let zero = Block::default();
        assert!(
            memory
                .iter()
                .all(|m| m.iter().all(|b| b.as_ref() == zero.as_ref()))
        );
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

    #[tokio::test]
    async fn a_sign_in_waits_for_a_slot_only_in_a_bounded_room_and_for_a_bounded_time() {
        let slots = PasswordSlots::new(1);
        let held = slots.try_take().unwrap();
        // One place in the room: this one waits, and gets the slot once it is free.
        let waiter = tokio::spawn({
            let slots = slots.clone();
            async move { slots.take_or_wait().await }
        });
        tokio::task::yield_now().await;
        assert_eq!(slots.waiting_room().available_permits(), 0);
        // The room is full: refused at once.
        assert!(matches!(
            slots.take_or_wait().await,
            Err(DirectoryError::Busy)
        ));
        drop(held);
        let slot = waiter
            .await
            .unwrap()
            .expect("the waiter gets the freed slot");
        assert_eq!(slots.waiting_room().available_permits(), 1);
        // A slot that stays taken: the wait runs out after MAX_WAIT, and the place is freed.
        assert!(matches!(
            slots.take_or_wait().await,
            Err(DirectoryError::Busy)
        ));
        assert_eq!(slots.waiting_room().available_permits(), 1);
        drop(slot);
        assert!(slots.take_or_wait().await.is_ok());
    }
}
