//! A scripted browser: cookies kept, redirects not followed (each hop is
//! asserted), forms posted with their hidden fields.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use reqwest::StatusCode;
use reqwest::header::{LOCATION, RETRY_AFTER};
use sha2::{Digest, Sha256};

pub struct Browser {
    pub http: reqwest::Client,
    pub base: String,
}

/// A PKCE verifier and its S256 challenge (RFC 7636).
pub fn pkce_pair() -> (String, String) {
    let verifier = portico_core::random_token(32);
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    (verifier, challenge)
}

/// The value of `<input type="hidden" name="NAME" value="...">` in a page.
pub fn find_hidden(html: &str, name: &str) -> Option<String> {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html.find(&marker)? + marker.len();
    let end = html[start..].find('"')? + start;
    Some(
        html[start..end]
            .replace("&#43;", "+")
            .replace("&amp;", "&")
            .replace("&#x2f;", "/")
            .replace("&#x2F;", "/"),
    )
}

pub struct Hop {
    pub status: StatusCode,
    pub location: Option<String>,
    /// `Retry-After`, when the server asked to come back later.
    pub retry_after: Option<String>,
    pub body: String,
}

impl Browser {
    pub fn new(base: &str) -> Self {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .cookie_store(true)
            .build()
            .expect("client");
        Self {
            http,
            base: base.to_string(),
        }
    }

    /// A browser that sends these headers with every request (a User-Agent,
    /// client hints, `X-Forwarded-For` as a proxy in front would add).
    pub fn with_headers(base: &str, headers: &[(&'static str, &str)]) -> Self {
        let mut map = reqwest::header::HeaderMap::new();
        for (k, v) in headers {
            map.insert(*k, v.parse().expect("header value"));
        }
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .cookie_store(true)
            .default_headers(map)
            .build()
            .expect("client");
        Self {
            http,
            base: base.to_string(),
        }
    }

    fn abs(&self, url: &str) -> String {
        if url.starts_with('/') {
            format!("{}{}", self.base, url)
        } else {
            url.to_string()
        }
    }

    async fn hop(resp: reqwest::Response) -> Hop {
        let status = resp.status();
        let location = resp
            .headers()
            .get(LOCATION)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let retry_after = resp
            .headers()
            .get(RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let body = resp.text().await.unwrap_or_default();
        Hop {
            status,
            location,
            retry_after,
            body,
        }
    }

    pub async fn get(&self, url: &str) -> Hop {
        Self::hop(self.http.get(self.abs(url)).send().await.expect("GET")).await
    }

    pub async fn post_form(&self, url: &str, form: &[(&str, &str)]) -> Hop {
        Self::hop(
            self.http
                .post(self.abs(url))
                .form(form)
                .send()
                .await
                .expect("POST"),
        )
        .await
    }

    /// Follows redirects within the issuer until a page (2xx/4xx) or a redirect off-site.
    pub async fn follow(&self, mut hop: Hop) -> Hop {
        for _ in 0..10 {
            match &hop.location {
                Some(loc)
                    if hop.status.is_redirection()
                        && (loc.starts_with('/') || loc.starts_with(&self.base)) =>
                {
                    hop = self.get(loc).await;
                }
                _ => return hop,
            }
        }
        panic!("too many redirects");
    }

    /// Signs in on the sign-in page the hop shows (after following redirects).
    pub async fn sign_in(&self, page: Hop, email: &str, password: &str) -> Hop {
        let page = self.follow(page).await;
        assert!(
            page.body.contains("name=\"password\""),
            "expected the sign-in page, got {} {}",
            page.status,
            page.body
        );
        let action = form_action(&page.body);
        let csrf = find_hidden(&page.body, "csrf").expect("csrf");
        self.post_form(
            &action,
            &[("csrf", &csrf), ("email", email), ("password", password)],
        )
        .await
    }

    /// Answers the consent page with `decision` (accept / cancel).
    pub async fn consent(&self, page: Hop, decision: &str) -> Hop {
        let page = self.follow(page).await;
        assert!(
            page.body.contains("name=\"decision\""),
            "expected the consent page, got {} {}",
            page.status,
            page.body
        );
        let action = form_action(&page.body);
        let csrf = find_hidden(&page.body, "csrf").expect("csrf");
        self.post_form(&action, &[("csrf", &csrf), ("decision", decision)])
            .await
    }
}

/// The `action` of the first form with method post.
pub fn form_action(html: &str) -> String {
    let start = html.find("<form method=\"post\" action=\"").expect("form")
        + "<form method=\"post\" action=\"".len();
    let end = html[start..].find('"').expect("action end") + start;
    html[start..end].to_string()
}
