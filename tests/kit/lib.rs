//! The integration-test kit: real Portico servers on port 0, on SQLite or on
//! the local PostgreSQL (a fresh database each), a manual clock, and HTTP
//! helpers named after the protocol.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod browser;
pub mod hostile;
mod logout_receiver;
mod logs;
pub mod mmdb;
pub mod private_pg;
mod server;
mod sign_ins;
pub mod smtp;
pub mod upstream;
mod webauthn;

pub use browser::{Browser, Hop, find_hidden, form_action, pkce_pair};
pub use logout_receiver::LogoutReceiver;
pub use logs::{LogCapture, capture_logs};
pub use server::{
    ADMIN_EMAIL, ADMIN_PASSWORD, Backend, TestApp, TestClient, spawn, spawn_app,
    spawn_app_on_localhost, spawn_app_with_mail, spawn_as,
};
pub use sign_ins::sign_in_record;
pub use smtp::{ReceivedMail, SmtpServer};
pub use upstream::{NodeOidcProvider, UpstreamAccount, UpstreamClient, sign_in_at_upstream};
pub use webauthn::SoftPasskey;

/// Runs one async test body against SQLite and against PostgreSQL.
#[macro_export]
macro_rules! both_backends {
    ($name:ident, $body:path) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                $body($crate::Backend::Sqlite).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                $body($crate::Backend::Postgres).await
            }
        }
    };
}
