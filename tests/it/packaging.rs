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
