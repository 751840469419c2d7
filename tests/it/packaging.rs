//! The container files, read as text (no Docker engine here): the image's
//! final stage runs as a non-root user that owns the data folder, and every
//! `PORTICO_*` variable docker-compose.yml sets is one Portico knows.

use portico::Settings;

fn repo_file(name: &str) -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn the_image_runs_as_a_non_root_user_that_owns_the_data_folder() {
    let dockerfile = repo_file("Dockerfile");
    let last_stage = dockerfile
        .rsplit_once("\nFROM ")
        .map(|(_, s)| s)
        .expect("a multi-stage Dockerfile");
    let user = last_stage
        .lines()
        .rev()
        .find_map(|l| l.trim().strip_prefix("USER "))
        .expect("the final stage sets USER");
    assert!(
        !matches!(user.trim(), "root" | "0" | "0:0" | "root:root"),
        "USER {user}"
    );
    assert!(last_stage.contains("useradd --system"), "{last_stage}");
    assert!(
        last_stage.contains(&format!("chown {user}:{user} /var/lib/portico")),
        "{last_stage}"
    );
    let user_at = last_stage.find("USER ").unwrap();
    let cmd_at = last_stage.find("CMD ").expect("CMD");
    assert!(user_at < cmd_at, "USER comes before the command");
}

#[test]
fn docker_compose_sets_only_settings_portico_knows() {
    let compose = repo_file("docker-compose.yml");
    // Every field of Settings, as the PORTICO_* name figment maps it from.
    let known: Vec<String> = serde_json::to_value(Settings::default())
        .unwrap()
        .as_object()
        .unwrap()
        .keys()
        .map(|k| format!("PORTICO_{}", k.to_ascii_uppercase()))
        .collect();
    let used: Vec<&str> = compose
        .lines()
        .map(|l| l.trim().trim_start_matches("- ").trim_matches('"'))
        .filter(|l| l.starts_with("PORTICO_"))
        .map(|l| l.split([':', '=']).next().unwrap().trim())
        .collect();
    assert!(
        !used.is_empty(),
        "docker-compose.yml sets PORTICO_* variables"
    );
    for name in used {
        // PORTICO_LOG and PORTICO_LOG_FORMAT are read by the binary itself.
        let ok =
            known.iter().any(|k| k == name) || matches!(name, "PORTICO_LOG" | "PORTICO_LOG_FORMAT");
        assert!(
            ok,
            "docker-compose.yml sets {name}, which Portico does not know"
        );
    }
}

/// crates/server/hot-code.txt, the order the linker gives the release binary's code
/// (crates/server/build.rs, bench/hot-code): symbol names only, each once, what a start
/// runs before what only the load runs.
#[test]
fn the_release_code_order_lists_symbols_start_first() {
    let list = repo_file("crates/server/hot-code.txt");
    let names: Vec<&str> = list.lines().collect();
    assert!(names.len() > 1000, "{} functions", names.len());
    let symbol = |n: &str| {
        n.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
            && n.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '$'))
    };
    for n in &names {
        assert!(symbol(n), "not a symbol name the linker knows: {n:?}");
    }
    let mut unique = names.clone();
    unique.sort_unstable();
    unique.dedup();
    assert_eq!(unique.len(), names.len(), "a name listed twice");
    let at = |part: &str| {
        names
            .iter()
            .position(|n| n.contains(part))
            .unwrap_or_else(|| panic!("no function with {part} listed"))
    };
    // Reading the settings is part of every start; the token endpoint only of the load.
    assert!(at("portico8settings8Settings4load") < at("portico_oidc5token"));
}

/// The release binary's relative relocations are packed (DT_RELR, build.rs), which glibc
/// reads from 2.36 on: the image's final stage is Debian 12 (bookworm) or later.
#[test]
fn the_image_has_the_glibc_the_release_binary_needs() {
    let dockerfile = repo_file("Dockerfile");
    let base = dockerfile
        .lines()
        .filter_map(|l| l.strip_prefix("FROM "))
        .next_back()
        .expect("a FROM line");
    assert!(
        ["debian:bookworm", "debian:trixie"]
            .iter()
            .any(|b| base.starts_with(b)),
        "final stage FROM {base}: the binary needs glibc 2.36 (DT_RELR)"
    );
    let build = repo_file("crates/server/build.rs");
    assert!(build.contains("pack-relative-relocs"));
}
