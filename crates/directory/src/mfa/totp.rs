//! RFC 6238 TOTP through totp-rs: HMAC-SHA-1, 6 digits, 30-second steps,
//! one step of skew either way. Time always comes from the caller.

use super::model::MfaError;
use chrono::{DateTime, Utc};
use qrcode::QrCode;
use qrcode::render::svg;
use totp_rs::{Algorithm, Builder, Secret, Totp};

pub(crate) const DIGITS: u8 = 6;
pub(crate) const STEP_SECONDS: u64 = 30;
/// Steps accepted before and after the current one (RFC 6238 §5.2: network delay).
pub(crate) const SKEW: u16 = 1;

/// Issuer and account name may not contain `:` (it separates them in the
/// otpauth label), and a name of controls would show badly in an app.
fn label_part(s: &str, fallback: &str) -> String {
    let cleaned: String = s
        .chars()
        .map(|c| if c == ':' || c.is_control() { ' ' } else { c })
        .collect();
    let joined = cleaned.split_whitespace().collect::<Vec<_>>().join(" ");
    if joined.is_empty() {
        fallback.to_string()
    } else {
        joined
    }
}

/// The TOTP of `secret` (raw bytes, at least 128 bits) labelled for apps.
pub(crate) fn build(secret: &[u8], issuer: &str, account: &str) -> Result<Totp, MfaError> {
    Builder::new()
        .with_algorithm(Algorithm::SHA1)
        .with_digits(DIGITS)
        .with_step_duration(STEP_SECONDS)
        .with_skew(SKEW)
        .with_secret(Secret::from(secret.to_vec()))
        .with_issuer(Some(label_part(issuer, "Portico")))
        .with_account_name(label_part(account, "account"))
        .build()
        .map_err(|e| MfaError::Internal(anyhow::anyhow!("cannot build the TOTP: {e}")))
}

/// Seconds since the epoch; times before 1970 (never on a real clock) count as 0.
pub(crate) fn unix_seconds(now: DateTime<Utc>) -> u64 {
    u64::try_from(now.timestamp()).unwrap_or(0)
}

/// The step (unix time / 30, RFC 6238 §4.2) `code` belongs to within the
/// skew window around `now`.
pub(crate) fn matching_step(totp: &Totp, code: &str, now: DateTime<Utc>) -> Option<i64> {
    let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    totp.check(&code, unix_seconds(now))
        .and_then(|s| i64::try_from(s).ok())
}

/// The 6-digit code of the base32 `secret` at `at`, as an authenticator app
/// shows it. For tests and tools that play the user's app.
pub fn totp_code_at(secret_base32: &str, at: DateTime<Utc>) -> Result<String, MfaError> {
    let secret = Secret::try_from_base32(secret_base32)
        .map_err(|e| MfaError::Internal(anyhow::anyhow!("invalid base32 secret: {e}")))?;
    let totp = build(secret.as_bytes(), "Portico", "account")?;
    Ok(totp.generate(unix_seconds(at)).to_string())
}

/// The `otpauth://` URI as an SVG QR code, at least 200×200.
pub(crate) fn qr_svg(uri: &str) -> Result<String, MfaError> {
    let code = QrCode::new(uri.as_bytes())
        .map_err(|e| MfaError::Internal(anyhow::anyhow!("cannot encode the QR code: {e}")))?;
    Ok(code.render::<svg::Color>().min_dimensions(200, 200).build())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 Appendix B's SHA-1 seed: "12345678901234567890".
    const RFC_SECRET: &[u8] = b"12345678901234567890";

    fn at(t: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(t, 0).unwrap()
    }

    #[test]
    fn rfc_6238_sha1_test_vectors() {
        let eight = Builder::new()
            .with_digits(8)
            .with_secret(Secret::from(RFC_SECRET.to_vec()))
            .build()
            .unwrap();
        for (t, expected) in [
            (59, "94287082"),
            (1111111109, "07081804"),
            (1234567890, "89005924"),
            (2000000000, "69279037"),
        ] {
            assert_eq!(eight.generate(t).to_string(), expected, "T={t}");
        }
        let six = build(RFC_SECRET, "Contoso", "ada@contoso.example").unwrap();
        assert_eq!(six.generate(59).to_string(), "287082");
        assert_eq!(matching_step(&six, "287082", at(59)), Some(1));
        assert_eq!(matching_step(&six, "287 082", at(59)), Some(1));
    }

    #[test]
    fn codes_one_step_early_or_late_are_accepted_and_no_further() {
        let totp = build(RFC_SECRET, "Contoso", "ada").unwrap();
        let code = totp.generate(30 * 1000).to_string();
        assert_eq!(matching_step(&totp, &code, at(30 * 1000)), Some(1000));
        assert_eq!(matching_step(&totp, &code, at(30 * 999)), Some(1000));
        assert_eq!(matching_step(&totp, &code, at(30 * 1001 + 29)), Some(1000));
        assert_eq!(matching_step(&totp, &code, at(30 * 1002)), None);
        assert_eq!(matching_step(&totp, &code, at(30 * 998 + 29)), None);
        assert_eq!(matching_step(&totp, "12345", at(30 * 1000)), None);
        assert_eq!(matching_step(&totp, "+12345", at(30 * 1000)), None);
    }

    #[test]
    fn step_is_unix_time_over_thirty() {
        let totp = build(RFC_SECRET, "Contoso", "ada").unwrap();
        for t in [60u64, 1111111109] {
            let code = totp.generate(t).to_string();
            assert_eq!(
                matching_step(&totp, &code, at(t as i64)),
                Some(t as i64 / 30)
            );
        }
    }

    #[test]
    fn uri_carries_issuer_and_account_and_the_qr_code_is_svg() {
        let totp = build(RFC_SECRET, "Contoso: HQ", "ada@contoso.example").unwrap();
        let uri = totp.to_url().unwrap();
        assert!(
            uri.starts_with("otpauth://totp/Contoso%20HQ:ada%40contoso.example?secret="),
            "{uri}"
        );
        assert!(uri.contains("&issuer=Contoso%20HQ"), "{uri}");
        let svg = qr_svg(&uri).unwrap();
        assert!(svg.contains("<svg"), "{svg}");
        assert!(!svg.contains("secret="));
    }

    #[test]
    fn totp_code_at_plays_the_users_app() {
        let b32 = Secret::from(RFC_SECRET.to_vec()).to_base32();
        assert_eq!(totp_code_at(&b32, at(59)).unwrap(), "287082");
        assert!(totp_code_at("not base32!", at(59)).is_err());
    }
}
