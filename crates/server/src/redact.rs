//! What a logged request may show of its URI. Query strings carry codes,
//! `state`, `id_token_hint`, `login_hint`, redeem tokens and (from a client
//! that gets it wrong) `client_secret` or `code_verifier`; a path may carry
//! a token as a segment. Logs are read by more people than the database,
//! kept longer and shipped elsewhere, so no secret goes there at any level.
//!
//! Rules: a query parameter's value is shown only when its name is on a
//! short allow-list of values that are never secret; every other value
//! prints as `[redacted]` (so a new secret parameter is hidden without
//! anyone remembering to list it). A path segment that looks like a
//! generated token (long, from the base64url alphabet, not a UUID) is
//! redacted, and so is any segment after `/redeem/` that is not one of its
//! step names.

/// Parameters whose values are never secret and help reading a log.
const SHOWN: &[&str] = &[
    "response_type",
    "response_mode",
    "client_id",
    "redirect_uri",
    "post_logout_redirect_uri",
    "scope",
    "prompt",
    "max_age",
    "display",
    "ui_locales",
    "acr_values",
    "code_challenge_method",
    "grant_type",
    "token_type_hint",
    "error",
    "iss",
    "other",
];

/// The steps under `/redeem/`; anything else there is treated as a token.
const REDEEM_STEPS: &[&str] = &["code", "verify", "consent", "federation", "federated"];

const REDACTED: &str = "[redacted]";

/// The query with every value not on the allow-list replaced.
pub fn loggable_query(query: &str) -> String {
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            if value.is_empty() || SHOWN.contains(&name) {
                pair.to_string()
            } else {
                format!("{name}={REDACTED}")
            }
        })
        .collect::<Vec<_>>()
        .join("&")
}

/// The path with token-like segments replaced.
pub fn loggable_path(path: &str) -> String {
    let mut after_redeem = false;
    path.split('/')
        .map(|seg| {
            let secret = looks_like_token(seg) || (after_redeem && !REDEEM_STEPS.contains(&seg));
            after_redeem = seg == "redeem";
            if secret { REDACTED } else { seg }
        })
        .collect::<Vec<_>>()
        .join("/")
}

fn looks_like_token(seg: &str) -> bool {
    seg.len() >= 24
        && uuid::Uuid::try_parse(seg).is_err()
        && seg
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~' | b'%'))
        && seg.bytes().any(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check_query(input: &str, expected: &str) {
        assert_eq!(loggable_query(input), expected, "{input}");
    }

    fn check_path(input: &str, expected: &str) {
        assert_eq!(loggable_path(input), expected, "{input}");
    }

    #[test]
    fn secret_query_values_are_redacted_and_harmless_ones_kept() {
        check_query(
            "response_type=code&client_id=app&state=s3cr3t&nonce=n&code_challenge=abc&login_hint=a%40b.example",
            "response_type=code&client_id=app&state=[redacted]&nonce=[redacted]&code_challenge=[redacted]&login_hint=[redacted]",
        );
        check_query(
            "code=AbC&state=x&iss=https%3A%2F%2Fid.example",
            "code=[redacted]&state=[redacted]&iss=https%3A%2F%2Fid.example",
        );
        check_query("i=1&t=token", "i=[redacted]&t=[redacted]");
        check_query(
            "id_token_hint=eyJ.x.y&post_logout_redirect_uri=https%3A%2F%2Fapp",
            "id_token_hint=[redacted]&post_logout_redirect_uri=https%3A%2F%2Fapp",
        );
        check_query(
            "client_secret=x&code_verifier=y&refresh_token=z",
            "client_secret=[redacted]&code_verifier=[redacted]&refresh_token=[redacted]",
        );
        check_query("", "");
        check_query("flag&x=", "flag&x=");
    }

    #[test]
    fn token_like_path_segments_are_redacted() {
        check_path("/authorize", "/authorize");
        check_path("/redeem/code", "/redeem/code");
        check_path("/redeem/Zm9vYmFy", "/redeem/[redacted]");
        check_path(
            "/interaction/0192f5c4-6a8e-7c3b-9d2e-1f0a2b3c4d5e/login",
            "/interaction/0192f5c4-6a8e-7c3b-9d2e-1f0a2b3c4d5e/login",
        );
        check_path("/x/qL8v2Xc9_kT3mZpR4wYb7nJd1sHf6gAe", "/x/[redacted]");
        check_path(
            "/.well-known/openid-configuration",
            "/.well-known/openid-configuration",
        );
        check_path("/api/v1/identityProviders", "/api/v1/identityProviders");
    }
}
