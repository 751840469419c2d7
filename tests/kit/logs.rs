//! Captures everything the process logs, at every level, while a test runs:
//! one global subscriber (installed on first use) writes to a buffer only
//! while a [`LogCapture`] is alive. Captures run one at a time; other tests
//! running meanwhile are captured too, which only adds lines.

use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use tracing_subscriber::Layer;
use tracing_subscriber::fmt::format::FmtSpan;
use tracing_subscriber::layer::SubscriberExt;

static CAPTURING: AtomicBool = AtomicBool::new(false);
static BUFFER: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

struct Sink(Arc<Mutex<Vec<u8>>>);

impl Write for Sink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn buffer() -> Arc<Mutex<Vec<u8>>> {
    BUFFER
        .get_or_init(|| {
            let buf = Arc::new(Mutex::new(Vec::new()));
            let sink = buf.clone();
            let layer = tracing_subscriber::fmt::layer()
                .with_ansi(false)
                .with_span_events(FmtSpan::NEW)
                .with_writer(move || Sink(sink.clone()))
                // Asked at every event and span, so it costs an atomic load
                // when no capture runs.
                .with_filter(tracing_subscriber::filter::filter_fn(|_| {
                    CAPTURING.load(Ordering::Relaxed)
                }));
            let subscriber = tracing_subscriber::registry().with(layer);
            tracing::subscriber::set_global_default(subscriber)
                .expect("no other global subscriber in the test binary");
            buf
        })
        .clone()
}

/// Everything logged (trace level included) from now until it is dropped.
pub struct LogCapture {
    buf: Arc<Mutex<Vec<u8>>>,
    _turn: MutexGuard<'static, ()>,
}

pub fn capture_logs() -> LogCapture {
    let turn = ONE_AT_A_TIME
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let buf = buffer();
    buf.lock().unwrap().clear();
    CAPTURING.store(true, Ordering::SeqCst);
    LogCapture { buf, _turn: turn }
}

impl LogCapture {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.buf.lock().unwrap()).into_owned()
    }
}

impl Drop for LogCapture {
    fn drop(&mut self) {
        CAPTURING.store(false, Ordering::SeqCst);
    }
}
