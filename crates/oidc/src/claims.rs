//! Which user claims a client receives: standard scope → claims mapping
//! (OIDC Core §5.4) plus individual claims named in the `claims` request
//! parameter (§5.5), and Portico's guest claims (`user_type`).

use crate::model::Account;
use serde_json::{Map, Value, json};

/// Scopes Portico understands; others are ignored (RFC 6749 §3.3 lets the server narrow).
pub const SUPPORTED_SCOPES: &[&str] = &["openid", "profile", "email", "offline_access"];

/// Claims Portico can release (discovery `claims_supported`).
pub const SUPPORTED_CLAIMS: &[&str] = &[
    "sub",
    "iss",
    "aud",
    "exp",
    "iat",
    "auth_time",
    "nonce",
    "amr",
    "acr",
    "idp",
    "sid",
    "at_hash",
    "azp",
    "name",
    "email",
    "email_verified",
    "user_type",
    "groups",
];

fn scope_claims(scope: &str) -> &'static [&'static str] {
    match scope {
        "profile" => &["name", "user_type"],
        "email" => &["email", "email_verified"],
        _ => &[],
    }
}

/// Claim names released for `scopes` and the `claims` parameter's `target` member
/// (`id_token` or `userinfo`); `None` target means either.
fn released(scopes: &[String], claims_param: Option<&Value>, target: Option<&str>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for s in scopes {
        for c in scope_claims(s) {
            if !out.iter().any(|o| o == c) {
                out.push((*c).to_string());
            }
        }
    }
    if let Some(Value::Object(p)) = claims_param {
        let members: Vec<&str> = match target {
            Some(t) => vec![t],
            None => vec!["id_token", "userinfo"],
        };
        for m in members {
            if let Some(Value::Object(requested)) = p.get(m) {
                for name in requested.keys() {
                    let known =
                        ["name", "email", "email_verified", "user_type"].contains(&name.as_str());
                    if known && !out.contains(name) {
                        out.push(name.clone());
                    }
                }
            }
        }
    }
    out
}

/// What the consent page lists as shared.
pub fn shared_claim_names(scopes: &[String], claims_param: Option<&Value>) -> Vec<String> {
    released(scopes, claims_param, None)
}

/// The user claims for the ID token or userinfo response.
pub fn user_claims(
    account: &Account,
    scopes: &[String],
    claims_param: Option<&Value>,
    target: &str,
) -> Map<String, Value> {
    let mut out = Map::new();
    for name in released(scopes, claims_param, Some(target)) {
        let v = match name.as_str() {
            "name" => json!(account.display_name),
            "email" => match &account.email {
                Some(e) => json!(e),
                None => continue,
            },
            "email_verified" => json!(account.email_verified),
            "user_type" => json!(account.user_type),
            _ => continue,
        };
        out.insert(name, v);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use uuid::Uuid;

    fn account() -> Account {
        Account {
            id: Uuid::nil(),
            enabled: true,
            display_name: "Alice".into(),
            email: Some("alice@contoso.example".into()),
            email_verified: true,
            user_type: "Member".into(),
            has_totp: false,
            has_passkey: false,
        }
    }

    fn check(scopes: &[&str], claims: Option<Value>, target: &str, expected: &[&str]) {
        let scopes: Vec<String> = scopes.iter().map(|s| s.to_string()).collect();
        let got = user_claims(&account(), &scopes, claims.as_ref(), target);
        let mut names: Vec<&str> = got.keys().map(String::as_str).collect();
        names.sort();
        assert_eq!(names, expected);
    }

    #[test]
    fn table() {
        check(&["openid"], None, "id_token", &[]);
        check(
            &["openid", "email"],
            None,
            "userinfo",
            &["email", "email_verified"],
        );
        check(
            &["openid", "profile"],
            None,
            "id_token",
            &["name", "user_type"],
        );
        // The claims parameter adds single claims to the member it names only.
        let p = json!({"id_token": {"email": {"essential": true}}});
        check(&["openid"], Some(p.clone()), "id_token", &["email"]);
        check(&["openid"], Some(p), "userinfo", &[]);
        // Unknown claims are ignored, not errors.
        check(
            &["openid"],
            Some(json!({"userinfo": {"shoe_size": null}})),
            "userinfo",
            &[],
        );
    }
}
