//! An application's back-channel logout endpoint (OpenID Back-Channel Logout
//! 1.0 §2.5): a real HTTP server on port 0 that keeps every `logout_token`
//! posted to it, by path, and answers with the status the test sets.

use axum::Router;
use axum::extract::{Form, OriginalUri, State};
use axum::http::StatusCode;
use axum::routing::post;
use std::collections::HashMap;
use std::net::Ipv4Addr;
use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::{Arc, Mutex};
use tokio::task::JoinHandle;

#[derive(Default)]
struct Shared {
    status: AtomicU16,
    /// (path, logout_token) in arrival order.
    received: Mutex<Vec<(String, String)>>,
}

pub struct LogoutReceiver {
    base: String,
    shared: Arc<Shared>,
    task: JoinHandle<()>,
}

async fn receive(
    State(s): State<Arc<Shared>>,
    OriginalUri(uri): OriginalUri,
    Form(form): Form<HashMap<String, String>>,
) -> StatusCode {
    let token = form.get("logout_token").cloned().unwrap_or_default();
    s.received
        .lock()
        .expect("lock")
        .push((uri.path().to_string(), token));
    StatusCode::from_u16(s.status.load(Ordering::SeqCst)).unwrap_or(StatusCode::OK)
}

impl LogoutReceiver {
    /// Starts it answering 200.
    pub async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .await
            .expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("addr"));
        let shared = Arc::new(Shared::default());
        shared.status.store(200, Ordering::SeqCst);
        let router = Router::new()
            .route("/{*path}", post(receive))
            .with_state(shared.clone());
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        Self { base, shared, task }
    }

    /// The URI to register for `path` (`/a` → `http://127.0.0.1:PORT/a`).
    pub fn uri(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// The status every later request is answered with.
    pub fn answer(&self, status: u16) {
        self.shared.status.store(status, Ordering::SeqCst);
    }

    /// Every (path, logout_token) received so far.
    pub fn received(&self) -> Vec<(String, String)> {
        self.shared.received.lock().expect("lock").clone()
    }
}

impl Drop for LogoutReceiver {
    fn drop(&mut self) {
        self.task.abort();
    }
}
