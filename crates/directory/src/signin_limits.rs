//! Online password guessing is limited per account and per client address,
//! counted in the database ([`RateLimitRepo`], the `rate_limits` table) so
//! that every node of a cluster sees the same counts.
//!
//! * The account key is the normalized address: trimmed, lower-cased, and at
//!   most [`MAX_SIGN_IN_NAME`] bytes; a longer one is refused before anything
//!   is looked up ([`sign_in_key`]), so no key is ever megabytes long.
//! * A failure adds one to both the account's and the address's window
//!   ([`SignInLimiter::record_failure`]); a success clears the account's.
//! * While either count is at its limit, the password is not even checked.
//!
//! Windows are fixed (they start at the first failure), which bounds each key
//! at `max` failures per `window`; the clean-up worker deletes ended windows.

use crate::users::DirectoryError;
use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use std::net::IpAddr;
use std::sync::Arc;

/// The longest account name accepted for a sign-in (RFC 5321 §4.5.3.1.3:
/// a path is at most 256 octets, so an address at most 254).
pub const MAX_SIGN_IN_NAME: usize = 254;

/// Shared counters (storage implements it over `rate_limits`).
#[async_trait]
pub trait RateLimitRepo: Send + Sync {
    /// Adds one to `key`'s window, starting a new window of `window` at `now`
    /// when none is running, and returns the count in the window. Atomic: `n`
    /// concurrent calls on any nodes return `1..=n` once each.
    async fn hit(
        &self,
        key: &str,
        now: DateTime<Utc>,
        window: Duration,
    ) -> Result<u32, DirectoryError>;
    /// The count in `key`'s running window (0 when none runs at `now`).
    async fn hits(&self, key: &str, now: DateTime<Utc>) -> Result<u32, DirectoryError>;
    /// Ends `key`'s window.
    async fn clear(&self, key: &str) -> Result<(), DirectoryError>;
}

/// Why a sign-in name is refused before anything else happens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NameTooLong;

/// The account key for `typed`: trimmed, lower-cased, bounded.
pub fn sign_in_key(typed: &str) -> Result<String, NameTooLong> {
    let t = typed.trim();
    if t.len() > MAX_SIGN_IN_NAME {
        return Err(NameTooLong);
    }
    Ok(t.to_lowercase())
}

/// An IPv4 address, or an IPv6 address's /64 (one subscriber's whole prefix).
pub fn address_key(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(a) => a.to_string(),
        IpAddr::V6(a) => match a.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let s = a.segments();
                format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        },
    }
}

#[derive(Clone)]
pub struct SignInLimiter {
    repo: Arc<dyn RateLimitRepo>,
    /// Failures per account per window (10).
    pub max_per_account: u32,
    /// Failures per client address per window (100: an office behind one NAT).
    pub max_per_address: u32,
    /// 15 minutes.
    pub window: Duration,
}

impl SignInLimiter {
    pub fn new(repo: Arc<dyn RateLimitRepo>) -> Self {
        Self {
            repo,
            max_per_account: 10,
            max_per_address: 100,
            window: Duration::minutes(15),
        }
    }

    fn keys(account: &str, ip: Option<IpAddr>) -> (String, Option<String>) {
        (
            format!("pw-account:{account}"),
            ip.map(|ip| format!("pw-address:{}", address_key(ip))),
        )
    }

    /// Whether the account or the address has used up its failures.
    pub async fn is_blocked(
        &self,
        account: &str,
        ip: Option<IpAddr>,
        now: DateTime<Utc>,
    ) -> Result<bool, DirectoryError> {
        let (a, addr) = Self::keys(account, ip);
        if self.repo.hits(&a, now).await? >= self.max_per_account {
            return Ok(true);
        }
        match addr {
            Some(k) => Ok(self.repo.hits(&k, now).await? >= self.max_per_address),
            None => Ok(false),
        }
    }

    pub async fn record_failure(
        &self,
        account: &str,
        ip: Option<IpAddr>,
        now: DateTime<Utc>,
    ) -> Result<(), DirectoryError> {
        let (a, addr) = Self::keys(account, ip);
        self.repo.hit(&a, now, self.window).await?;
        if let Some(k) = addr {
            self.repo.hit(&k, now, self.window).await?;
        }
        Ok(())
    }

    /// A right password ends the account's window (not the address's).
    pub async fn clear(&self, account: &str) -> Result<(), DirectoryError> {
        self.repo.clear(&Self::keys(account, None).0).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_trimmed_lowercased_and_bounded() {
        assert_eq!(
            sign_in_key("  Alice@Contoso.Example "),
            Ok("alice@contoso.example".into())
        );
        assert_eq!(
            sign_in_key(&"a".repeat(MAX_SIGN_IN_NAME)).map(|k| k.len()),
            Ok(254)
        );
        assert_eq!(
            sign_in_key(&"a".repeat(MAX_SIGN_IN_NAME + 1)),
            Err(NameTooLong)
        );
        assert_eq!(sign_in_key(&"a".repeat(2 << 20)), Err(NameTooLong));
    }

    #[test]
    fn an_ipv6_prefix_shares_one_key() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1"
            .parse()
            .unwrap_or(IpAddr::from([0; 4]));
        let b: IpAddr = "2001:db8:1:2:bbbb::9"
            .parse()
            .unwrap_or(IpAddr::from([0; 4]));
        assert_eq!(address_key(a), address_key(b));
        let v4: IpAddr = "::ffff:10.0.0.1".parse().unwrap_or(IpAddr::from([0; 4]));
        assert_eq!(address_key(v4), "10.0.0.1");
    }
}
