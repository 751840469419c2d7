//! The admin API's OpenAPI 3.1 document, generated from the code: each
//! handler's `#[utoipa::path]` (method, path, parameters, body, answers and
//! the Graph permissions it needs, as the `x-permissions` extension) is
//! collected by [`super::routes`], which also builds the axum routes from the
//! same attributes, so a route cannot exist without its operation. The
//! document is served at `GET /api/v1/openapi.json` (anonymous), turned into
//! JSON at its first request and kept: a start builds the routes (and with
//! them utoipa's document, dropped at once) but not the JSON tree, which was
//! 1.3 MB of an idle server's heap (bench/run, issue 11).
//!
//! `x-permissions` lists the permissions of which the caller's token needs
//! any one; a condition that needs more (an administrator's account, a
//! redemption reset) is said in the operation's description.

use super::{ErrorBody, ErrorDetail};
use crate::app::App;
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use bytes::Bytes;
use std::sync::{Arc, OnceLock};
use utoipa::Modify;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::openapi::server::Server;
use utoipa::{OpenApi, ToSchema};

/// Where the document is served.
pub const PATH: &str = "/api/v1/openapi.json";

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Portico admin API",
        description = "Portico's admin API, in Microsoft Graph's shapes where Graph has one. \
            Every call takes a bearer access token issued by Portico (client credentials of a \
            management application, or the admin portal's token); each operation's \
            `x-permissions` names the Graph permissions of which the token needs one. \
            Errors are `{\"error\": {\"code\", \"message\"}}`.",
        license(name = "Apache-2.0", identifier = "Apache-2.0")
    ),
    paths(openapi_json),
    components(schemas(ErrorBody, ErrorDetail, DatabaseUnavailable)),
    modifiers(&BearerScheme),
    security(("bearer" = [])),
    tags(
        (name = "applications", description = "OIDC clients, their owners and who may use them"),
        (name = "users", description = "Members and guests"),
        (name = "invitations", description = "Guest invitations (Graph's invitation)"),
        (name = "groups", description = "Security groups, members and owners"),
        (name = "identityProviders", description = "Trusted home IdPs of guests"),
        (name = "authenticationMethods", description = "Users' second factors"),
        (name = "policies", description = "Authentication and external collaboration settings"),
        (name = "conditionalAccess", description = "Conditional access policies and named locations"),
        (name = "auditLogs", description = "Directory audits and the sign-in log"),
        (name = "signingKeys", description = "Token signing keys"),
        (name = "document", description = "This document"),
    )
)]
pub struct ApiDoc;

/// The 503 any call gets at once while the database is unreachable
/// (`db_guard`), OAuth-style like the other machine endpoints', with
/// `Retry-After`.
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct DatabaseUnavailable {
    /// `temporarily_unavailable`.
    error: String,
    error_description: String,
}

struct BearerScheme;

impl Modify for BearerScheme {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
        );
    }
}

/// This document. Anonymous: it tells nothing a token would protect.
#[utoipa::path(
    get,
    path = "/api/v1/openapi.json",
    tag = "document",
    operation_id = "openapi_json",
    security(()),
    responses((status = 200, description = "The OpenAPI 3.1 document", content_type = "application/json", body = Object)),
)]
async fn openapi_json(State(document): State<Document>) -> Response {
    let bytes = document
        .bytes
        .get_or_init(|| {
            let doc = super::routes().into_openapi();
            Bytes::from(finish(doc, &document.issuer).to_string())
        })
        .clone();
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        bytes,
    )
        .into_response()
}

/// The document as served: the issuer as its server, and on every admin
/// operation the answers any call may get from the layers around the
/// handlers: 500 (a generic `ErrorBody`) and 503 (the database guard's
/// body, or a busy directory's `ErrorBody`).
fn finish(mut doc: utoipa::openapi::OpenApi, issuer: &str) -> serde_json::Value {
    doc.servers = Some(vec![Server::new(issuer)]);
    let mut doc = serde_json::to_value(&doc).unwrap_or_else(|e| {
        tracing::error!(error = %e, "the OpenAPI document did not serialize");
        serde_json::Value::Null
    });
    let error = serde_json::json!({"$ref": "#/components/schemas/ErrorBody"});
    let internal = serde_json::json!({
        "description": "An unexpected failure (logged; the body says nothing more)",
        "content": {"application/json": {"schema": error}},
    });
    let unavailable = serde_json::json!({
        "description": "The database is unreachable (retry after `Retry-After`), or the server is busy",
        "headers": {"Retry-After": {"schema": {"type": "string"}, "description": "Seconds to wait"}},
        "content": {"application/json": {"schema": {"oneOf": [
            {"$ref": "#/components/schemas/DatabaseUnavailable"},
            error,
        ]}}},
    });
    if let Some(paths) = doc["paths"].as_object_mut() {
        for (path, item) in paths.iter_mut() {
            if path == PATH {
                continue;
            }
            for op in item
                .as_object_mut()
                .into_iter()
                .flat_map(|i| i.values_mut())
            {
                if let Some(responses) = op["responses"].as_object_mut() {
                    responses.insert("500".into(), internal.clone());
                    responses.insert("503".into(), unavailable.clone());
                }
            }
        }
    }
    doc
}

/// The serialized document, built at its first request.
#[derive(Clone)]
struct Document {
    issuer: Arc<str>,
    bytes: Arc<OnceLock<Bytes>>,
}

/// The admin API's router: the documented routes and the document, with the
/// issuer as its server.
pub fn router(app: App) -> Router {
    let router = super::served_routes();
    let document = Document {
        issuer: app.settings.issuer.as_str().into(),
        bytes: Arc::default(),
    };
    router
        .route(PATH, get(openapi_json).with_state(document))
        .with_state(app)
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    /// Every admin operation is guarded by a bearer token and names the
    /// permissions it needs; only the document itself is anonymous.
    #[test]
    fn every_operation_names_its_permissions_and_answers_401() {
        let doc = super::finish(super::super::routes().into_openapi(), "https://id.example");
        if let Ok(out) = std::env::var("PORTICO_OPENAPI_DUMP") {
            std::fs::write(out, doc.to_string()).expect("dump");
        }
        let mut count = 0;
        for (path, item) in doc["paths"].as_object().expect("paths") {
            for (method, op) in item.as_object().expect("path item") {
                if path == super::PATH {
                    assert_eq!(op["security"], serde_json::json!([{}]), "anonymous");
                    continue;
                }
                count += 1;
                let perms = op["x-permissions"].as_array();
                assert!(
                    perms.is_some_and(|p| !p.is_empty()),
                    "{method} {path} names no permission"
                );
                assert!(
                    ["401", "403", "500", "503"]
                        .iter()
                        .all(|s| op["responses"][s].is_object()),
                    "{method} {path} documents no 401/403/500/503"
                );
            }
        }
        assert!(count > 50, "only {count} operations");
        let mut refs = Vec::new();
        collect_refs(&doc, &mut refs);
        for r in refs {
            assert!(
                doc.pointer(r.trim_start_matches('#')).is_some(),
                "{r} names no schema"
            );
        }
    }

    fn collect_refs(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::Object(m) => {
                if let Some(Value::String(r)) = m.get("$ref") {
                    out.push(r.clone());
                }
                m.values().for_each(|x| collect_refs(x, out));
            }
            Value::Array(a) => a.iter().for_each(|x| collect_refs(x, out)),
            _ => {}
        }
    }
}
