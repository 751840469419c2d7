//! The small part of OData `$filter` the admin API accepts, as Microsoft Graph
//! scripts write it: `field eq 'value'` clauses joined by `and`
//! (`userType eq 'Guest' and mail eq 'alice@fabrikam.example'`). Field names
//! are matched case-insensitively against the ones the caller allows; a quote
//! inside a value is written twice (`'O''Brien'`).

use crate::DirectoryError;

/// Parses `filter` into `(field, value)` pairs; `fields` lists the accepted
/// names in their canonical spelling, which the result uses.
pub fn parse_filter(
    filter: &str,
    fields: &[&'static str],
) -> Result<Vec<(&'static str, String)>, DirectoryError> {
    let bad = |why: &str| {
        DirectoryError::Invalid(format!(
            "Unsupported $filter: {why}. Use clauses like `{} eq 'value'` joined by `and`.",
            fields.first().copied().unwrap_or("field")
        ))
    };
    let mut out = Vec::new();
    let mut rest = filter.trim();
    if rest.is_empty() {
        return Ok(out);
    }
    loop {
        let (field, after) = rest
            .split_once(char::is_whitespace)
            .ok_or_else(|| bad("expected `field eq 'value'`"))?;
        let canonical = fields
            .iter()
            .find(|f| f.eq_ignore_ascii_case(field))
            .ok_or_else(|| bad(&format!("unknown property '{field}'")))?;
        let after = after.trim_start();
        let after = after
            .strip_prefix("eq ")
            .or_else(|| after.strip_prefix("EQ "))
            .ok_or_else(|| bad("only the `eq` operator is supported"))?
            .trim_start();
        let (value, after) = quoted(after).ok_or_else(|| bad("values must be in single quotes"))?;
        out.push((*canonical, value));
        rest = after.trim_start();
        if rest.is_empty() {
            return Ok(out);
        }
        rest = rest
            .strip_prefix("and ")
            .or_else(|| rest.strip_prefix("AND "))
            .ok_or_else(|| bad("clauses must be joined by `and`"))?
            .trim_start();
    }
}

/// `'abc''d' rest` → (`abc'd`, ` rest`).
fn quoted(s: &str) -> Option<(String, &str)> {
    let mut chars = s.char_indices();
    if chars.next()?.1 != '\'' {
        return None;
    }
    let mut value = String::new();
    let mut chars = chars.peekable();
    while let Some((i, c)) = chars.next() {
        if c == '\'' {
            if matches!(chars.peek(), Some((_, '\''))) {
                chars.next();
                value.push('\'');
            } else {
                return Some((value, &s[i + 1..]));
            }
        } else {
            value.push(c);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIELDS: &[&str] = &["userType", "mail"];

    fn check(input: &str, expected: Option<&[(&str, &str)]>) {
        let got = parse_filter(input, FIELDS).ok();
        let want = expected.map(|e| {
            e.iter()
                .map(|(f, v)| (*f, v.to_string()))
                .collect::<Vec<_>>()
        });
        let got = got.map(|g| g.into_iter().collect::<Vec<_>>());
        assert_eq!(got, want, "input: {input}");
    }

    #[test]
    fn filter_table() {
        check("", Some(&[]));
        check("userType eq 'Guest'", Some(&[("userType", "Guest")]));
        check("usertype eq 'Guest'", Some(&[("userType", "Guest")]));
        check(
            "userType eq 'Guest' and mail eq 'a@b.example'",
            Some(&[("userType", "Guest"), ("mail", "a@b.example")]),
        );
        check(
            "mail eq 'o''brien@x.example'",
            Some(&[("mail", "o'brien@x.example")]),
        );
        check("mail eq 'a and b'", Some(&[("mail", "a and b")]));
        check("userType ne 'Guest'", None);
        check("userType eq Guest", None);
        check("userType eq 'Guest", None);
        check("city eq 'Oslo'", None);
        check("userType eq 'Guest' or mail eq 'x'", None);
        check("userType eq 'Guest' and", None);
        check("startswith(mail,'a')", None);
    }
}
