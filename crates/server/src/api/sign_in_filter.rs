//! The `$filter` subset `GET /api/v1/auditLogs/signIns` accepts, as Microsoft
//! Graph scripts write it, clauses joined by `and`:
//!
//! | Clause                                   | Lists                          |
//! |------------------------------------------|--------------------------------|
//! | `userId eq '<user id>'`                  | that user's sign-ins           |
//! | `appId eq '<client_id>'`                 | sign-ins to that application   |
//! | `status/errorCode eq 0`                  | successful sign-ins            |
//! | `result eq 'success'` (or `denied`, `aborted`, `failed`) | Portico's finer result |
//! | `appliedConditionalAccessPolicies/any(p: p/result eq 'failure')` | sign-ins a policy applied to with that result (`success`, `failure`, `reportOnlySuccess`, `reportOnlyFailure`) |
//! | `appliedConditionalAccessPolicies/any(p: p/id eq '<id>' and p/result eq 'failure')` | the same, for one policy |
//!
//! Every clause maps onto an indexed column of the log (the policy results onto
//! `sign_in_policy_results`), so a filtered page is
//! read in order from an index. `status/errorCode ne 0` ("every failure") has
//! no such column, and filtering a page after reading it would break paging,
//! so it is refused with a pointer to the `result` clauses. Property names
//! match case-insensitively, as in Graph; a quote inside a value is doubled.
//! The parser makes one pass over input of bounded length.

use portico_oidc::signin_log::{INDEXED_POLICY_RESULTS, PolicyResultFilter, SignInResult};
use uuid::Uuid;

/// Longer filters are refused before parsing (the longest useful one is
/// about 150 characters).
const FILTER_MAX: usize = 1024;

const SUPPORTED: &str = "Supported: userId eq '<user id>', appId eq '<client_id>', \
status/errorCode eq 0, result eq 'success' | 'denied' | 'aborted' | 'failed', \
appliedConditionalAccessPolicies/any(p: [p/id eq '<policy id>' and] p/result eq 'success' | \
'failure' | 'reportOnlySuccess' | 'reportOnlyFailure'), joined by `and`.";

/// The lambda over the policy results, matched case-insensitively.
const CA_ANY: &str = "appliedconditionalaccesspolicies/any(";

/// What a `$filter` narrows the list to.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct SignInFilter {
    pub user_id: Option<Uuid>,
    pub client_id: Option<String>,
    pub result: Option<SignInResult>,
    pub policy_result: Option<PolicyResultFilter>,
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
        rest = rest.trim_start();
        rest = match strip_prefix_ci(rest, CA_ANY) {
            Some(body) => {
                let (inner, after) = lambda_body(body)?;
                let f = parse_policy_lambda(inner)?;
                set(
                    &mut out.policy_result,
                    f,
                    "appliedConditionalAccessPolicies",
                )?;
                after
            }
            None => clause(&mut out, rest)?,
        }
        .trim_start();
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

/// One `property op value` clause into `out`; what follows it.
fn clause<'a>(out: &mut SignInFilter, rest: &'a str) -> Result<&'a str, String> {
    let (field, after) = word(rest);
    let (op, after) = word(after);
    match field.to_ascii_lowercase().as_str() {
        "userid" => {
            let (value, after) = eq_quoted(op, after)?;
            let id = Uuid::parse_str(&value)
                .map_err(|_| unsupported("userId must be a user's id (a UUID)"))?;
            set(&mut out.user_id, id, "userId")?;
            Ok(after)
        }
        "appid" => {
            let (value, after) = eq_quoted(op, after)?;
            set(&mut out.client_id, value, "appId")?;
            Ok(after)
        }
        "result" => {
            let (value, after) = eq_quoted(op, after)?;
            let r = SignInResult::parse(&value)
                .ok_or_else(|| unsupported(&format!("'{value}' is not a sign-in result")))?;
            set(&mut out.result, r, "the result")?;
            Ok(after)
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
            Ok(after)
        }
        "" => Err(unsupported("a clause is missing")),
        _ => Err(unsupported(&format!("unknown property '{field}'"))),
    }
}

/// `s` without `prefix` (ASCII, any case).
fn strip_prefix_ci<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let head = s.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &s[prefix.len()..])
}

/// What is inside the lambda's parentheses, and what follows the closing
/// one (a parenthesis inside quotes does not count).
fn lambda_body(s: &str) -> Result<(&str, &str), String> {
    let mut in_quotes = false;
    for (i, c) in s.char_indices() {
        match c {
            '\'' => in_quotes = !in_quotes,
            ')' if !in_quotes => return Ok((&s[..i], &s[i + 1..])),
            _ => {}
        }
    }
    Err(unsupported(
        "appliedConditionalAccessPolicies/any( has no closing parenthesis",
    ))
}

