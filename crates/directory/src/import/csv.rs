//! Reading a bulk-invite file: a streaming parser and validator.
//!
//! Two shapes of file are accepted:
//! - the Azure portal's bulk invite template: a `version:v1.0` line, then a
//!   header whose labels carry the column key in brackets
//!   (`Email address to invite [inviteeEmail] Required`), maybe an
//!   `Example:` row;
//! - plain RFC 4180 CSV whose header names the keys (`inviteeEmail`,
//!   `email`, …).
//!
//! Columns are found by key, never by position, so admins may reorder them,
//! reword the labels and add columns of their own (ignored).
//!
//! Rules:
//! - whole-file problems (empty, no header, a required column missing, not
//!   UTF-8 CSV) fail [`InviteCsv::open`] with a [`CsvError`];
//! - a bad row never stops the file: it comes out as a [`ParsedRow`] whose
//!   `errors` say, in English and naming the column key, what to fix, so the
//!   admin can correct every row in one pass;
//! - memory does not grow with the file: rows are parsed one at a time into
//!   one reused record. The only thing kept across rows is the set of emails
//!   seen (with their first row), which duplicate detection needs.

use crate::invitations::{MAX_MESSAGE_CHARS, MAX_NAME_CHARS, check_redirect_url};
use crate::users::normalize_mail;
use csv::ByteRecord;
use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::io::{self, Read};

/// The columns Portico reads: Azure's keys plus a display name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Column {
    Email,
    RedirectUrl,
    SendEmail,
    Message,
    DisplayName,
}

impl Column {
    const COUNT: usize = 5;

    fn key(self) -> &'static str {
        match self {
            Column::Email => "inviteeEmail",
            Column::RedirectUrl => "inviteRedirectURL",
            Column::SendEmail => "sendEmail",
            Column::Message => "customizedMessageBody",
            Column::DisplayName => "displayName",
        }
    }

    /// The key and its short aliases, for hand-written plain CSV.
    fn from_key(key: &str) -> Option<Column> {
        match key.trim().to_ascii_lowercase().as_str() {
            "inviteeemail" | "email" => Some(Column::Email),
            "inviteredirecturl" | "redirecturl" => Some(Column::RedirectUrl),
            "sendemail" => Some(Column::SendEmail),
            "customizedmessagebody" | "message" => Some(Column::Message),
            "displayname" | "inviteedisplayname" => Some(Column::DisplayName),
            _ => None,
        }
    }

    /// A header cell names its column either by a bracketed key inside a
    /// label (Azure) or by the whole cell (plain CSV).
    fn from_header(cell: &str) -> Option<Column> {
        if cell.contains('[') {
            cell.split('[')
                .skip(1)
                .filter_map(|s| s.split_once(']'))
                .find_map(|(key, _)| Column::from_key(key))
        } else {
            Column::from_key(cell)
        }
    }
}

/// Which kind of file was uploaded (shown to the admin, and chooses whether
/// `Example:` rows are skipped).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CsvFormat {
    AzureTemplate,
    Plain,
}

