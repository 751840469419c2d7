//! Token endpoint and signing benchmarks: `cargo bench -p portico --bench token`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use axum::body::Body;
use axum::http::{Request, header};
use criterion::{Criterion, criterion_group, criterion_main};
use portico::commands::{self, AppAdd};
use portico::{App, Settings};
use portico_core::SystemClock;
use serde_json::{Map, json};
use std::sync::Arc;
use tower::ServiceExt;

fn setup(rt: &tokio::runtime::Runtime) -> (App, String) {
    let dir = std::env::temp_dir().join(format!("portico-bench-{}", uuid::Uuid::new_v4().simple()));
    let settings = Settings {
        data_dir: dir,
        ..Settings::default()
    };
    rt.block_on(async {
        let app = App::build(settings, Arc::new(SystemClock)).await.unwrap();
        let a = AppAdd {
            name: "bench".into(),
            redirect_uris: vec![],
            post_logout_redirect_uris: vec![],
            public: false,
            auth_method: None,
            grant_types: vec!["client_credentials".into()],
            no_pkce: false,
        };
        let v = commands::app_add(&app, a).await.unwrap();
        let basic = format!(
            "{}:{}",
            v["clientId"].as_str().unwrap(),
            v["clientSecret"].as_str().unwrap()
        );
        use base64::Engine;
        (
            app,
            format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(basic)
            ),
        )
    })
}

fn benches(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let (app, basic) = setup(&rt);
    let provider = app.provider.clone();
    c.bench_function("sign_id_token_rs256", |b| {
        b.iter(|| {
            rt.block_on(async {
                let mut m = Map::new();
                m.insert("iss".into(), json!("http://localhost:8080"));
                m.insert("sub".into(), json!("user"));
                m.insert("exp".into(), json!(4_000_000_000u64));
                provider
                    .sign_jwt(portico_oidc::keys::SigningAlg::Rs256, "JWT", m)
                    .await
                    .unwrap()
            })
        })
    });
    let router = app.service();
    c.bench_function("token_endpoint_client_credentials", |b| {
        b.iter(|| {
            rt.block_on(async {
                let req = Request::post("/token")
                    .header(header::AUTHORIZATION, &basic)
                    .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                    .body(Body::from("grant_type=client_credentials"))
                    .unwrap();
                let resp = router.clone().oneshot(req).await.unwrap();
                assert_eq!(resp.status(), 200);
            })
        })
    });
}

criterion_group!(token, benches);
criterion_main!(token);
