//! Bulk invite through the admin portal (PRODUCT.md §1 journey 4): upload
//! the Azure template, read the dry run, start, watch it finish, download the
//! per-row results.

use crate::portal::signed_in;
use portico_tests::{Backend, Browser, TestApp, both_backends, spawn_app};
use reqwest::header::{CONTENT_DISPOSITION, CONTENT_TYPE, LOCATION};
use std::time::Duration;

/// The Azure portal's template, with its example row, a quoted comma, and
/// one invalid row.
const AZURE_CSV: &str = "version:v1.0\r
Email address to invite [inviteeEmail] Required,Redirection url [inviteRedirectURL] Required,Send invitation message (true or false) [sendEmail],Customized invitation message [customizedMessageBody]\r
Example: name@company.com,https://myapps.microsoft.com,true,Hello\r
carol@fabrikam.example,https://trials.contoso.example/,false,\"Welcome, Carol\"\r
not-an-email,https://trials.contoso.example/,false,\r
dave@fabrikam.example,https://trials.contoso.example/,false,\"Hi, Dave, and welcome\"\r
";

const BOUNDARY: &str = "portico-test-boundary-7d1f";

/// A `multipart/form-data` body; a part with a file name is a file.
fn multipart(parts: &[(&str, Option<&str>, &str)]) -> Vec<u8> {
    let mut body = String::new();
    for (name, file, value) in parts {
        body.push_str(&format!("--{BOUNDARY}\r\n"));
        match file {
            Some(f) => body.push_str(&format!(
                "Content-Disposition: form-data; name=\"{name}\"; filename=\"{f}\"\r\nContent-Type: text/csv\r\n\r\n"
            )),
            None => body.push_str(&format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n")),
        }
        body.push_str(value);
        body.push_str("\r\n");
    }
    body.push_str(&format!("--{BOUNDARY}--\r\n"));
    body.into_bytes()
}

/// Uploads `body` to `/admin/imports`: status and `Location`.
async fn upload(app: &TestApp, b: &Browser, body: Vec<u8>) -> (u16, Option<String>, String) {
    let resp = b
        .http
        .post(app.url("/admin/imports"))
        .header(
            CONTENT_TYPE,
            format!("multipart/form-data; boundary={BOUNDARY}"),
        )
        .body(body)
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    let location = resp
        .headers()
        .get(LOCATION)
        .map(|v| v.to_str().unwrap().to_string());
    (status, location, resp.text().await.unwrap())
}

/// The text of the upload form's error paragraph (`id="upload-error"`), if any.
fn upload_error(page: &str) -> Option<&str> {
    let start = page.find(r#"id="upload-error">"#)? + r#"id="upload-error">"#.len();
    let len = page[start..].find("</p>")?;
    Some(&page[start..start + len])
}

async fn csv_upload_shows_a_dry_run_then_runs_to_a_result_file(backend: Backend) {
    let app = spawn_app(backend).await;
    let (b, csrf) = signed_in(&app).await;

    // The CSRF field must come first: a file without it is refused.
    let forged = multipart(&[("file", Some("guests.csv"), AZURE_CSV)]);
    assert_eq!(upload(&app, &b, forged).await.0, 403);
    let wrong = multipart(&[
        ("csrf", None, "forged"),
        ("file", Some("guests.csv"), AZURE_CSV),
    ]);
    assert_eq!(upload(&app, &b, wrong).await.0, 403);
    // A file that is not an invite list is refused as a whole, on the page.
    let junk = multipart(&[
        ("csrf", None, &csrf),
        ("file", Some("x.csv"), "name,age\r\nx,1\r\n"),
    ]);
    let (status, _, page) = upload(&app, &b, junk).await;
    assert_eq!(status, 400);
    assert_eq!(
        upload_error(&page),
        Some(
            "The file has no header row (line 1): the first row must name the columns, at least inviteeEmail and inviteRedirectURL."
        ),
        "{page}"
    );
    // A header that names some columns but not a required one says which.
    let partial = multipart(&[
        ("csrf", None, &csrf),
        (
            "file",
            Some("x.csv"),
            "email,displayName\r\nx@fabrikam.example,X\r\n",
        ),
    ]);
    let (status, _, page) = upload(&app, &b, partial).await;
    assert_eq!(status, 400);
    assert_eq!(
        upload_error(&page),
        Some("The header row (line 1) has no inviteRedirectURL column, which is required."),
        "{page}"
    );

    let body = multipart(&[
        ("csrf", None, &csrf),
        ("file", Some("C:\\fakepath\\guests.csv"), AZURE_CSV),
    ]);
    let (status, location, _) = upload(&app, &b, body).await;
    assert_eq!(status, 303);
    let report_url = location.unwrap();
    let job = report_url
        .strip_prefix("/admin/imports/")
        .unwrap()
        .to_string();

    let report = b.get(&report_url).await;
    assert!(report.body.contains("guests.csv") && !report.body.contains("fakepath"));
    assert!(report.body.contains("Start import"), "{}", report.body);
    assert!(
        report.body.contains("not-an-email"),
        "the invalid row is listed"
    );
    assert!(
        !report.body.contains("http-equiv=\"refresh\""),
        "a dry run does not refresh"
    );
    assert!(
        !app_has_guest(&app, "carol@fabrikam.example").await,
        "a dry run invites nobody"
    );

    let started = b
        .post_form(&format!("/admin/imports/{job}/start"), &[("csrf", &csrf)])
        .await;
    assert_eq!(started.location.as_deref(), Some(report_url.as_str()));
    // The runner works in the background; the page refreshes until it is done.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let page = b.get(&report_url).await;
        if page.body.contains("status-completed") {
            assert!(!page.body.contains("http-equiv=\"refresh\""));
            break;
        }
        assert!(
            page.body.contains("http-equiv=\"refresh\""),
            "{}",
            page.body
        );
        assert!(
            tokio::time::Instant::now() < deadline,
            "the import did not finish"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(app_has_guest(&app, "carol@fabrikam.example").await);
    assert!(app_has_guest(&app, "dave@fabrikam.example").await);

    let resp = b
        .http
        .get(app.url(&format!("/admin/imports/{job}/results.csv")))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let disposition = resp.headers()[CONTENT_DISPOSITION]
        .to_str()
        .unwrap()
        .to_string();
    assert!(disposition.starts_with("attachment;"), "{disposition}");
    let text = resp.text().await.unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 4, "a header and one line per row: {text}");
    assert!(lines[0].starts_with("row,email,status"));
    assert!(
        lines[1].starts_with("1,carol@fabrikam.example,invited"),
        "{text}"
    );
    assert!(lines[2].starts_with("2,not-an-email,invalid"), "{text}");
    assert!(
        lines[3].starts_with("3,dave@fabrikam.example,invited"),
        "{text}"
    );
}
both_backends!(
    csv_upload_shows_a_dry_run_then_runs_to_a_result_file,
    super::csv_upload_shows_a_dry_run_then_runs_to_a_result_file
);

async fn app_has_guest(app: &TestApp, mail: &str) -> bool {
    let repo = app.server.app.directory.repo();
    repo.find_user_by_mail(mail).await.unwrap().is_some()
}
