//! A PostgreSQL server of the test's own (initdb in a temp folder, its own
//! port), for fault tests that stop and restart the database: the shared
//! local server must stay up for every other test.
//!
//! Runs Debian's server binaries as the `postgres` user (initdb refuses
//! root). Fails, naming the fix, when they are missing.

use std::path::PathBuf;
use std::process::Command;

pub struct PrivatePostgres {
    dir: PathBuf,
    bin: PathBuf,
    pub port: u16,
}

fn server_bin() -> PathBuf {
    let root = std::path::Path::new("/usr/lib/postgresql");
    let version = std::fs::read_dir(root)
        .ok()
        .and_then(|d| d.filter_map(Result::ok).map(|e| e.path()).max())
        .unwrap_or_else(|| {
            panic!(
                "PostgreSQL's server binaries are not installed (/usr/lib/postgresql/*/bin): \
                 `apt-get install -y postgresql`, or ./test"
            )
        });
    version.join("bin")
}

fn as_postgres(bin: &std::path::Path, tool: &str, args: &[&str]) {
    let out = Command::new("runuser")
        .args(["-u", "postgres", "--"])
        .arg(bin.join(tool))
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {tool} as postgres (runuser): {e}"));
    assert!(
        out.status.success(),
        "{tool} {args:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

impl PrivatePostgres {
    /// initdb (trust auth, fsync off: a test's data) and start on a free port.
    pub fn start() -> Self {
        let bin = server_bin();
        let dir =
            std::env::temp_dir().join(format!("portico-pg-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let status = Command::new("chown")
            .args(["postgres:postgres"])
            .arg(&dir)
            .status()
            .expect("chown");
        assert!(
            status.success(),
            "cannot hand {} to the postgres user",
            dir.display()
        );
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let data = dir.join("data");
        as_postgres(
            &bin,
            "initdb",
            &[
                "-D",
                data.to_str().unwrap(),
                "-A",
                "trust",
                "-U",
                "postgres",
                "--no-sync",
            ],
        );
        let pg = PrivatePostgres { dir, bin, port };
        pg.restart_up();
        pg
    }

    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// Stops at once (`-m immediate`: like a crash; connections are cut).
    pub fn stop(&self) {
        let data = self.dir.join("data");
        as_postgres(
            &self.bin,
            "pg_ctl",
            &[
                "-D",
                data.to_str().unwrap(),
                "-m",
                "immediate",
                "-w",
                "stop",
            ],
        );
    }

    /// Starts (again) on the same port and data.
    pub fn restart_up(&self) {
        let data = self.dir.join("data");
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off",
            self.port,
            self.dir.display()
        );
        let log = self.dir.join("server.log");
        as_postgres(
            &self.bin,
            "pg_ctl",
            &[
                "-D",
                data.to_str().unwrap(),
                "-o",
                &options,
                "-l",
                log.to_str().unwrap(),
                "-w",
                "start",
            ],
        );
    }
}

impl Drop for PrivatePostgres {
    fn drop(&mut self) {
        let data = self.dir.join("data");
        let _ = Command::new("runuser")
            .args(["-u", "postgres", "--"])
            .arg(self.bin.join("pg_ctl"))
            .args([
                "-D",
                data.to_str().unwrap_or_default(),
                "-m",
                "immediate",
                "stop",
            ])
            .output();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
