//! ARCHITECTURE.md's invariants, checked on the manifests and sources.

use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

fn crates_depending_on(dep: &str) -> Vec<String> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(root().join("crates")).unwrap() {
        let dir = entry.unwrap().path();
        let manifest = std::fs::read_to_string(dir.join("Cargo.toml")).unwrap();
        let deps = manifest
            .split("[dependencies]")
            .nth(1)
            .unwrap_or_default()
            .split("\n[")
            .next()
            .unwrap_or_default();
        if deps.lines().any(|l| {
            l.trim_start().starts_with(&format!("{dep}."))
                || l.trim_start().starts_with(&format!("{dep} "))
        }) {
            out.push(dir.file_name().unwrap().to_string_lossy().into_owned());
        }
    }
    out.sort();
    out
}

fn sources_containing(needle: &str) -> Vec<String> {
    fn walk(dir: &Path, needle: &str, out: &mut Vec<String>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(&p, needle, out);
            } else if p.extension().is_some_and(|x| x == "rs")
                && std::fs::read_to_string(&p).unwrap().contains(needle)
            {
                out.push(
                    p.strip_prefix(root())
                        .unwrap()
                        .to_string_lossy()
                        .into_owned(),
                );
            }
        }
    }
    let mut out = Vec::new();
    walk(&root().join("crates"), needle, &mut out);
    out
}

#[test]
fn only_storage_imports_sea_orm_and_only_ui_imports_askama() {
    assert_eq!(crates_depending_on("sea-orm"), ["storage"]);
    // `server` only for `portico demo`'s sample app (server/src/demo).
    assert_eq!(crates_depending_on("askama"), ["server", "ui"]);
    assert_eq!(crates_depending_on("figment"), ["server"]);
}

#[test]
fn only_the_server_reads_the_environment() {
    let readers: Vec<String> = sources_containing("env::var")
        .into_iter()
        .filter(|p| !p.contains("/tests/"))
        .collect();
    assert!(
        readers.iter().all(|p| p.starts_with("crates/server/")),
        "{readers:?}"
    );
}

#[test]
fn the_authorization_server_does_not_depend_on_other_feature_crates() {
    let manifest = std::fs::read_to_string(root().join("crates/oidc/Cargo.toml")).unwrap();
    for other in [
        "portico-directory",
        "portico-ui",
        "portico-storage",
        "portico-federation",
    ] {
        assert!(!manifest.contains(other), "oidc must not depend on {other}");
    }
}

#[test]
fn the_rsa_crate_is_never_a_direct_dependency() {
    assert_eq!(
        crates_depending_on("rsa"),
        Vec::<String>::new(),
        "sign with josekit (OpenSSL), never the rsa crate"
    );
}

/// One door: a session is created only by finishing an interaction inside
/// `oidc` (`start_session` is private to it, and only the interaction's
/// answer calls it); no other crate writes a session, and the former doors
/// (redemption, the portal's own sign-in form) are gone.
#[test]
fn only_the_interaction_creates_sessions() {
    let callers: Vec<String> = sources_containing("start_session(")
        .into_iter()
        .filter(|p| !p.ends_with("crates/oidc/src/sessions.rs"))
        .collect();
    assert_eq!(callers, ["crates/oidc/src/authorize/mod.rs"]);
    let writers: Vec<String> = sources_containing(".create_session(")
        .into_iter()
        .filter(|p| !p.contains("/tests/"))
        .collect();
    assert_eq!(writers, ["crates/oidc/src/sessions.rs"]);
    let sessions = std::fs::read_to_string(root().join("crates/oidc/src/sessions.rs")).unwrap();
    assert!(sessions.contains("pub(crate) async fn start_session("));
    assert!(
        sources_containing("signin_post").is_empty(),
        "the portal's password form"
    );
}
