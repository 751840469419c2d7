//! Cookie name prefixes on an https issuer (RFC 6265bis §4.1.3). A browser
//! accepts a `__Host-` cookie only with `Secure`, `Path=/` and no `Domain`,
//! and a `__Secure-` cookie only with `Secure`, so a sibling host or a
//! plain-http page cannot plant or overwrite Portico's session, interaction
//! and sign-in cookies.
//!
//! The handlers keep using the plain names (`portico_session`); this layer,
//! installed only on https issuers, renames at the edge:
//! - `Set-Cookie` for a `portico_*` cookie gets `__Host-` when it is scoped
//!   to `Path=/` without `Domain`, else `__Secure-` (the interaction cookie
//!   is scoped to its interaction's path), plus `Secure` when missing (a
//!   removal must carry it too, or the browser ignores it).
//! - In `Cookie`, prefixed `portico_*` cookies lose the prefix, and
//!   unprefixed `portico_*` cookies are dropped: only the prefixed ones
//!   are trusted.

use axum::body::Body;
use axum::http::{HeaderValue, Request, header};
use axum::middleware::Next;
use axum::response::Response;

const OURS: &str = "portico_";
const HOST: &str = "__Host-";
const SECURE: &str = "__Secure-";

pub async fn prefix_cookies(mut req: Request<Body>, next: Next) -> Response {
    let pairs: Vec<String> = req
        .headers()
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .map(unprefix_cookie_header)
        .filter(|s| !s.is_empty())
        .collect();
    req.headers_mut().remove(header::COOKIE);
    if let Ok(v) = HeaderValue::from_str(&pairs.join("; "))
        && !pairs.is_empty()
    {
        req.headers_mut().insert(header::COOKIE, v);
    }
    let mut resp = next.run(req).await;
    let set: Vec<HeaderValue> = resp
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|v| {
            v.to_str()
                .ok()
                .and_then(|s| HeaderValue::from_str(&prefix_set_cookie(s)).ok())
                .unwrap_or_else(|| v.clone())
        })
        .collect();
    resp.headers_mut().remove(header::SET_COOKIE);
    for v in set {
        resp.headers_mut().append(header::SET_COOKIE, v);
    }
    resp
}

/// One `Cookie` header with Portico's prefixed names unprefixed and its
/// unprefixed names dropped.
fn unprefix_cookie_header(value: &str) -> String {
    value
        .split(';')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .filter_map(|pair| {
            let stripped = pair
                .strip_prefix(HOST)
                .or_else(|| pair.strip_prefix(SECURE));
            match stripped {
                Some(rest) if rest.starts_with(OURS) => Some(rest),
                _ if pair.starts_with(OURS) => None,
                _ => Some(pair),
            }
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// One `Set-Cookie` value with the prefix its scope allows.
fn prefix_set_cookie(value: &str) -> String {
    if !value.starts_with(OURS) {
        return value.to_string();
    }
    let attrs: Vec<&str> = value.split(';').skip(1).map(str::trim).collect();
    let root = attrs.iter().any(|a| a.eq_ignore_ascii_case("path=/"));
    let domain = attrs
        .iter()
        .any(|a| a.len() >= 7 && a[..7].eq_ignore_ascii_case("domain="));
    let secure = attrs.iter().any(|a| a.eq_ignore_ascii_case("secure"));
    let prefix = if root && !domain { HOST } else { SECURE };
    let mut out = format!("{prefix}{value}");
    if !secure {
        out.push_str("; Secure");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_cookie_gets_the_prefix_its_scope_allows() {
        for (input, expected) in [
            (
                "portico_session=abc; HttpOnly; SameSite=Lax; Secure; Path=/",
                "__Host-portico_session=abc; HttpOnly; SameSite=Lax; Secure; Path=/",
            ),
            (
                "portico_interaction=x; Path=/interaction/1; Secure; HttpOnly",
                "__Secure-portico_interaction=x; Path=/interaction/1; Secure; HttpOnly",
            ),
            (
                "portico_session=; Path=/; Max-Age=0",
                "__Host-portico_session=; Path=/; Max-Age=0; Secure",
            ),
            (
                "portico_x=1; Path=/; Domain=contoso.example; Secure",
                "__Secure-portico_x=1; Path=/; Domain=contoso.example; Secure",
            ),
            ("other=1; Path=/", "other=1; Path=/"),
        ] {
            assert_eq!(prefix_set_cookie(input), expected, "{input}");
        }
    }

    #[test]
    fn only_prefixed_portico_cookies_are_read() {
        for (input, expected) in [
            ("__Host-portico_session=abc", "portico_session=abc"),
            (
                "__Secure-portico_interaction=x; other=2",
                "portico_interaction=x; other=2",
            ),
            (
                "portico_session=planted; __Host-portico_session=real",
                "portico_session=real",
            ),
            ("portico_session=planted", ""),
            ("__Host-other=1; b=2", "__Host-other=1; b=2"),
        ] {
            assert_eq!(unprefix_cookie_header(input), expected, "{input}");
        }
    }
}
