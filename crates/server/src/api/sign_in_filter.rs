//! The `$filter` subset `GET /api/v1/auditLogs/signIns` accepts, as Microsoft
//! Graph scripts write it, clauses joined by `and`:
//!
//! | Clause                                   | Lists                          |
//! |------------------------------------------|--------------------------------|
//! | `userId eq '<user id>'`                  | that user's sign-ins           |
//! | `appId eq '<client_id>'`                 | sign-ins to that application   |
//! | `status/errorCode eq 0`                  | successful sign-ins            |
//! | `result eq 'success'` (or `denied`, `aborted`, `failed`) | Portico's finer result |
//!
//! Every clause maps onto an indexed column of the log, so a filtered page is
//! read in order from an index. `status/errorCode ne 0` ("every failure") has
//! no such column, and filtering a page after reading it would break paging,
//! so it is refused with a pointer to the `result` clauses. Property names
//! match case-insensitively, as in Graph; a quote inside a value is doubled.
//! The parser makes one pass over input of bounded length.

use portico_oidc::signin_log::SignInResult;
use uuid::Uuid;

/// Longer filters are refused before parsing (the longest useful one is
/// about 150 characters).
const FILTER_MAX: usize = 1024;

const SUPPORTED: &str = "Supported: userId eq '<user id>', appId eq '<client_id>', \
status/errorCode eq 0, result eq 'success' | 'denied' | 'aborted' | 'failed', joined by `and`.";

/// What a `$filter` narrows the list to.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct SignInFilter {
    pub user_id: Option<Uuid>,
    pub client_id: Option<String>,
    pub result: Option<SignInResult>,
}

fn unsupported(why: &str) -> String {
    format!("Unsupported $filter: {why}. {SUPPORTED}")
}

/// Parses `filter`; the error is the message for a 400 answer.
pub fn parse_sign_in_filter(filter: &str) -> Result<SignInFilter, String> {
    if filter.len() > FILTER_MAX {
        return Err(unsupported(&format!("longer than {FILTER_MAX} characters")));
    }
    let mut out = SignInFilter::default();
    let mut rest = filter.trim();
    if rest.is_empty() {
        return Ok(out);
    }
    loop {
        let (field, after) = word(rest);
        let (op, after) = word(after);
        match field.to_ascii_lowercase().as_str() {
            "userid" => {
                let (value, after) = eq_quoted(op, after)?;
                let id = Uuid::parse_str(&value)
                    .map_err(|_| unsupported("userId must be a user's id (a UUID)"))?;
                set(&mut out.user_id, id, "userId")?;
                rest = after;
            }
            "appid" => {
                let (value, after) = eq_quoted(op, after)?;
                set(&mut out.client_id, value, "appId")?;
                rest = after;
            }
            "result" => {
                let (value, after) = eq_quoted(op, after)?;
                let r = SignInResult::parse(&value)
                    .ok_or_else(|| unsupported(&format!("'{value}' is not a sign-in result")))?;
                set(&mut out.result, r, "the result")?;
                rest = after;
            }
            "status/errorcode" => {
                let (value, after) = word(after);
                if !op.eq_ignore_ascii_case("eq") || value != "0" {
                    return Err(unsupported(
                        "status/errorCode can only be compared with `eq 0` (successful \
                         sign-ins); for the others use result eq 'failed', 'denied' or 'aborted'",
                    ));
                }
                set(&mut out.result, SignInResult::Success, "the result")?;
                rest = after;
            }
            "" => return Err(unsupported("a clause is missing")),
            _ => return Err(unsupported(&format!("unknown property '{field}'"))),
        }
        rest = rest.trim_start();
        if rest.is_empty() {
            return Ok(out);
        }
        let (join, after) = word(rest);
        if !join.eq_ignore_ascii_case("and") {
            return Err(unsupported("clauses must be joined by `and`"));
        }
        rest = after;
    }
}

/// The next whitespace-separated word of `s` and what follows it.
fn word(s: &str) -> (&str, &str) {
    let s = s.trim_start();
    s.split_once(char::is_whitespace).unwrap_or((s, ""))
}

