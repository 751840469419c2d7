//! `portico idp add|list|test`: the trusted identity providers guests sign in
//! with, from the command line.
//!
//! The client secret is never an argument: `add` reads it from an
//! environment variable (`--client-secret-env VAR`) or a file
//! (`--client-secret-file PATH`), so it stays out of shell history and `ps`,
//! and no output prints it. Adding an IdP does not contact it; `test` does
//! (discovery and JWKS, each step printed with ✓ or ✗) and fails when any
//! step failed. Input Portico refuses is a [`BadInput`] (exit code 2).

use crate::api::identity_provider_json;
use crate::app::App;
use portico_federation::{FederationError, IdentityProvider, IdpInput, MfaTrustInput, TestReport};
use serde_json::Value;
use std::path::PathBuf;

/// Input the command cannot accept as given; `main` exits with code 2.
#[derive(Debug)]
pub struct BadInput(pub String);

impl std::fmt::Display for BadInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for BadInput {}

fn bad(message: impl Into<String>) -> anyhow::Error {
    BadInput(message.into()).into()
}

/// The option that sets each field the federation crate names in its errors.
fn flag_of(field: &str) -> Option<&'static str> {
    Some(match field {
        "displayName" => "--name",
        "issuer" => "--issuer",
        "clientId" => "--client-id",
        "clientSecret" => "--client-secret-env/--client-secret-file",
        "domains" => "--domain",
        "scopes" => "--scope",
        "mfaTrust.amrValues" => "--mfa-trust-amr",
        "mfaTrust.acrValues" => "--mfa-trust-acr",
        "mfaTrust.maxAgeMinutes" => "--mfa-trust-max-age",
        _ => return None,
    })
}

/// Refused input is a [`BadInput`] naming the option, and so is a domain
/// or issuer another IdP has already; anything else is a failure.
fn refused(e: FederationError) -> anyhow::Error {
    match e {
        FederationError::Invalid(m) | FederationError::Conflict(m) => {
            match m
                .split_once(": ")
                .and_then(|(f, why)| Some((flag_of(f)?, why)))
            {
                Some((flag, why)) => bad(format!("{flag}: {why}")),
                None => bad(m),
            }
        }
        FederationError::NotFound => bad("no identity provider with this id"),
        other => anyhow::anyhow!("{other}"),
    }
}

pub struct IdpAdd {
    pub name: String,
    pub issuer: String,
    pub client_id: String,
    pub client_secret_env: Option<String>,
    pub client_secret_file: Option<PathBuf>,
    pub domains: Vec<String>,
    pub scopes: Vec<String>,
    pub disabled: bool,
    pub mfa_trust_amr: Vec<String>,
    pub mfa_trust_acr: Vec<String>,
    pub mfa_trust_max_age: Option<i64>,
}

/// The freshness `--mfa-trust-max-age` defaults to.
const DEFAULT_TRUST_MINUTES: i64 = 10;

/// The secret from the named variable or file (a trailing newline, which
/// `echo` and editors add, is not part of it).
fn read_secret(env: Option<&str>, file: Option<&PathBuf>) -> anyhow::Result<String> {
    let secret = match (env, file) {
        (Some(var), _) => std::env::var(var).map_err(|e| match e {
            std::env::VarError::NotPresent => bad(format!(
                "--client-secret-env: the environment variable {var} is not set"
            )),
            std::env::VarError::NotUnicode(_) => {
                bad(format!("--client-secret-env: {var} is not valid UTF-8"))
            }
        })?,
        (None, Some(path)) => std::fs::read_to_string(path).map_err(|e| {
            bad(format!(
                "--client-secret-file: cannot read {}: {e}",
                path.display()
            ))
        })?,
        (None, None) => {
            return Err(bad(
                "the client secret is required: --client-secret-env VAR or --client-secret-file PATH",
            ));
        }
    };
    let secret = secret.trim_end_matches(['\r', '\n']).to_string();
    if secret.trim().is_empty() {
        let from = if env.is_some() {
            "--client-secret-env"
        } else {
            "--client-secret-file"
        };
        return Err(bad(format!("{from}: the client secret is empty")));
    }
    Ok(secret)
}

