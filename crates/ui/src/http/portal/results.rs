//! `GET /admin/imports/{id}/results.csv`: one line per row of the upload,
//! streamed. Rows are read 1,000 at a time (keyset by row number) and each
//! page is written as one chunk, so a 10,000-row result never sits in memory
//! whole and the download starts at once.

use super::auth::Admin;
use super::error::PortalError;
use super::parse::{parse_id, spreadsheet_safe};
use crate::http::UiState;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use portico_directory::import::{ImportRow, Importer, result_header, result_record};
use uuid::Uuid;

const PAGE: u64 = 1000;

/// Where the stream is: the last row written, and whether it is over.
struct Cursor {
    importer: Importer,
    job: Uuid,
    after: i64,
    started: bool,
    finished: bool,
}

/// One chunk of the file: the header first, then `rows`.
fn chunk(header: bool, rows: &[ImportRow]) -> Result<Vec<u8>, csv::Error> {
    let mut w = csv::Writer::from_writer(Vec::new());
    if header {
        w.write_record(result_header())?;
    }
    for r in rows {
        w.write_record(result_record(r).map(spreadsheet_safe))?;
    }
    w.into_inner().map_err(|e| e.into_error().into())
}

async fn next_chunk(mut c: Cursor) -> Option<(Result<Vec<u8>, std::io::Error>, Cursor)> {
    if c.finished {
        return None;
    }
    let rows = match c.importer.repo().rows(c.job, c.after, PAGE, false).await {
        Ok(rows) => rows,
        Err(e) => {
            // The status line is gone already: cutting the body short is the
            // only way left to tell the client the file is incomplete.
            tracing::error!(error = ?e, job = %c.job, "result file stopped");
            c.finished = true;
            return Some((Err(std::io::Error::other("result rows unavailable")), c));
        }
    };
    c.finished = (rows.len() as u64) < PAGE;
    let header = !c.started;
    c.started = true;
    if let Some(last) = rows.last() {
        c.after = last.row_number;
    }
    Some((chunk(header, &rows).map_err(std::io::Error::other), c))
}

pub async fn results_get(
    _admin: Admin,
    State(s): State<UiState>,
    Path(id): Path<String>,
) -> Result<Response, PortalError> {
    let id = parse_id(&id).ok_or(PortalError::NotFound)?;
    // Checked first so a wrong id is a 404 page, not an empty file.
    s.importer.find(id).await?;
    let cursor = Cursor {
        importer: s.importer.clone(),
        job: id,
        after: 0,
        started: false,
        finished: false,
    };
    let body = Body::from_stream(futures::stream::unfold(cursor, next_chunk));
    let disposition = format!("attachment; filename=\"import-{id}-results.csv\"");
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        body,
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(n: i64, email: &str, error: Option<&str>) -> ImportRow {
        ImportRow {
            job_id: Uuid::nil(),
            row_number: n,
            email: email.into(),
            redirect_url: "https://app.example/".into(),
            send_email: true,
            message: None,
            display_name: None,
            error: error.map(str::to_string),
            outcome: None,
        }
    }

    #[test]
    fn chunks_have_one_line_per_row_and_the_header_once() {
        let rows = [
            row(1, "a@x.example", None),
            row(2, "=cmd@x.example", Some("bad, really")),
        ];
        let first = String::from_utf8(chunk(true, &rows).unwrap()).unwrap();
        let lines: Vec<&str> = first.lines().collect();
        assert_eq!(lines.len(), 3);
        assert!(lines[0].starts_with("row,email,status"));
        assert!(lines[1].starts_with("1,a@x.example,pending"));
        // Quoted because of the comma; neutralized because of the '='.
        assert!(lines[2].contains("'=cmd@x.example"));
        assert!(lines[2].ends_with("\"bad, really\""));
        let next = String::from_utf8(chunk(false, &rows[..1]).unwrap()).unwrap();
        assert_eq!(next.lines().count(), 1);
    }
}
