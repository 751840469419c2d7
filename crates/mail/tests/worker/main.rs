//! The mail worker against a real SMTP server (aiosmtpd) and a real outbox
//! directory, over an in-memory queue. Time only moves when a test advances
//! the clock; nothing here waits on a timer.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod outbox;
mod parse;
mod smtp;
mod smtp_server;
mod support;
