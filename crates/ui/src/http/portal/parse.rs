//! Pure helpers that turn the portal's wire input (query strings, form
//! fields, upload names) into domain values, and values into display text.
//! Kept free of IO so they are tested as tables.

use chrono::{DateTime, NaiveDate, Utc};
use portico_directory::{UserQuery, UserType};
use uuid::Uuid;

/// Rows per page in the users and audit lists.
pub const PAGE_SIZE: u64 = 50;

/// An empty or blank field is absent.
pub fn field(s: Option<&str>) -> Option<&str> {
    s.map(str::trim).filter(|x| !x.is_empty())
}

/// A textarea of one value per line (redirect URIs): its non-blank lines,
/// trimmed, whatever the line endings.
pub fn lines(s: &str) -> Vec<String> {
    s.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}

/// The access-expiry field: `YYYY-MM-DD`, or empty to clear the expiry. The
/// date is the first day without access: access ends at 00:00 UTC that day,
/// so "expires on 2030-01-31" means the guest cannot sign in on the 31st.
pub fn parse_expiry(s: &str) -> Result<Option<DateTime<Utc>>, String> {
    let s = s.trim();
    if s.is_empty() {
        return Ok(None);
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| Some(t.and_utc()))
        .ok_or_else(|| "Enter the access expiry as a date (YYYY-MM-DD), or leave it empty.".into())
}

/// The value to put back in the expiry field.
pub fn expiry_field(t: Option<DateTime<Utc>>) -> String {
    t.map(|t| t.format("%Y-%m-%d").to_string())
        .unwrap_or_default()
}

/// How instants are shown on every page.
pub fn show_time(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M UTC").to_string()
}

/// A page cursor: absent, or an id from a previous page.
pub fn parse_cursor(s: Option<&str>) -> Result<Option<Uuid>, String> {
    match field(s) {
        None => Ok(None),
        Some(x) => Uuid::parse_str(x)
            .map(Some)
            .map_err(|_| "The page link is not valid; start from the first page.".into()),
    }
}

/// `?type=Guest|Member&mail=..&after=<id>` into one page's query (one extra
/// row is asked for, to know whether there is a next page).
pub fn user_query(
    user_type: Option<&str>,
    mail: Option<&str>,
    after: Option<&str>,
) -> Result<UserQuery, String> {
    let user_type = match field(user_type) {
        None => None,
        Some(t) => Some(UserType::parse(t).ok_or("The type must be Guest or Member.")?),
    };
    Ok(UserQuery {
        user_type,
        // Mail is stored lower-cased and the filter is an exact match.
        mail: field(mail).map(str::to_lowercase),
        after: parse_cursor(after)?,
        limit: PAGE_SIZE + 1,
    })
}

/// The link to the users page after `after` (the first page when `None`),
/// keeping the filters.
pub fn users_link(q: &UserQuery, after: Option<Uuid>) -> String {
    let mut ser = url::form_urlencoded::Serializer::new(String::new());
    if let Some(t) = q.user_type {
        ser.append_pair("type", t.as_str());
    }
    if let Some(m) = &q.mail {
        ser.append_pair("mail", m);
    }
    if let Some(a) = after {
        ser.append_pair("after", &a.to_string());
    }
    let query = ser.finish();
    if query.is_empty() {
        "/admin/users".into()
    } else {
        format!("/admin/users?{query}")
    }
}

/// An id in a path; anything else is simply not found.
pub fn parse_id(s: &str) -> Option<Uuid> {
    Uuid::parse_str(s).ok()
}

/// The name an uploaded file is shown and recorded under: its last path
/// segment (some browsers send the full client path), trimmed to 200 chars.
pub fn upload_name(raw: Option<&str>) -> String {
    let base = raw
        .unwrap_or_default()
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or_default()
        .trim();
    let name: String = base.chars().filter(|c| !c.is_control()).take(200).collect();
    if name.is_empty() {
        "upload.csv".into()
    } else {
        name
    }
}

/// Lower-case hex, as the job's `file_sha256` is recorded.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A cell of the downloadable result file, made safe to open in a
/// spreadsheet: text starting with `= + - @` (or a tab / carriage return)
/// would be run as a formula, so it gets a leading apostrophe (OWASP's
/// "CSV injection" advice). Only user-supplied text can start that way.
pub fn spreadsheet_safe(cell: String) -> String {
    if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{cell}")
    } else {
        cell
    }
}

#[cfg(test)]
#[path = "parse_tests.rs"]
mod tests;
