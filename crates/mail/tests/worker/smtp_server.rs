//! A real SMTP server for the tests: Python's aiosmtpd, storing what it gets
//! in a maildir. (The workspace kit has a fuller one in `tests/kit/smtp.rs`;
//! this crate cannot depend on the kit, so here is the small version.)

use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::TempDir;

const INSTALL_HINT: &str =
    "the mail tests need Python 3 with aiosmtpd: pip install aiosmtpd==1.4.6 (./test installs it)";

pub struct SmtpServer {
    port: u16,
    dir: TempDir,
    child: Option<Child>,
}

impl SmtpServer {
    /// Starts aiosmtpd on a free port and returns once it accepts connections.
    pub fn start() -> Self {
        let port = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .and_then(|l| l.local_addr())
            .expect("find a free port")
            .port();
        let dir = TempDir::new("smtp");
        // Maildir creates only the last path component, and only when missing.
        for sub in ["tmp", "new", "cur"] {
            std::fs::create_dir_all(dir.path().join("maildir").join(sub)).unwrap();
        }
        let mut server = Self {
            port,
            dir,
            child: None,
        };
        server.restart();
        server
    }

    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// Kills the server: connections are refused until [`restart`](Self::restart).
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts the server again, same port and maildir.
    pub fn restart(&mut self) {
        self.stop();
        let log_path = self.dir.path().join("aiosmtpd.log");
        let log = std::fs::File::create(&log_path).unwrap();
        let child = Command::new("python3")
            .args([
                "-m",
                "aiosmtpd",
                "-n",
                "-l",
                &format!("127.0.0.1:{}", self.port),
            ])
            .args(["-c", "aiosmtpd.handlers.Mailbox"])
            .arg(self.maildir())
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run python3 ({e}); {INSTALL_HINT}"));
        self.child = Some(child);
        self.wait_until_listening(&log_path);
    }

    /// Every message received so far, raw, oldest first.
    pub fn messages(&self) -> Vec<Vec<u8>> {
        let mut files: Vec<_> = ["new", "cur"]
            .iter()
            .flat_map(|sub| std::fs::read_dir(self.maildir().join(sub)).unwrap())
            .map(|entry| entry.unwrap())
            .map(|entry| (entry.metadata().unwrap().modified().unwrap(), entry.path()))
            .collect();
        files.sort();
        files
            .into_iter()
            .map(|(_, path)| std::fs::read(path).unwrap())
            .collect()
    }

    fn maildir(&self) -> PathBuf {
        self.dir.path().join("maildir")
    }

    /// Polls the port (an external process starting up, so polling is the
    /// only way) and fails fast if the process died, with its output.
    fn wait_until_listening(&mut self, log_path: &Path) {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            if TcpStream::connect((Ipv4Addr::LOCALHOST, self.port)).is_ok() {
                return;
            }
            let child = self.child.as_mut().unwrap();
            if let Some(status) = child.try_wait().unwrap() {
                let log = std::fs::read_to_string(log_path).unwrap_or_default();
                panic!("aiosmtpd exited ({status}): {log}\n{INSTALL_HINT}");
            }
            assert!(
                Instant::now() < deadline,
                "aiosmtpd did not listen on {} within 15 s",
                self.port
            );
            std::thread::sleep(Duration::from_millis(25));
        }
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        self.stop();
    }
}
