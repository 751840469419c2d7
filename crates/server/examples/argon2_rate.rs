//! The raw argon2id rate on this core: the limit `bench/run` sets the
//! password sign-in against. The same crate and parameters as Portico
//! (`portico_directory::password`: `Argon2::default()`, argon2id), and the
//! same work as a sign-in: verifying a password against its stored hash, one
//! at a time, for the given seconds. Prints one JSON line.
//! Usage: `argon2_rate [SECONDS]` (default 10), pinned with `taskset`.

use argon2::{Argon2, Params, PasswordHasher, PasswordVerifier};
use std::time::{Duration, Instant};

fn main() -> Result<(), String> {
    let seconds: f64 = std::env::args()
        .nth(1)
        .map_or(Ok(10.0), |s| s.parse())
        .map_err(|e| format!("SECONDS: {e}"))?;
    let password = b"bench password 0123456789";
    let stored = Argon2::default()
        .hash_password(password)
        .map_err(|e| e.to_string())?
        .to_string();
    let started = Instant::now();
    let until = started + Duration::from_secs_f64(seconds);
    let mut n = 0u64;
    while Instant::now() < until {
        Argon2::default()
            .verify_password(password, stored.as_str())
            .map_err(|e| e.to_string())?;
        n += 1;
    }
    let p = Params::default();
    println!(
        "{{\"verifies\":{n},\"rate\":{:.1},\"algorithm\":\"argon2id\",\"m_cost_kib\":{},\"t_cost\":{},\"p_cost\":{}}}",
        n as f64 / started.elapsed().as_secs_f64(),
        p.m_cost(),
        p.t_cost(),
        p.p_cost()
    );
    Ok(())
}
