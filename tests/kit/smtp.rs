//! A real SMTP server for the integration tests: Python's aiosmtpd with its
//! `Mailbox` handler, which stores every message it accepts in a maildir.
//!
//! Portico's worker talks to it exactly as to a production relay (plain SMTP
//! on localhost), and a test reads back what a guest would receive. It is
//! a separate process, so a test can also stop it to simulate an outage and
//! restart it on the same port. Nothing here is Portico-specific.
//!
//! Needs `python3` with `pip install aiosmtpd==1.4.6` (`./test` installs it).

use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use mailparse::{MailAddr, MailHeaderMap, ParsedMail, addrparse_header, parse_mail};

const INSTALL_HINT: &str =
    "the SMTP tests need python3 with aiosmtpd: pip install aiosmtpd==1.4.6 (./test installs it)";

/// One message as the recipient sees it, decoded.
#[derive(Debug, Clone)]
pub struct ReceivedMail {
    /// Bare addresses from the `To` header.
    pub to: Vec<String>,
    /// Bare addresses from the `Cc` header.
    pub cc: Vec<String>,
    /// The whole `From` header, display name included.
    pub from: String,
    pub subject: String,
    pub message_id: String,
    /// The decoded `text/plain` part, lines ending in `\n`.
    pub text: String,
    /// The decoded `text/html` part, lines ending in `\n`.
    pub html: String,
    /// The message as stored, for anything not parsed above.
    pub raw: String,
}

impl ReceivedMail {
    fn parse(raw: &[u8]) -> Self {
        let mail = parse_mail(raw).expect("aiosmtpd stored a message mailparse cannot read");
        let text = |name: &str| mail.headers.get_first_value(name).unwrap_or_default();
        let addresses = |name: &str| match mail.headers.get_first_header(name) {
            Some(header) => addrparse_header(header)
                .unwrap_or_else(|e| panic!("bad {name} header: {e}"))
                .iter()
                .flat_map(|addr| match addr {
                    MailAddr::Single(one) => vec![one.addr.clone()],
                    MailAddr::Group(group) => group.addrs.iter().map(|a| a.addr.clone()).collect(),
                })
                .collect(),
            None => Vec::new(),
        };
        Self {
            to: addresses("To"),
            cc: addresses("Cc"),
            from: text("From"),
            subject: text("Subject"),
            message_id: text("Message-ID"),
            text: body_of(&mail, "text/plain"),
            html: body_of(&mail, "text/html"),
            raw: String::from_utf8_lossy(raw).into_owned(),
        }
    }
}

/// The first part of `mimetype`, decoded, or "" if there is none.
fn body_of(mail: &ParsedMail, mimetype: &str) -> String {
    if mail.ctype.mimetype == mimetype {
        return mail
            .get_body()
            .expect("undecodable part")
            .replace("\r\n", "\n");
    }
    mail.subparts
        .iter()
        .map(|part| body_of(part, mimetype))
        .find(|body| !body.is_empty())
        .unwrap_or_default()
}

/// aiosmtpd on a free localhost port; killed when dropped.
pub struct SmtpServer {
    port: u16,
    dir: PathBuf,
    child: Option<Child>,
}

impl SmtpServer {
    /// Starts the server and returns once it accepts connections.
    pub fn start() -> Self {
        let port = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .and_then(|listener| listener.local_addr())
            .expect("find a free port")
            .port();
        let dir =
            std::env::temp_dir().join(format!("portico-smtp-{}", uuid::Uuid::new_v4().simple()));
        // Python's Maildir creates only the last path component, and only if
        // it is missing; making all three folders here keeps `messages()`
        // working before the first message too.
        for sub in ["tmp", "new", "cur"] {
            std::fs::create_dir_all(dir.join("maildir").join(sub)).expect("create the maildir");
        }
        let mut server = Self {
            port,
            dir,
            child: None,
        };
        server.restart();
        server
    }

    /// What to give Portico as its SMTP URL.
    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// Kills the server: the port refuses connections until [`restart`](Self::restart).
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts the server again on the same port and maildir (a no-op stop
    /// first if it is running). Messages received before are kept.
    pub fn restart(&mut self) {
        self.stop();
        let log_path = self.dir.join("aiosmtpd.log");
        let log = std::fs::File::create(&log_path).expect("create the aiosmtpd log");
        let child = Command::new("python3")
            .args([
                "-m",
                "aiosmtpd",
                "-n",
                "-l",
                &format!("127.0.0.1:{}", self.port),
            ])
            .args(["-c", "aiosmtpd.handlers.Mailbox"])
            .arg(self.dir.join("maildir"))
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("clone the log handle"))
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run python3 ({e}); {INSTALL_HINT}"));
        self.child = Some(child);
        self.wait_until_listening(&log_path);
    }

    /// Every message received so far, oldest first.
    pub fn messages(&self) -> Vec<ReceivedMail> {
        let maildir = self.dir.join("maildir");
        let mut files: Vec<_> = ["new", "cur"]
            .iter()
            .flat_map(|sub| std::fs::read_dir(maildir.join(sub)).expect("read the maildir"))
            .map(|entry| entry.expect("read a maildir entry").path())
            .map(|path| {
                (
                    std::fs::metadata(&path)
                        .and_then(|m| m.modified())
                        .expect("mtime"),
                    path,
                )
            })
            .collect();
        files.sort();
        files
            .into_iter()
            .map(|(_, path)| ReceivedMail::parse(&std::fs::read(path).expect("read a message")))
            .collect()
    }

    /// Waits for a message matching `predicate` (Portico sends from a
    /// background worker, so arrival is an event in another process: polling
    /// is the only way to see it). Panics after `timeout`, listing what came.
    pub async fn wait_for(
        &self,
        predicate: impl Fn(&ReceivedMail) -> bool,
        timeout: Duration,
    ) -> ReceivedMail {
        let deadline = Instant::now() + timeout;
        loop {
            let messages = self.messages();
            if let Some(found) = messages.iter().find(|m| predicate(m)) {
                return found.clone();
            }
            if Instant::now() >= deadline {
                let arrived: Vec<String> = messages
                    .iter()
                    .map(|m| format!("to {:?}: {:?}", m.to, m.subject))
                    .collect();
                panic!("no matching mail within {timeout:?}; arrived: {arrived:#?}");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Polls the port (the process needs a moment to start) and fails fast,
    /// with its output, if the process died instead.
    fn wait_until_listening(&mut self, log_path: &Path) {
        let deadline = Instant::now() + Duration::from_secs(15);
        while TcpStream::connect((Ipv4Addr::LOCALHOST, self.port)).is_err() {
            let child = self.child.as_mut().expect("started above");
            if let Some(status) = child.try_wait().expect("poll aiosmtpd") {
                let log = std::fs::read_to_string(log_path).unwrap_or_default();
                panic!("aiosmtpd exited ({status}):\n{log}\n{INSTALL_HINT}");
            }
            assert!(
                Instant::now() < deadline,
                "aiosmtpd did not listen on port {} within 15 s",
                self.port
            );
            std::thread::sleep(Duration::from_millis(25));
        }
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        self.stop();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
