//! Where the master key comes from, in this order:
//!
//! 1. `PORTICO_MASTER_KEY` (32 bytes as base64 or 64 hex digits);
//! 2. `PORTICO_MASTER_KEY_FILE` (or `master_key_file` in the config file),
//!    a file holding the key the same way;
//! 3. with SQLite only: `master.key` in the data folder, generated (mode
//!    0600) on first start with a warning to back it up.
//!
//! PostgreSQL without a key refuses to start: every node must share one key,
//! and a key generated on one node would differ from another's.
//! `PORTICO_MASTER_KEY_PREVIOUS` holds the keys a rotation replaced; they
//! only open values, and are no longer needed once `portico secrets reseal`
//! ran.

use crate::settings::Settings;
use anyhow::{Context, bail};
use portico_core::{Keyring, MasterKey};
use std::io::Write;
use std::path::Path;

/// The file the embedded (SQLite) default keeps its generated key in.
pub const MASTER_KEY_FILE: &str = "master.key";

/// The keyring `settings` describe; generates `master.key` for SQLite.
pub fn load_keyring(settings: &Settings) -> anyhow::Result<Keyring> {
    let current = match (&settings.master_key, &settings.master_key_file) {
        (Some(_), Some(_)) => {
            bail!("set PORTICO_MASTER_KEY or PORTICO_MASTER_KEY_FILE, not both")
        }
        (Some(k), None) => MasterKey::parse(&k.0).context("PORTICO_MASTER_KEY is invalid")?,
        (None, Some(path)) => read_key_file(path)?,
        (None, None) => embedded_default(settings)?,
    };
    let previous = match &settings.master_key_previous {
        None => vec![],
        Some(list) => list
            .0
            .split(',')
            .filter(|k| !k.trim().is_empty())
            .map(MasterKey::parse)
            .collect::<Result<Vec<_>, _>>()
            .context("PORTICO_MASTER_KEY_PREVIOUS is invalid")?,
    };
    Ok(Keyring::new(&current, &previous))
}

fn read_key_file(path: &Path) -> anyhow::Result<MasterKey> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the master key file {}", path.display()))?;
    MasterKey::parse(&text)
        .with_context(|| format!("the master key file {} is invalid", path.display()))
}

/// SQLite without a configured key: the data folder's `master.key`.
fn embedded_default(settings: &Settings) -> anyhow::Result<MasterKey> {
    let url = settings.effective_database_url()?;
    if !url.starts_with("sqlite:") {
        bail!(
            "PostgreSQL needs a master key that every node shares: set PORTICO_MASTER_KEY \
             (32 bytes, e.g. `openssl rand -base64 32`) or PORTICO_MASTER_KEY_FILE"
        );
    }
    let path = settings.data_dir.join(MASTER_KEY_FILE);
    if path.exists() {
        return read_key_file(&path);
    }
    let key = MasterKey::generate();
    write_new_key_file(&path, &key)?;
    tracing::warn!(
        path = %path.display(),
        "generated the master key that seals signing keys and upstream secrets in the \
         database: back it up, without it they cannot be opened"
    );
    Ok(key)
}

/// Writes `key` to a new file only its owner can read.
fn write_new_key_file(path: &Path, key: &MasterKey) -> anyhow::Result<()> {
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    let mut f = opts
        .open(path)
        .with_context(|| format!("cannot create the master key file {}", path.display()))?;
    writeln!(f, "{}", key.encode())
        .and_then(|_| f.sync_all())
        .with_context(|| format!("cannot write the master key file {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::SecretSetting;

    fn temp_dir() -> std::path::PathBuf {
        let d = std::env::temp_dir().join(format!("portico-mk-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn sqlite_default_generates_a_private_key_file_once() {
        let dir = temp_dir();
        let settings = Settings {
            data_dir: dir.clone(),
            ..Settings::default()
        };
        let first = load_keyring(&settings).unwrap();
        let path = dir.join(MASTER_KEY_FILE);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let second = load_keyring(&settings).unwrap();
        assert_eq!(first.current_kid(), second.current_kid());
        std::fs::remove_dir_all(dir).ok();
    }

    #[test]
    fn postgres_without_a_key_refuses_naming_the_variable() {
        let settings = Settings {
            database_url: Some("postgres://db/portico".into()),
            data_dir: temp_dir(),
            ..Settings::default()
        };
        let err = format!("{:#}", load_keyring(&settings).unwrap_err());
        assert!(err.contains("PORTICO_MASTER_KEY"), "{err}");
        assert!(!settings.data_dir.join(MASTER_KEY_FILE).exists());
    }

    #[test]
    fn a_malformed_key_is_refused_with_a_clear_message_and_never_printed() {
        let settings = Settings {
            master_key: Some(SecretSetting("c2hvcnQ=".into())),
            ..Settings::default()
        };
        let err = format!("{:#}", load_keyring(&settings).unwrap_err());
        assert!(err.contains("PORTICO_MASTER_KEY is invalid"), "{err}");
        assert!(err.contains("32 bytes"), "{err}");
        assert!(!err.contains("c2hvcnQ"), "{err}");
        assert!(!format!("{settings:?}").contains("c2hvcnQ"));
    }

    #[test]
    fn previous_keys_open_and_the_configured_key_seals() {
        let (old, new) = (MasterKey::generate(), MasterKey::generate());
        let settings = Settings {
            master_key: Some(SecretSetting(new.encode())),
            master_key_previous: Some(SecretSetting(format!("{}, ", old.encode()))),
            ..Settings::default()
        };
        let ring = load_keyring(&settings).unwrap();
        assert_eq!(ring.current_kid(), new.kid());
        let old_sealed = Keyring::new(&old, &[]).seal("c", b"v").unwrap();
        assert_eq!(ring.open("c", &old_sealed).unwrap(), b"v");
    }
}
