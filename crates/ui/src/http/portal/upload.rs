//! `POST /admin/imports`: receive a CSV and stage it as an import job.
//!
//! The upload is streamed chunk by chunk to a file in `upload_dir` while its
//! SHA-256 is computed, so memory stays flat whatever the file's size; a
//! file over [`MAX_UPLOAD_BYTES`] is cut off with a 413. The CSRF field must
//! come before the file in the form (browsers send fields in order), so a
//! forged post is refused before a byte of it reaches the disk.
//!
//! Staging then reads the file with blocking `std::io` between database
//! writes. It runs on the blocking pool (`spawn_blocking`), driving the
//! importer's async repository calls with `Handle::block_on`: the file reads
//! never stall an async worker, and the handler awaits the result to
//! redirect to the new job's report. The file is deleted once staged, or on
//! any error or cancellation before that (a [`Spooled`] guard owns it): the
//! rows are in the database, and a re-upload of the same file (same hash)
//! resumes an interrupted staging.

use super::auth::Admin;
use super::error::PortalError;
use super::imports::render_imports;
use super::parse::{hex, upload_name};
use crate::http::UiState;
use axum::extract::multipart::Field;
use axum::extract::{Multipart, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use portico_directory::import::ImportError;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use tokio::io::AsyncWriteExt;

/// About 50 MB: far more than 10,000 rows with long messages need.
pub const MAX_UPLOAD_BYTES: u64 = 50_000_000;
/// Room for the multipart framing and the CSRF field around the file.
const FRAMING_ALLOWANCE: u64 = 64 * 1024;

/// An uploaded file on disk.
struct Upload {
    file: Spooled,
    name: String,
    sha256: String,
    size: u64,
}

/// A spooled upload file, removed from disk when this is dropped, whichever
/// way the request ends.
struct Spooled(PathBuf);

impl Drop for Spooled {
    fn drop(&mut self) {
        match std::fs::remove_file(&self.0) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => {
                tracing::warn!(error = %e, path = %self.0.display(), "could not remove an upload");
            }
        }
    }
}

pub async fn imports_post(
    admin: Admin,
    State(s): State<UiState>,
    headers: HeaderMap,
    mut multipart: Multipart,
) -> Result<Response, PortalError> {
    // A declared length over the cap is refused before reading anything.
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > MAX_UPLOAD_BYTES + FRAMING_ALLOWANCE) {
        return Err(PortalError::TooLarge);
    }
    let mut csrf_checked = false;
    let mut upload = None;
    while let Some(field) = multipart.next_field().await.map_err(bad_form)? {
        match field.name() {
            Some("csrf") => {
                admin.check_csrf(&s, &small_text(field).await?)?;
                csrf_checked = true;
            }
            Some("file") if csrf_checked && upload.is_none() => {
                upload = Some(save(&s.upload_dir, field).await?);
            }
            Some("file") if !csrf_checked => return Err(PortalError::Forbidden),
            // Unknown fields are drained unread by the next `next_field`.
            _ => {}
        }
    }
    if !csrf_checked {
        return Err(PortalError::Forbidden);
    }
    let refuse = |m: &str| Some((StatusCode::BAD_REQUEST, m.to_string()));
    let Some(upload) = upload else {
        return render_imports(&s, &admin, refuse("Choose a CSV file to upload.")).await;
    };
    if upload.size == 0 {
        return render_imports(&s, &admin, refuse("The file is empty.")).await;
    }
    match stage(&s, &admin, upload).await? {
        Ok(id) => Ok(Redirect::to(&format!("/admin/imports/{id}")).into_response()),
        Err(m) => render_imports(&s, &admin, refuse(&m)).await,
    }
}

/// Stages the file on the blocking pool; `Err(message)` when the file is
/// refused as a whole (no header, a required column missing, not CSV).
async fn stage(
    s: &UiState,
    admin: &Admin,
    up: Upload,
) -> Result<Result<uuid::Uuid, String>, PortalError> {
    let importer = s.importer.clone();
    let actor = admin.actor();
    let handle = tokio::runtime::Handle::current();
    // `up` moves into the task, so its file is removed when staging ends
    // (or the task panics).
    let staged = tokio::task::spawn_blocking(move || {
        std::fs::File::open(&up.file.0)
            .map_err(|e| ImportError::Directory(internal_io(e)))
            .and_then(|file| {
                let reader = std::io::BufReader::new(file);
                handle.block_on(importer.stage(reader, &up.name, &up.sha256, &actor))
            })
    })
    .await;
    match staged {
        Ok(Ok(job)) => Ok(Ok(job.id)),
        Ok(Err(ImportError::File(e))) => Ok(Err(e.to_string())),
        Ok(Err(ImportError::Directory(e))) => Err(e.into()),
        Err(join) => Err(PortalError::internal(join)),
    }
}

fn internal_io(e: std::io::Error) -> portico_directory::DirectoryError {
    portico_directory::DirectoryError::Internal(e.into())
}

/// Streams the file field to a new file, hashing as it goes.
async fn save(dir: &Path, mut field: Field<'_>) -> Result<Upload, PortalError> {
    let name = upload_name(field.file_name());
    tokio::fs::create_dir_all(dir)
        .await
        .map_err(PortalError::internal)?;
    // A server-chosen name: the client's file name never touches the path.
    let spooled = Spooled(dir.join(format!("{}.csv", uuid::Uuid::now_v7())));
    let mut file = tokio::fs::File::create(&spooled.0)
        .await
        .map_err(PortalError::internal)?;
    let mut hasher = Sha256::new();
    let mut size: u64 = 0;
    let outcome = async {
        while let Some(chunk) = field.chunk().await.map_err(bad_form)? {
            size += chunk.len() as u64;
            if size > MAX_UPLOAD_BYTES {
                return Err(PortalError::TooLarge);
            }
            hasher.update(&chunk);
            file.write_all(&chunk)
                .await
                .map_err(PortalError::internal)?;
        }
        file.flush().await.map_err(PortalError::internal)
    }
    .await;
    drop(file);
    outcome?;
    Ok(Upload {
        file: spooled,
        name,
        sha256: hex(&hasher.finalize()),
        size,
    })
}

/// A short text field, read without buffering more than a token's worth.
async fn small_text(mut field: Field<'_>) -> Result<String, PortalError> {
    let mut buf = Vec::new();
    while let Some(chunk) = field.chunk().await.map_err(bad_form)? {
        buf.extend_from_slice(&chunk);
        if buf.len() > 1024 {
            return Err(PortalError::Forbidden);
        }
    }
    String::from_utf8(buf).map_err(|_| PortalError::Forbidden)
}

/// A malformed multipart body, or a connection cut mid-upload.
fn bad_form(e: axum::extract::multipart::MultipartError) -> PortalError {
    PortalError::BadRequest(format!("The upload could not be read: {}", e.body_text()))
}