/// `p: p/result eq 'failure' [and p/id eq '<id>']` (either order).
fn parse_policy_lambda(inner: &str) -> Result<PolicyResultFilter, String> {
    let (var, body) = inner
        .split_once(':')
        .ok_or_else(|| unsupported("the lambda needs a variable: any(p: p/result eq 'failure')"))?;
    let var = var.trim();
    if var.is_empty() || !var.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err(unsupported(
            "the lambda variable must be a plain name, e.g. p",
        ));
    }
    let (mut id, mut result): (Option<String>, Option<String>) = (None, None);
    let mut rest = body.trim();
    loop {
        let (field, after) = word(rest);
        let (op, after) = word(after);
        let name = field
            .get(..var.len() + 1)
            .filter(|h| h.eq_ignore_ascii_case(&format!("{var}/")))
            .map(|_| field[var.len() + 1..].to_ascii_lowercase());
        let (value, after) = eq_quoted(op, after)?;
        match name.as_deref() {
            Some("id") => set(&mut id, value, "the policy id")?,
            Some("result") => {
                if !INDEXED_POLICY_RESULTS.contains(&value.as_str()) {
                    return Err(unsupported(&format!(
                        "'{value}' is not a policy result the log is indexed by (success, \
                         failure, reportOnlySuccess, reportOnlyFailure)"
                    )));
                }
                set(&mut result, value, "the policy result")?
            }
            _ => {
                return Err(unsupported(&format!(
                    "inside the lambda only {var}/id and {var}/result can be compared"
                )));
            }
        }
        rest = after.trim_start();
        if rest.is_empty() {
            break;
        }
        let (join, after) = word(rest);
        if !join.eq_ignore_ascii_case("and") {
            return Err(unsupported(
                "inside the lambda, clauses must be joined by `and`",
            ));
        }
        rest = after;
    }
    let result = result.ok_or_else(|| {
        unsupported("the lambda must compare the result: any(p: p/result eq 'failure')")
    })?;
    Ok(PolicyResultFilter {
        policy_id: id,
        result,
    })
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
            policy_result: None,
        }
    }

    fn ca(policy: Option<&str>, result: &str) -> SignInFilter {
        SignInFilter {
            policy_result: Some(PolicyResultFilter {
                policy_id: policy.map(str::to_string),
                result: result.into(),
            }),
            ..SignInFilter::default()
        }
    }

    #[test]
    fn policy_result_lambdas() {
        check(
            "appliedConditionalAccessPolicies/any(p: p/result eq 'failure')",
            Some(ca(None, "failure")),
        );
        check(
            "appliedConditionalAccessPolicies/any(x:x/id eq 'a)b' and x/result eq 'reportOnlyFailure')",
            Some(ca(Some("a)b"), "reportOnlyFailure")),
        );
        check(
            "APPLIEDCONDITIONALACCESSPOLICIES/ANY(p: p/Result eq 'success' and p/ID eq 'z')",
            Some(ca(Some("z"), "success")),
        );
        let mut both = ca(None, "failure");
        both.client_id = Some("app".into());
        check(
            "appId eq 'app' and appliedConditionalAccessPolicies/any(p: p/result eq 'failure')",
            Some(both),
        );
        let mut both = ca(None, "failure");
        both.result = Some(SignInResult::Denied);
        check(
            "appliedConditionalAccessPolicies/any(p: p/result eq 'failure') and result eq 'denied'",
            Some(both),
        );
        // Refused, each with a reason.
        for bad in [
            "appliedConditionalAccessPolicies/any(p: p/result eq 'notApplied')",
            "appliedConditionalAccessPolicies/any(p: p/id eq 'x')",
            "appliedConditionalAccessPolicies/any(p: q/result eq 'failure')",
            "appliedConditionalAccessPolicies/any(p: p/result ne 'failure')",
            "appliedConditionalAccessPolicies/any(p: p/result eq 'failure' or p/id eq 'x')",
            "appliedConditionalAccessPolicies/any(p: p/result eq 'failure'",
            "appliedConditionalAccessPolicies/any(p/result eq 'failure')",
            "appliedConditionalAccessPolicies/any(p: p/result eq 'failure') or appId eq 'a'",
            "appliedConditionalAccessPolicies/any(p: p/result eq 'failure') and appliedConditionalAccessPolicies/any(p: p/result eq 'success')",
        ] {
            check(bad, None);
            assert!(
                parse_sign_in_filter(bad).unwrap_err().contains(SUPPORTED),
                "{bad}"
            );
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