/// `eq '<value>'`: the value (quotes undoubled) and what follows it.
fn eq_quoted<'a>(op: &str, after: &'a str) -> Result<(String, &'a str), String> {
    if !op.eq_ignore_ascii_case("eq") {
        return Err(unsupported("only the `eq` operator is supported here"));
    }
    quoted(after.trim_start()).ok_or_else(|| unsupported("values must be in single quotes"))
}

/// `'abc''d' rest` → (`abc'd`, ` rest`).
fn quoted(s: &str) -> Option<(String, &str)> {
    let body = s.strip_prefix('\'')?;
    let mut value = String::new();
    let mut chars = body.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if c != '\'' {
            value.push(c);
        } else if matches!(chars.peek(), Some((_, '\''))) {
            chars.next();
            value.push('\'');
        } else {
            return Some((value, &body[i + 1..]));
        }
    }
    None
}

/// A property may be constrained once; `status/errorCode eq 0` and
/// `result eq 'success'` say the same thing and may be combined.
fn set<T: PartialEq>(slot: &mut Option<T>, value: T, name: &str) -> Result<(), String> {
    match slot {
        Some(old) if *old != value => Err(unsupported(&format!("{name} is given twice"))),
        _ => {
            *slot = Some(value);
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALICE: &str = "0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b";

    fn check(input: &str, expected: Option<SignInFilter>) {
        assert_eq!(parse_sign_in_filter(input).ok(), expected, "input: {input}");
    }

    fn filter(user: Option<&str>, app: Option<&str>, result: Option<SignInResult>) -> SignInFilter {
        SignInFilter {
            user_id: user.map(|u| Uuid::parse_str(u).unwrap()),
            client_id: app.map(str::to_string),
            result,
        }
    }

    #[test]
    fn filter_table() {
        use SignInResult::*;
        check("", Some(filter(None, None, None)));
        check("  ", Some(filter(None, None, None)));
        check(
            &format!("userId eq '{ALICE}'"),
            Some(filter(Some(ALICE), None, None)),
        );
        check("appId eq 'app-1'", Some(filter(None, Some("app-1"), None)));
        check("APPID EQ 'a b'", Some(filter(None, Some("a b"), None)));
        check(
            "appId eq 'o''brien'",
            Some(filter(None, Some("o'brien"), None)),
        );
        check(
            "appId eq 'x and y'",
            Some(filter(None, Some("x and y"), None)),
        );
        check(
            "status/errorCode eq 0",
            Some(filter(None, None, Some(Success))),
        );
        check("result eq 'denied'", Some(filter(None, None, Some(Denied))));
        check(
            &format!("userId eq '{ALICE}' and appId eq 'a' and result eq 'failed'"),
            Some(filter(Some(ALICE), Some("a"), Some(Failed))),
        );
        check(
            "status/errorCode eq 0 and result eq 'success'",
            Some(filter(None, None, Some(Success))),
        );
        // Refused.
        check("status/errorCode ne 0", None);
        check("status/errorCode eq 50126", None);
        check("status/errorCode eq 0 and result eq 'failed'", None);
        check("appId eq 'a' and appId eq 'b'", None);
        check("userId eq 'not-a-uuid'", None);
        check("result eq 'maybe'", None);
        check("result ne 'success'", None);
        check("appId eq app", None);
        check("appId eq 'open", None);
        check("appId eq 'a' or result eq 'failed'", None);
        check("appId eq 'a' and", None);
        check("appId eq 'a' and ", None);
        check("ipAddress eq '1.2.3.4'", None);
        check("startswith(appId,'a')", None);
        check(&format!("appId eq '{}'", "a".repeat(2000)), None);
    }

    #[test]
    fn refusals_say_what_is_supported() {
        let e = parse_sign_in_filter("status/errorCode ne 0").unwrap_err();
        assert!(e.contains("result eq 'failed'"), "{e}");
        let e = parse_sign_in_filter("createdDateTime ge 2026-01-01").unwrap_err();
        assert!(e.contains("unknown property 'createdDateTime'"), "{e}");
        assert!(e.contains(SUPPORTED), "{e}");
    }
}