/// `--domain a.example,b.example --domain c.example` → three domains.
fn split_list(values: Vec<String>) -> Vec<String> {
    values
        .iter()
        .flat_map(|v| v.split([',', ' ', '\t']))
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

/// Creates the IdP (without contacting it) and returns its JSON view.
pub async fn add(app: &App, a: IdpAdd) -> anyhow::Result<Value> {
    let secret = read_secret(
        a.client_secret_env.as_deref(),
        a.client_secret_file.as_ref(),
    )?;
    let scopes = split_list(a.scopes);
    let (amr, acr) = (split_list(a.mfa_trust_amr), split_list(a.mfa_trust_acr));
    let mfa_trust = match (amr.is_empty() && acr.is_empty(), a.mfa_trust_max_age) {
        (true, None) => None,
        (_, max_age) => Some(MfaTrustInput {
            amr_values: Some(amr),
            acr_values: Some(acr),
            max_age_minutes: Some(max_age.unwrap_or(DEFAULT_TRUST_MINUTES)),
        }),
    };
    let input = IdpInput {
        display_name: Some(a.name),
        kind: None,
        issuer: Some(a.issuer),
        client_id: Some(a.client_id),
        client_secret: Some(secret),
        scopes: (!scopes.is_empty()).then_some(scopes),
        domains: Some(split_list(a.domains)),
        claims_mapping: None,
        enabled: Some(!a.disabled),
        mfa_trust,
    };
    let actor = portico_directory::Actor::system("portico idp add");
    let idp = app
        .federation
        .create(input, &actor)
        .await
        .map_err(refused)?;
    Ok(identity_provider_json(&idp, &app.federation.redirect_uri()))
}

/// Every IdP as a JSON array (`--json`).
pub async fn list_json(app: &App) -> anyhow::Result<Value> {
    let redirect = app.federation.redirect_uri();
    let list = app.federation.list().await.map_err(refused)?;
    Ok(Value::Array(
        list.iter()
            .map(|i| identity_provider_json(i, &redirect))
            .collect(),
    ))
}

/// Every IdP as an aligned table, and the redirect URI to register.
pub async fn list_table(app: &App) -> anyhow::Result<String> {
    let list = app.federation.list().await.map_err(refused)?;
    let mut out = format!(
        "Redirect URI to register at each IdP: {}\n",
        app.federation.redirect_uri()
    );
    if list.is_empty() {
        out.push_str("No identity providers yet: add one with `portico idp add`.");
        return Ok(out);
    }
    let mut rows = vec![[
        "ID".to_string(),
        "NAME".into(),
        "ENABLED".into(),
        "ISSUER".into(),
        "DOMAINS".into(),
    ]];
    rows.extend(list.iter().map(|i| {
        [
            i.id.to_string(),
            i.display_name.clone(),
            if i.enabled { "yes" } else { "no" }.into(),
            i.issuer.clone(),
            i.domains.join(","),
        ]
    }));
    out.push_str(&table(&rows));
    Ok(out)
}

/// Columns padded to their widest cell (the last one is not padded).
fn table(rows: &[[String; 5]]) -> String {
    let mut widths = [0usize; 5];
    for r in rows {
        for (w, c) in widths.iter_mut().zip(r) {
            *w = (*w).max(c.chars().count());
        }
    }
    let lines: Vec<String> = rows
        .iter()
        .map(|r| {
            let mut line = String::new();
            for (i, c) in r.iter().enumerate() {
                if i + 1 == r.len() {
                    line.push_str(c);
                } else {
                    let pad = widths[i] - c.chars().count();
                    line.push_str(c);
                    line.push_str(&" ".repeat(pad + 2));
                }
            }
            line.trim_end().to_string()
        })
        .collect();
    lines.join("\n")
}

/// The IdP an argument names: its id, or its issuer exactly as configured
/// (a trailing `/` is forgiven when only one IdP could be meant).
async fn find(app: &App, which: &str) -> anyhow::Result<IdentityProvider> {
    let which = which.trim();
    if let Ok(id) = uuid::Uuid::parse_str(which) {
        return app.federation.get(id).await.map_err(|e| match e {
            FederationError::NotFound => bad(format!("no identity provider has the id {id}")),
            other => refused(other),
        });
    }
    let list = app.federation.list().await.map_err(refused)?;
    if let Some(i) = list.iter().find(|i| i.issuer == which) {
        return Ok(i.clone());
    }
    let loose: Vec<&IdentityProvider> = list
        .iter()
        .filter(|i| i.issuer.trim_end_matches('/') == which.trim_end_matches('/'))
        .collect();
    match loose.as_slice() {
        [one] => Ok((*one).clone()),
        _ => Err(bad(format!(
            "no identity provider has the id or issuer {which:?} (see `portico idp list`)"
        ))),
    }
}

/// The trace as printed: a heading, then one line per step.
pub fn render_report(idp: &IdentityProvider, report: &TestReport) -> String {
    let mut out = format!("Testing {} ({})\n", idp.display_name, idp.issuer);
    for s in &report.steps {
        let mark = if s.ok { '✓' } else { '✗' };
        out.push_str(&format!("{mark} {}: {}\n", s.name, s.detail));
    }
    let failed = report.steps.iter().filter(|s| !s.ok).count();
    if report.ok {
        out.push_str("The connection works.");
    } else {
        out.push_str(&format!("{failed} of {} steps failed.", report.steps.len()));
    }
    out
}

/// Runs the connection test of the IdP `which` names.
pub async fn test(app: &App, which: &str) -> anyhow::Result<(IdentityProvider, TestReport)> {
    let idp = find(app, which).await?;
    let report = app.federation.test_connection(&idp).await;
    Ok((idp, report))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_split_on_commas_and_spaces() {
        let got = split_list(vec!["a.example, b.example".into(), "c.example".into()]);
        assert_eq!(got, ["a.example", "b.example", "c.example"]);
    }

    #[test]
    fn refusals_name_the_option() {
        let e = refused(FederationError::Invalid("clientId: is required".into()));
        assert!(e.downcast_ref::<BadInput>().is_some());
        assert_eq!(e.to_string(), "--client-id: is required");
        let e = refused(FederationError::Invalid("claimsMapping.email: x".into()));
        assert_eq!(e.to_string(), "claimsMapping.email: x");
    }

    #[test]
    fn tables_align_their_columns() {
        let rows = [
            ["ID", "NAME", "ENABLED", "ISSUER", "DOMAINS"].map(String::from),
            ["1", "Fabrikam", "yes", "https://f.example", "f.example"].map(String::from),
        ];
        assert_eq!(
            table(&rows),
            "ID  NAME      ENABLED  ISSUER             DOMAINS\n\
             1   Fabrikam  yes      https://f.example  f.example"
        );
    }
}
