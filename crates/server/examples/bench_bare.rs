//! A bare axum handler: the ceiling `bench/run` measures static documents
//! against. One route answering fixed JSON bytes, no middleware, the same
//! runtime Portico uses (tokio multi-thread; pinned to one core by `taskset`,
//! it gets one worker). Usage: `bench_bare 127.0.0.1:PORT`.

use axum::Router;
use axum::http::header;
use axum::routing::get;

const BODY: &str = r#"{"issuer":"http://127.0.0.1","jwks_uri":"http://127.0.0.1/jwks"}"#;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:39090".into());
    let router = Router::new().route(
        "/",
        get(|| async { ([(header::CONTENT_TYPE, "application/json")], BODY) }),
    );
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    axum::serve(listener, router).await
}
