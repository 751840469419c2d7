//! "Test connection": fetches an IdP's discovery document and JWKS with the
//! same client sign-ins use (no redirects, same timeouts) and reports each
//! step: what was found, or exactly what is wrong.

use crate::Federation;
use crate::discovery::chain;
use crate::model::IdentityProvider;
use openidconnect::core::{CoreJsonWebKeySet, CoreProviderMetadata};
use serde::Serialize;
use serde_json::Value;
use std::time::Instant;

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TraceStep {
    pub name: String,
    pub ok: bool,
    /// What was found, or what is wrong.
    pub detail: String,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TestReport {
    pub ok: bool,
    pub steps: Vec<TraceStep>,
}

struct Trace(Vec<TraceStep>);

impl Trace {
    fn ok(&mut self, name: &str, detail: impl Into<String>) {
        self.0.push(TraceStep {
            name: name.into(),
            ok: true,
            detail: detail.into(),
        });
    }
    fn fail(&mut self, name: &str, detail: impl Into<String>) {
        self.0.push(TraceStep {
            name: name.into(),
            ok: false,
            detail: detail.into(),
        });
    }
    fn done(self) -> TestReport {
        TestReport {
            ok: self.0.iter().all(|s| s.ok),
            steps: self.0,
        }
    }
}

fn strings(v: &Value, key: &str) -> Vec<String> {
    v.get(key)
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

impl Federation {
    /// Fetches discovery and JWKS for `idp` and checks what sign-ins need.
    pub async fn test_connection(&self, idp: &IdentityProvider) -> TestReport {
        let mut t = Trace(Vec::new());
        let url = format!(
            "{}/.well-known/openid-configuration",
            idp.issuer.trim_end_matches('/')
        );
        let Some(doc) = self.fetch_json(&mut t, "Discovery", &url).await else {
            return t.done();
        };
        let issuer = doc
            .get("issuer")
            .and_then(Value::as_str)
            .unwrap_or_default();
        if issuer == idp.issuer {
            t.ok("Issuer", format!("{issuer} matches"));
        } else {
            t.fail(
                "Issuer",
                format!("the document says issuer \"{issuer}\", but this IdP is configured with \"{}\"; they must be identical", idp.issuer),
            );
        }
        for key in ["authorization_endpoint", "token_endpoint", "jwks_uri"] {
            match doc.get(key).and_then(Value::as_str) {
                Some(v) => t.ok(key, v.to_string()),
                None => t.fail(key, format!("{key} is missing from the discovery document")),
            }
        }
        let types = strings(&doc, "response_types_supported");
        if types.iter().any(|s| s == "code") {
            t.ok("Response types", types.join(" "));
        } else {
            t.fail(
                "Response types",
                format!("\"code\" is not supported (found: {})", types.join(" ")),
            );
        }
        let pkce = strings(&doc, "code_challenge_methods_supported");
        if pkce.is_empty() {
            t.ok("PKCE", "not advertised; Portico sends S256 anyway");
        } else if pkce.iter().any(|s| s == "S256") {
            t.ok("PKCE", "S256 supported");
        } else {
            t.fail(
                "PKCE",
                format!("S256 is not supported (found: {})", pkce.join(" ")),
            );
        }
        let auth = strings(&doc, "token_endpoint_auth_methods_supported");
        if auth.is_empty()
            || auth
                .iter()
                .any(|m| m == "client_secret_basic" || m == "client_secret_post")
        {
            t.ok(
                "Client authentication",
                if auth.is_empty() {
                    "client_secret_basic (default)".to_string()
                } else {
                    auth.join(" ")
                },
            );
        } else {
            t.fail(
                "Client authentication",
                format!(
                    "neither client_secret_basic nor client_secret_post is supported (found: {})",
                    auth.join(" ")
                ),
            );
        }
        let scopes = strings(&doc, "scopes_supported");
        let missing: Vec<&str> = idp
            .scopes
            .iter()
            .filter(|s| !scopes.is_empty() && !scopes.contains(s))
            .map(String::as_str)
            .collect();
        if missing.is_empty() {
            t.ok("Scopes", idp.scopes.join(" "));
        } else {
            t.fail(
                "Scopes",
                format!("not offered by the IdP: {}", missing.join(" ")),
            );
        }
        let mut jwks_doc = None;
        if let Some(jwks_uri) = doc.get("jwks_uri").and_then(Value::as_str)
            && let Some(jwks) = self.fetch_json(&mut t, "JWKS", jwks_uri).await
        {
            let keys = jwks
                .get("keys")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            let signing: Vec<String> = keys
                .iter()
                .filter(|k| {
                    k.get("use")
                        .and_then(Value::as_str)
                        .is_none_or(|u| u == "sig")
                })
                .map(|k| {
                    format!(
                        "{} {}",
                        k.get("kid").and_then(Value::as_str).unwrap_or("(no kid)"),
                        k.get("alg")
                            .or(k.get("kty"))
                            .and_then(Value::as_str)
                            .unwrap_or("?")
                    )
                })
                .collect();
            if signing.is_empty() {
                t.fail("Signing keys", "the JWKS has no signing keys");
            } else {
                t.ok(
                    "Signing keys",
                    format!("{} key(s): {}", signing.len(), signing.join(", ")),
                );
            }
            jwks_doc = Some(jwks);
        }
        // Finally the parser sign-ins use, on the documents fetched above (no
        // second round trip), so a document that passes here but not there
        // is still caught.
        if t.0.iter().all(|s| s.ok)
            && let Some(jwks) = jwks_doc
        {
            let parsed = serde_json::from_value::<CoreProviderMetadata>(doc)
                .map_err(|e| format!("the discovery document: {e}"))
                .and(
                    serde_json::from_value::<CoreJsonWebKeySet>(jwks)
                        .map_err(|e| format!("the JWKS: {e}")),
                );
            match parsed {
                Ok(_) => t.ok("OpenID Connect client", "discovery and JWKS accepted"),
                Err(e) => t.fail("OpenID Connect client", e),
            }
        }
        t.ok(
            "Redirect URI",
            format!("register {} at the IdP", self.redirect_uri()),
        );
        t.done()
    }

    async fn fetch_json(&self, t: &mut Trace, name: &str, url: &str) -> Option<Value> {
        let started = Instant::now();
        let request = match self.http.get(url) {
            Ok(r) => r,
            Err(why) => {
                t.fail(name, format!("{url}: {why}"));
                return None;
            }
        };
        let resp = match request
            .header(reqwest::header::ACCEPT, "application/json")
            .send()
            .await
        {
            Ok(r) => r,
            Err(e) => {
                let why = if e.is_timeout() {
                    format!(
                        "no answer from {url} within {} s",
                        self.config.request_timeout.as_secs()
                    )
                } else if e.is_connect() {
                    format!("cannot connect to {url}: {}", chain(&e))
                } else {
                    format!("{url}: {}", chain(&e))
                };
                t.fail(name, why);
                return None;
            }
        };
        let status = resp.status();
        if status.is_redirection() {
            let to = resp
                .headers()
                .get(reqwest::header::LOCATION)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("?");
            t.fail(name, format!("{url} redirects ({status}) to {to}; Portico does not follow redirects, so configure the final URL"));
            return None;
        }
        if !status.is_success() {
            t.fail(name, format!("{url} answered {status}"));
            return None;
        }
        let content_type = resp
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(|v| v.chars().take(80).collect::<String>());
        let body = match resp.bytes().await {
            Ok(b) => b,
            Err(e) => {
                t.fail(
                    name,
                    format!("{url}: reading the answer failed: {}", chain(&e)),
                );
                return None;
            }
        };
        match serde_json::from_slice::<Value>(&body) {
            Ok(v @ Value::Object(_)) => {
                t.ok(
                    name,
                    format!("{url} ({} ms)", started.elapsed().as_millis()),
                );
                Some(v)
            }
            // The body itself is never echoed: an address that is not an IdP
            // (an internal service, an error page) must not leak through here.
            _ => {
                t.fail(
                    name,
                    format!(
                        "{url} did not answer a JSON object ({}, {} bytes)",
                        content_type.as_deref().unwrap_or("no Content-Type"),
                        body.len()
                    ),
                );
                None
            }
        }
    }
}