/// Why a whole file cannot be read. Problems with single rows are not
/// errors: they are reported in [`ParsedRow::errors`].
#[derive(Debug, thiserror::Error)]
pub enum CsvError {
    #[error("The file is empty.")]
    Empty,
    #[error(
        "The file has no header row (line {line}): the first row must name the columns, \
         at least inviteeEmail and inviteRedirectURL."
    )]
    NoHeader { line: u64 },
    #[error("The header row (line {line}) has no {column} column, which is required.")]
    MissingColumn { column: &'static str, line: u64 },
    #[error("The header row (line {line}) names the {column} column more than once.")]
    DuplicateColumn { column: &'static str, line: u64 },
    /// `reason` says what was found and how to save the file instead.
    #[error("The file cannot be read as CSV (line {line}): {reason}.")]
    NotCsv { line: u64, reason: &'static str },
    #[error("The file could not be read: {0}")]
    Io(#[from] io::Error),
}

impl CsvError {
    fn from_csv(e: csv::Error, line: u64) -> CsvError {
        match e.into_kind() {
            csv::ErrorKind::Io(e) => CsvError::Io(e),
            // Not reachable with byte records and flexible rows; kept total.
            _ => CsvError::NotCsv {
                line,
                reason: "the CSV parser gave up",
            },
        }
    }
}

/// One data row, checked. Invalid rows are returned too, with their reasons.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedRow {
    /// 1-based index among data rows; version, header, example and blank
    /// lines are not counted. Stable for a given file, so staging can resume.
    pub row_number: i64,
    /// The physical line where the record starts, for messages (a quoted
    /// field may span lines, so this differs from `row_number`).
    pub line: u64,
    /// Trimmed and lower-cased.
    pub email: String,
    /// Trimmed.
    pub redirect_url: String,
    /// True when the column is missing or the cell is empty, as in Azure.
    pub send_email: bool,
    pub message: Option<String>,
    pub display_name: Option<String>,
    /// Empty when the row is valid.
    pub errors: Vec<String>,
}

impl ParsedRow {
    pub fn is_valid(&self) -> bool {
        self.errors.is_empty()
    }
}

/// Where each known column sits in the header, and how many cells it has.
#[derive(Debug, Clone, Copy)]
struct Columns {
    index: [Option<usize>; Column::COUNT],
    width: usize,
}

impl Columns {
    fn of(&self, c: Column) -> Option<usize> {
        self.index[c as usize]
    }
}

/// Reads a bulk-invite file row by row; see the module documentation.
pub struct InviteCsv<R: Read> {
    records: Records<R>,
    format: CsvFormat,
    columns: Columns,
    rows: i64,
    /// Email → first row that had it. Emails only: the one per-file cost.
    seen: HashMap<String, i64>,
    /// Set after an I/O error: the reader is not retried.
    failed: bool,
}

impl<R: Read> InviteCsv<R> {
    /// Reads the version line (if any) and the header; fails on whole-file
    /// problems so nothing is staged from a file that cannot be understood.
    pub fn open(reader: R) -> Result<Self, CsvError> {
        let mut records = Records::new(reader)?;
        let Some(mut line) = records.next_nonblank()? else {
            return Err(CsvError::Empty);
        };
        let mut format = CsvFormat::Plain;
        if is_version_line(&records.record) {
            format = CsvFormat::AzureTemplate;
            let after_version = records.next_line;
            line = records.next_nonblank()?.ok_or(CsvError::NoHeader {
                line: after_version,
            })?;
        }
        let columns = read_header(&records.record, line)?;
        Ok(Self {
            records,
            format,
            columns,
            rows: 0,
            seen: HashMap::new(),
            failed: false,
        })
    }

    pub fn format(&self) -> CsvFormat {
        self.format
    }

    /// Azure's template ships with a sample row; admins often leave it in.
    fn is_example_row(&self) -> bool {
        self.format == CsvFormat::AzureTemplate
            && self.records.record.get(0).is_some_and(|cell| {
                let cell = String::from_utf8_lossy(cell);
                cell.trim_start()
                    .get(..8)
                    .is_some_and(|p| p.eq_ignore_ascii_case("example:"))
            })
    }

    fn parse_row(&mut self, line: u64) -> ParsedRow {
        self.rows += 1;
        let record = &self.records.record;
        let cell = |c: Column| -> String {
            self.columns
                .of(c)
                .and_then(|i| record.get(i))
                .map(|b| String::from_utf8_lossy(b).trim().to_owned())
                .unwrap_or_default()
        };
        let mut errors = Vec::new();
        if record.iter().any(|f| std::str::from_utf8(f).is_err()) {
            errors.push("The row is not UTF-8 text (save the file as \"CSV UTF-8\")".to_owned());
        }
        if record.len() != self.columns.width {
            errors.push(format!(
                "The row has {} fields but the header has {} (quote values that contain commas)",
                record.len(),
                self.columns.width
            ));
        }

        let email = cell(Column::Email).to_lowercase();
        match check_email(&email) {
            Err(e) => errors.push(e),
            Ok(()) => match self.seen.entry(email.clone()) {
                Entry::Occupied(first) => errors.push(format!(
                    "{} '{}' already appears in row {}",
                    Column::Email.key(),
                    shown(&email),
                    first.get()
                )),
                Entry::Vacant(v) => {
                    v.insert(self.rows);
                }
            },
        }
        let redirect_url = cell(Column::RedirectUrl);
        errors.extend(check_redirect(&redirect_url).err());
        let send_email = match parse_send_email(&cell(Column::SendEmail)) {
            Ok(b) => b,
            Err(e) => {
                errors.push(e);
                true
            }
        };
        let message = non_empty(cell(Column::Message));
        errors.extend(check_length(Column::Message, message.as_deref(), MAX_MESSAGE_CHARS).err());
        let display_name = non_empty(cell(Column::DisplayName));
        errors.extend(
            check_length(Column::DisplayName, display_name.as_deref(), MAX_NAME_CHARS).err(),
        );

        ParsedRow {
            row_number: self.rows,
            line,
            email,
            redirect_url,
            send_email,
            message,
            display_name,
            errors,
        }
    }
}

impl<R: Read> Iterator for InviteCsv<R> {
    /// `Err` only when reading fails; malformed rows are `Ok` with errors.
    type Item = Result<ParsedRow, CsvError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed {
            return None;
        }
        loop {
            let line = match self.records.next_nonblank() {
                Ok(Some(line)) => line,
                Ok(None) => return None,
                Err(e) => {
                    self.failed = true;
                    return Some(Err(e));
                }
            };
            if !self.is_example_row() {
                return Some(Ok(self.parse_row(line)));
            }
        }
    }
}

/// The CSV reader plus the bookkeeping that gives each record its line.
struct Records<R> {
    reader: csv::Reader<Normalized<R>>,
    /// Reused for every record, so a row costs no allocation once warm.
    record: ByteRecord,
    /// The line just after the previous record: the earliest the next starts.
    next_line: u64,
}

impl<R: Read> Records<R> {
    fn new(reader: R) -> Result<Self, CsvError> {
        let reader = csv::ReaderBuilder::new()
            .has_headers(false)
            // A short or long row is the row's problem, not the file's.
            .flexible(true)
            .terminator(csv::Terminator::Any(b'\n'))
            .from_reader(Normalized::new(reader)?);
        Ok(Self {
            reader,
            record: ByteRecord::new(),
            next_line: 1,
        })
    }

    /// Reads the next record that has a non-blank cell and returns the line
    /// it starts on. Rows of only commas count as blank: spreadsheets write
    /// them for rows that were merely formatted.
    ///
    /// csv's own record position is where reading began, before any blank
    /// lines it skipped, so the start line is worked out backwards instead:
    /// [`Normalized`] guarantees every record ends with one `\n`, hence
    /// start = line after the record − `\n`s inside its fields − 1.
    fn next_nonblank(&mut self) -> Result<Option<u64>, CsvError> {
        loop {
            let more = self
                .reader
                .read_byte_record(&mut self.record)
                .map_err(|e| CsvError::from_csv(e, self.next_line))?;
            if !more {
                return Ok(None);
            }
            let end = self.reader.position().line();
            let inner: usize = self
                .record
                .iter()
                .map(|f| f.iter().filter(|&&b| b == b'\n').count())
                .sum();
            let start = end
                .saturating_sub(inner as u64 + 1)
                // Only an unclosed quote at the end of the file lacks its
                // `\n`; never report a line before the previous record.
                .max(self.next_line);
            self.next_line = end;
            if self
                .record
                .iter()
                .any(|f| f.iter().any(|b| !b.is_ascii_whitespace()))
            {
                return Ok(Some(start));
            }
        }
    }
}

/// Azure's template starts with `version:v1.0`, often padded with commas.
fn is_version_line(record: &ByteRecord) -> bool {
    record.get(0).is_some_and(|cell| {
        cell.trim_ascii()
            .get(..8)
            .is_some_and(|p| p.eq_ignore_ascii_case(b"version:"))
    })
}

fn read_header(record: &ByteRecord, line: u64) -> Result<Columns, CsvError> {
    let mut index = [None; Column::COUNT];
    for (i, cell) in record.iter().enumerate() {
        let Ok(cell) = std::str::from_utf8(cell) else {
            return Err(CsvError::NotCsv {
                line,
                reason: "the header row is not UTF-8 text; save the file as \"CSV UTF-8\"",
            });
        };
        if cell.contains('\0') {
            return Err(CsvError::NotCsv {
                line,
                reason: "it holds binary data, as a workbook or archive would; save it as \"CSV UTF-8\"",
            });
        }
        if let Some(c) = Column::from_header(cell)
            && index[c as usize].replace(i).is_some()
        {
            return Err(CsvError::DuplicateColumn {
                column: c.key(),
                line,
            });
        }
    }
    let missing = [Column::Email, Column::RedirectUrl]
        .into_iter()
        .find(|&c| index[c as usize].is_none());
    let Some(missing) = missing else {
        return Ok(Columns {
            index,
            width: record.len(),
        });
    };
    Err(if uses_other_separator(record) {
        CsvError::NotCsv {
            line,
            reason: "the columns are separated by semicolons or tabs; separate them with commas",
        }
    } else if index.iter().all(Option::is_none) {
        CsvError::NoHeader { line }
    } else {
        CsvError::MissingColumn {
            column: missing.key(),
            line,
        }
    })
}

/// Excel in locales with a decimal comma saves "CSV" with semicolons, and
/// copying from a sheet gives tabs. Such a header is one cell to this
/// parser; spotting it turns a puzzling "no header" into the actual fix.
fn uses_other_separator(record: &ByteRecord) -> bool {
    record.iter().any(|cell| {
        String::from_utf8_lossy(cell)
            .split([';', '\t'])
            .filter_map(Column::from_header)
            .nth(1)
            .is_some()
    })
}

/// The same address rule as creating a user, so a row that passes here is
/// not refused later by the invitation itself.
fn check_email(email: &str) -> Result<(), String> {
    let key = Column::Email.key();
    if email.is_empty() {
        return Err(format!("{key} is required"));
    }
    normalize_mail(email)
        .map(|_| ())
        .map_err(|_| format!("{key} '{}' is not a valid email address", shown(email)))
}

/// Graph's rule for `inviteRedirectUrl`: an absolute http or https URL.
fn check_redirect(url: &str) -> Result<(), String> {
    let key = Column::RedirectUrl.key();
    if url.is_empty() {
        return Err(format!("{key} is required"));
    }
    check_redirect_url(url).map(|_| ()).map_err(|_| {
        format!(
            "{key} '{}' is not an absolute http or https URL",
            shown(url)
        )
    })
}

/// Azure's template says "true or false"; spreadsheets also produce yes/no
/// and 1/0. An empty cell means the default (send).
fn parse_send_email(cell: &str) -> Result<bool, String> {
    match cell.to_ascii_lowercase().as_str() {
        "" | "true" | "yes" | "1" => Ok(true),
        "false" | "no" | "0" => Ok(false),
        _ => Err(format!(
            "{} '{}' must be true, false, yes, no, 1 or 0",
            Column::SendEmail.key(),
            shown(cell)
        )),
    }
}

fn check_length(column: Column, value: Option<&str>, max: usize) -> Result<(), String> {
    match value.map(|v| v.chars().count()) {
        Some(n) if n > max => Err(format!(
            "{} has {n} characters, more than the {max} allowed",
            column.key()
        )),
        _ => Ok(()),
    }
}

fn non_empty(s: String) -> Option<String> {
    (!s.is_empty()).then_some(s)
}

/// A cell quoted in a message, cut short so a pasted essay stays readable.
fn shown(value: &str) -> String {
    const MAX: usize = 60;
    match value.char_indices().nth(MAX) {
        Some((end, _)) => format!("{}…", &value[..end]),
        None => value.to_owned(),
    }
}

/// The upload as the parser needs it: no UTF-8 byte order mark (Excel's
/// "CSV UTF-8" writes one), every line ending (CRLF, or the lone CR of old
/// Mac exports) turned into `\n`, and a final `\n`. One terminator byte after
/// every record is what lets [`Records`] compute line numbers. A `\r\n`
/// inside a quoted message becomes `\n`, which changes no meaning.
///
/// UTF-16 files (Excel's "Unicode text") are refused here with a clear
/// message rather than parsed into garbage.
struct Normalized<R> {
    inner: R,
    /// The first bytes, read ahead to look for a byte order mark.
    head: [u8; 3],
    head_len: usize,
    head_pos: usize,
    after_cr: bool,
    last: Option<u8>,
    ended: bool,
}

impl<R: Read> Normalized<R> {
    fn new(mut inner: R) -> Result<Self, CsvError> {
        let mut head = [0; 3];
        let mut head_len = 0;
        while head_len < head.len() {
            match inner.read(&mut head[head_len..]) {
                Ok(0) => break,
                Ok(n) => head_len += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(CsvError::Io(e)),
            }
        }
        if head_len >= 2 && matches!(head[..2], [0xFF, 0xFE] | [0xFE, 0xFF]) {
            return Err(CsvError::NotCsv {
                line: 1,
                reason: "it is UTF-16 text; save it as \"CSV UTF-8\"",
            });
        }
        let head_pos = if head[..head_len] == [0xEF, 0xBB, 0xBF] {
            3
        } else {
            0
        };
        Ok(Self {
            inner,
            head,
            head_len,
            head_pos,
            after_cr: false,
            last: None,
            ended: false,
        })
    }
}

impl<R: Read> Read for Normalized<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        loop {
            let n = if self.head_pos < self.head_len {
                let n = (self.head_len - self.head_pos).min(buf.len());
                buf[..n].copy_from_slice(&self.head[self.head_pos..self.head_pos + n]);
                self.head_pos += n;
                n
            } else {
                match self.inner.read(buf) {
                    Ok(n) => n,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(e) => return Err(e),
                }
            };
            if n == 0 {
                if !self.ended && self.last.is_some_and(|b| b != b'\n') {
                    self.ended = true;
                    buf[0] = b'\n';
                    return Ok(1);
                }
                return Ok(0);
            }
            // Rewrite in place: the output is never longer than the input.
            let mut w = 0;
            for r in 0..n {
                let b = buf[r];
                let skip = b == b'\n' && self.after_cr;
                self.after_cr = b == b'\r';
                if !skip {
                    buf[w] = if b == b'\r' { b'\n' } else { b };
                    w += 1;
                }
            }
            // A chunk that was only the `\n` of a split CRLF yields nothing;
            // returning 0 would mean end of file, so read on.
            if w > 0 {
                self.last = Some(buf[w - 1]);
                return Ok(w);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Renders what the parser made of `input`, one line per row and one
    /// indented line per error, so each test reads as input → expected.
    fn render(input: &[u8]) -> String {
        let csv = match InviteCsv::open(input) {
            Ok(csv) => csv,
            Err(e) => return format!("error: {e}"),
        };
        let mut out = format!("{:?}", csv.format());
        for row in csv {
            let row = match row {
                Ok(row) => row,
                Err(e) => {
                    out += &format!("\nerror: {e}");
                    break;
                }
            };
            out += &format!(
                "\n{}@{} {} {} send={}",
                row.row_number, row.line, row.email, row.redirect_url, row.send_email
            );
            if let Some(m) = &row.message {
                out += &format!(" msg={m:?}");
            }
            if let Some(n) = &row.display_name {
                out += &format!(" name={n:?}");
            }
            for e in &row.errors {
                out += &format!("\n  ! {e}");
            }
        }
        out
    }

    #[track_caller]
    fn check(input: &str, expected: &str) {
        check_bytes(input.as_bytes(), expected);
    }

    #[track_caller]
    fn check_bytes(input: &[u8], expected: &str) {
        let actual = render(input);
        let expected: Vec<&str> = expected
            .trim()
            .lines()
            .map(|l| l.trim_start_matches(' ').trim_end())
            .collect();
        let actual_lines: Vec<&str> = actual.lines().map(|l| l.trim_start()).collect();
        assert_eq!(actual_lines, expected, "\nactual:\n{actual}\n");
    }

    const AZURE_HEADER: &str = "Email address to invite [inviteeEmail] Required,\
        Redirection url [inviteRedirectURL] Required,\
        Send invitation message (true or false) [sendEmail],\
        Customized invitation message [customizedMessageBody]";

    #[test]
    fn azure_template_with_bom_padded_version_line_and_example_row() {
        let input = format!(
            "\u{feff}version:v1.0,,,\n{AZURE_HEADER}\n\
             Example:    example@example.com,Example:    https://myapps.microsoft.com,true,Example: Hello\n\
             Ann@Contoso.com ,https://myapps.example.com,false,Welcome\n\
             bob@fabrikam.com,https://myapps.example.com,,\n"
        );
        check(
            &input,
            "
            AzureTemplate
            1@4 ann@contoso.com https://myapps.example.com send=false msg=\"Welcome\"
            2@5 bob@fabrikam.com https://myapps.example.com send=true
            ",
        );
    }

    #[test]
    fn azure_template_columns_are_found_by_key_in_any_order() {
        check(
            "version:v1.0\r\n\
             Message [CUSTOMIZEDMESSAGEBODY],Redirect [inviteRedirectUrl],Notes,Who [inviteeEmail]\r\n\
             Hi,https://app.example.com/,vip,ann@contoso.com\r\n",
            "
            AzureTemplate
            1@3 ann@contoso.com https://app.example.com/ send=true msg=\"Hi\"
            ",
        );
    }

    #[test]
    fn plain_csv_accepts_keys_and_aliases() {
        let cases = [
            "inviteeEmail,inviteRedirectURL,sendEmail,customizedMessageBody,displayName",
            " Email , RedirectUrl ,SENDEMAIL,message,inviteeDisplayName",
        ];
        for header in cases {
            check(
                &format!("{header}\nann@contoso.com,https://app.example.com,no,Hello,Ann Lee\n"),
                "
                Plain
                1@2 ann@contoso.com https://app.example.com send=false msg=\"Hello\" name=\"Ann Lee\"
                ",
            );
        }
    }

    #[test]
    fn quoted_commas_quotes_and_newlines_keep_row_and_line_numbers() {
        check(
            "email,redirectUrl,message\r\n\
             a@x.com,https://app.example.com,\"Hello, \"\"friend\"\"\r\nsee you\"\r\n\
             \r\n\
             b@x.com,https://app.example.com,\n\
             ,,\n\
             c@x.com,https://app.example.com,\"two\nmore\nlines\"\n\
             d@x.com,https://app.example.com,",
            "
            Plain
            1@2 a@x.com https://app.example.com send=true msg=\"Hello, \\\"friend\\\"\\nsee you\"
            2@5 b@x.com https://app.example.com send=true
            3@7 c@x.com https://app.example.com send=true msg=\"two\\nmore\\nlines\"
            4@10 d@x.com https://app.example.com send=true
            ",
        );
    }

    #[test]
    fn lone_carriage_returns_end_lines() {
        check(
            "email,redirectUrl\ra@x.com,https://a.example.com\r\rb@x.com,https://a.example.com",
            "
            Plain
            1@2 a@x.com https://a.example.com send=true
            2@4 b@x.com https://a.example.com send=true
            ",
        );
    }

    #[test]
    fn each_invalid_cell_is_reported_by_its_key() {
        check(
            "email,redirectUrl,sendEmail,message,displayName\n\
             ,https://app.example.com,,,\n\
             not-an-email,https://app.example.com,,,\n\
             a@localhost,https://app.example.com,,,\n\
             a b@x.com,https://app.example.com,,,\n\
             @x.com,https://app.example.com,,,\n\
             c@x.com,,,,\n\
             d@x.com,/relative/path,,,\n\
             e@x.com,ftp://files.example.com,,,\n\
             f@x.com,https://app.example.com,maybe,,\n\
             g@x.com,https://app.example.com\n\
             h@x.com,https://app.example.com,yes,Hi, there,\n\
             ,,oui,,\n",
            "
            Plain
            1@2  https://app.example.com send=true
              ! inviteeEmail is required
            2@3 not-an-email https://app.example.com send=true
              ! inviteeEmail 'not-an-email' is not a valid email address
            3@4 a@localhost https://app.example.com send=true
              ! inviteeEmail 'a@localhost' is not a valid email address
            4@5 a b@x.com https://app.example.com send=true
              ! inviteeEmail 'a b@x.com' is not a valid email address
            5@6 @x.com https://app.example.com send=true
              ! inviteeEmail '@x.com' is not a valid email address
            6@7 c@x.com  send=true
              ! inviteRedirectURL is required
            7@8 d@x.com /relative/path send=true
              ! inviteRedirectURL '/relative/path' is not an absolute http or https URL
            8@9 e@x.com ftp://files.example.com send=true
              ! inviteRedirectURL 'ftp://files.example.com' is not an absolute http or https URL
            9@10 f@x.com https://app.example.com send=true
              ! sendEmail 'maybe' must be true, false, yes, no, 1 or 0
            10@11 g@x.com https://app.example.com send=true
              ! The row has 2 fields but the header has 5 (quote values that contain commas)
            11@12 h@x.com https://app.example.com send=true msg=\"Hi\" name=\"there\"
              ! The row has 6 fields but the header has 5 (quote values that contain commas)
            12@13   send=true
              ! inviteeEmail is required
              ! inviteRedirectURL is required
              ! sendEmail 'oui' must be true, false, yes, no, 1 or 0
            ",
        );
    }

    #[test]
    fn long_messages_and_names_are_refused_by_character_count() {
        let row = |message: &str, name: &str| {
            let input = format!(
                "email,redirectUrl,message,displayName\na@x.com,https://a.example.com,{message},{name}\n"
            );
            let row = InviteCsv::open(input.as_bytes())
                .unwrap()
                .next()
                .unwrap()
                .unwrap();
            row.errors
        };
        let at_most = |n: usize, c: &str| c.repeat(n);
        assert_eq!(
            row(&at_most(2000, "é"), &at_most(256, "ü")),
            Vec::<String>::new()
        );
        assert_eq!(
            row(&at_most(2001, "m"), &at_most(257, "n")),
            [
                "customizedMessageBody has 2001 characters, more than the 2000 allowed",
                "displayName has 257 characters, more than the 256 allowed",
            ]
        );
    }

    #[test]
    fn long_values_are_cut_short_in_messages() {
        let email = format!("{}@x", "a".repeat(100));
        let input = format!("email,redirectUrl\n{email},https://a.example.com\n");
        let row = InviteCsv::open(input.as_bytes())
            .unwrap()
            .next()
            .unwrap()
            .unwrap();
        assert_eq!(
            row.errors,
            [format!(
                "inviteeEmail '{}…' is not a valid email address",
                "a".repeat(60)
            )]
        );
    }

    #[test]
    fn the_same_email_twice_names_the_first_row() {
        check(
            "email,redirectUrl\n\
             ann@x.com,https://a.example.com\n\
             bob@x.com,https://a.example.com\n\
             ANN@X.COM ,https://b.example.com\n\
             ann@x.com,https://c.example.com\n",
            "
            Plain
            1@2 ann@x.com https://a.example.com send=true
            2@3 bob@x.com https://a.example.com send=true
            3@4 ann@x.com https://b.example.com send=true
              ! inviteeEmail 'ann@x.com' already appears in row 1
            4@5 ann@x.com https://c.example.com send=true
              ! inviteeEmail 'ann@x.com' already appears in row 1
            ",
        );
    }

    #[test]
    fn whole_file_problems_fail_open() {
        let cases: [(&[u8], &str); 13] = [
            (b"", "error: The file is empty."),
            (b"\xEF\xBB\xBF\r\n\n,,,\n", "error: The file is empty."),
            (
                b"version:v1.0,,,\n\n",
                "error: The file has no header row (line 2): the first row must name the \
                 columns, at least inviteeEmail and inviteRedirectURL.",
            ),
            (
                b"ann@x.com,https://a.example.com\n",
                "error: The file has no header row (line 1): the first row must name the \
                 columns, at least inviteeEmail and inviteRedirectURL.",
            ),
            (
                b"email,message\nann@x.com,Hi\n",
                "error: The header row (line 1) has no inviteRedirectURL column, which is required.",
            ),
            (
                b"version:v1.0\nRedirection url [inviteRedirectURL] Required\n",
                "error: The header row (line 2) has no inviteeEmail column, which is required.",
            ),
            (
                b"email,inviteeEmail,redirectUrl\n",
                "error: The header row (line 1) names the inviteeEmail column more than once.",
            ),
            (
                b"\xFF\xFEe\0m\0a\0i\0l\0",
                "error: The file cannot be read as CSV (line 1): it is UTF-16 text; \
                 save it as \"CSV UTF-8\".",
            ),
            (
                b"PK\x03\x04\x14\0\x06\0\x08\0\0\0!\0\xb5U\x9c\n",
                "error: The file cannot be read as CSV (line 1): the header row is not \
                 UTF-8 text; save the file as \"CSV UTF-8\".",
            ),
            (
                b"email\0,redirectUrl\n",
                "error: The file cannot be read as CSV (line 1): it holds binary data, as \
                 a workbook or archive would; save it as \"CSV UTF-8\".",
            ),
            (
                b"version:v1.0;;;\nEmail [inviteeEmail];Url [inviteRedirectURL];x\n",
                "error: The file cannot be read as CSV (line 2): the columns are separated \
                 by semicolons or tabs; separate them with commas.",
            ),
            (
                b"email\tredirectUrl\n",
                "error: The file cannot be read as CSV (line 1): the columns are separated \
                 by semicolons or tabs; separate them with commas.",
            ),
            // A header alone is a valid file with no rows.
            (b"email,redirectUrl\n", "Plain"),
        ];
        for (input, expected) in cases {
            check_bytes(input, expected);
        }
    }

    #[test]
    fn a_row_that_is_not_utf8_is_reported_not_fatal() {
        check_bytes(
            b"email,redirectUrl,displayName\nann@x.com,https://a.example.com,Ren\xe9\n",
            "
            Plain
            1@2 ann@x.com https://a.example.com send=true name=\"Ren\u{fffd}\"
              ! The row is not UTF-8 text (save the file as \"CSV UTF-8\")
            ",
        );
    }

    /// Serves `rows` generated rows without ever holding the file, and in
    /// small uneven chunks, so `\r\n` pairs are split across reads.
    struct Generated {
        next: usize,
        rows: usize,
        chunk: Vec<u8>,
        pos: usize,
    }

    impl Read for Generated {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            if self.pos == self.chunk.len() {
                if self.next > self.rows {
                    return Ok(0);
                }
                self.chunk = if self.next == 0 {
                    b"inviteeEmail,inviteRedirectURL,sendEmail\r\n".to_vec()
                } else {
                    format!(
                        "user{}@example.com,https://app.example.com,true\r\n",
                        self.next
                    )
                    .into_bytes()
                };
                self.next += 1;
                self.pos = 0;
            }
            let n = buf.len().min(self.chunk.len() - self.pos).min(7);
            buf[..n].copy_from_slice(&self.chunk[self.pos..self.pos + n]);
            self.pos += n;
            Ok(n)
        }
    }

    #[test]
    fn twenty_thousand_rows_stream_through() {
        let file = Generated {
            next: 0,
            rows: 20_000,
            chunk: Vec::new(),
            pos: 0,
        };
        let mut count = 0;
        let mut last = None;
        for row in InviteCsv::open(file).unwrap() {
            let row = row.unwrap();
            assert!(row.is_valid(), "{row:?}");
            count += 1;
            last = Some((row.row_number, row.line, row.email));
        }
        assert_eq!(count, 20_000);
        assert_eq!(last, Some((20_000, 20_001, "user20000@example.com".into())));
    }

    #[test]
    fn an_io_error_ends_the_rows() {
        struct Failing(&'static [u8]);
        impl Read for Failing {
            fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                if self.0.is_empty() {
                    return Err(io::Error::other("disk gone"));
                }
                let n = self.0.len().min(buf.len());
                buf[..n].copy_from_slice(&self.0[..n]);
                self.0 = &self.0[n..];
                Ok(n)
            }
        }
        let rows: Vec<_> = InviteCsv::open(Failing(
            b"email,redirectUrl\na@x.com,https://a.example.com\n",
        ))
        .unwrap()
        .collect();
        assert_eq!(rows.len(), 2);
        assert!(rows[0].is_ok());
        assert_eq!(
            rows[1].as_ref().unwrap_err().to_string(),
            "The file could not be read: disk gone"
        );
    }
}
