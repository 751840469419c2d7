//! Secrets at rest: the values Portico must read back are sealed under the
//! master key ([`portico_core::Keyring`], kept outside the database) as they
//! are written and opened as they are read, each bound to its row:
//!
//! | column                                | context                  |
//! |---------------------------------------|--------------------------|
//! | `signing_keys.private_pem`            | `signing-key:<kid>`      |
//! | `identity_providers.client_secret`    | `idp-secret:<id>`        |
//! | `server_secrets.value`                | `server-secret:<name>`   |
//!
//! A sealed value copied to another row does not open there. Rows written
//! in plain text before sealing existed are sealed by
//! [`Storage::seal_secrets_at_rest`] at start-up (a migration cannot: the key
//! is not in the database), and the same pass re-seals everything under the
//! current key after a master-key rotation (`portico secrets reseal`).

use crate::Storage;
use crate::entity::{identity_providers, server_secrets, signing_keys};
use anyhow::{Context, anyhow};
use portico_core::Keyring;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, DatabaseTransaction, EntityTrait, QueryFilter};

pub(crate) fn signing_key_context(kid: &str) -> String {
    format!("signing-key:{kid}")
}

pub(crate) fn idp_secret_context(id: uuid::Uuid) -> String {
    format!("idp-secret:{id}")
}

pub(crate) fn server_secret_context(name: &str) -> String {
    format!("server-secret:{name}")
}

/// What [`Storage::seal_secrets_at_rest`] changed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SealReport {
    /// Plain-text values now sealed.
    pub sealed: usize,
    /// Values sealed under a previous master key, now under the current one.
    pub resealed: usize,
    /// Values already sealed under the current key (opened to check the key).
    pub unchanged: usize,
}

/// Whether a pass only seals plain text or also moves old values to the current key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SealPass {
    /// Start-up: seal plain text, check that every sealed value opens.
    PlainTextOnly,
    /// After a rotation: additionally re-seal under the current master key.
    ResealAll,
}

impl Storage {
    fn keyring(&self) -> anyhow::Result<&Keyring> {
        self.keyring
            .as_deref()
            .context("no master key is configured for this storage")
    }

    /// Seals `plaintext` under the current master key, bound to `context`.
    pub(crate) fn seal(&self, context: &str, plaintext: &str) -> anyhow::Result<String> {
        self.keyring()?
            .seal(context, plaintext.as_bytes())
            .map_err(|e| anyhow!("cannot seal {context}: {e}"))
    }

    /// Opens a value [`Storage::seal`] made for `context`.
    pub(crate) fn open(&self, context: &str, sealed: &str) -> anyhow::Result<String> {
        self.keyring()?
            .open_text(context, sealed)
            .map_err(|e| anyhow!("cannot open {context}: {e}"))
    }

    /// One value of the pass: `Some(new)` when the row must be rewritten.
    fn pass_value(
        &self,
        pass: SealPass,
        context: &str,
        value: &str,
        report: &mut SealReport,
    ) -> anyhow::Result<Option<String>> {
        let ring = self.keyring()?;
        if !Keyring::is_sealed(value) {
            report.sealed += 1;
            return self.seal(context, value).map(Some);
        }
        let plain = ring.open_text(context, value).map_err(|e| {
            anyhow!(
                "{context} does not open with the configured master key ({e}); \
                 is PORTICO_MASTER_KEY the key this database was sealed with?"
            )
        })?;
        if pass == SealPass::ResealAll && !ring.is_current(value) {
            report.resealed += 1;
            return self.seal(context, &plain).map(Some);
        }
        report.unchanged += 1;
        Ok(None)
    }

    /// Seals every plain-text secret, checks that every sealed one opens with
    /// the configured master key and, for [`SealPass::ResealAll`], re-seals
    /// the ones under a previous key: all in one transaction, so a failure
    /// (a wrong key) changes nothing. Running it again changes nothing.
    pub async fn seal_secrets_at_rest(&self, pass: SealPass) -> anyhow::Result<SealReport> {
        let mut report = SealReport::default();
        let tx = self.write_tx().await?;
        self.pass_signing_keys(&tx, pass, &mut report).await?;
        self.pass_idp_secrets(&tx, pass, &mut report).await?;
        self.pass_server_secrets(&tx, pass, &mut report).await?;
        tx.commit().await?;
        self.caches.idps.clear();
        Ok(report)
    }

    async fn pass_signing_keys(
        &self,
        tx: &DatabaseTransaction,
        pass: SealPass,
        report: &mut SealReport,
    ) -> anyhow::Result<()> {
        for row in signing_keys::Entity::find().all(tx).await? {
            let ctx = signing_key_context(&row.kid);
            if let Some(v) = self.pass_value(pass, &ctx, &row.private_pem, report)? {
                signing_keys::Entity::update_many()
                    .col_expr(signing_keys::Column::PrivatePem, Expr::value(v))
                    .filter(signing_keys::Column::Kid.eq(row.kid.as_str()))
                    .exec(tx)
                    .await?;
            }
        }
        Ok(())
    }

    async fn pass_idp_secrets(
        &self,
        tx: &DatabaseTransaction,
        pass: SealPass,
        report: &mut SealReport,
    ) -> anyhow::Result<()> {
        let mut changed = false;
        for row in identity_providers::Entity::find().all(tx).await? {
            let ctx = idp_secret_context(row.id);
            if let Some(v) = self.pass_value(pass, &ctx, &row.client_secret, report)? {
                identity_providers::Entity::update_many()
                    .col_expr(identity_providers::Column::ClientSecret, Expr::value(v))
                    .filter(identity_providers::Column::Id.eq(row.id))
                    .exec(tx)
                    .await?;
                changed = true;
            }
        }
        // The nodes' copies of the IdP rows hold the sealed secret as it was.
        if changed {
            crate::cache::bump(tx, crate::cache::IDENTITY_PROVIDERS).await?;
        }
        Ok(())
    }

    async fn pass_server_secrets(
        &self,
        tx: &DatabaseTransaction,
        pass: SealPass,
        report: &mut SealReport,
    ) -> anyhow::Result<()> {
        for row in server_secrets::Entity::find().all(tx).await? {
            let ctx = server_secret_context(&row.name);
            if let Some(v) = self.pass_value(pass, &ctx, &row.value, report)? {
                server_secrets::Entity::update_many()
                    .col_expr(server_secrets::Column::Value, Expr::value(v))
                    .filter(server_secrets::Column::Name.eq(row.name.as_str()))
                    .exec(tx)
                    .await?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use portico_core::MasterKey;
    use portico_oidc::store::KeyStore;
    use sea_orm::ActiveValue::Set;

    async fn storage(key: &MasterKey) -> Storage {
        let s = Storage::connect("sqlite::memory:")
            .await
            .unwrap()
            .with_keyring(Keyring::new(key, &[]));
        s.migrate().await.unwrap();
        s
    }

    #[tokio::test]
    async fn plain_text_rows_are_sealed_at_start_once_and_a_wrong_key_changes_nothing() {
        let key = MasterKey::generate();
        let s = storage(&key).await;
        let now = chrono::DateTime::UNIX_EPOCH;
        // Rows as a database from before sealing holds them.
        server_secrets::Entity::insert(server_secrets::ActiveModel {
            name: Set("secret_hash_key".into()),
            value: Set("plain-pepper".into()),
        })
        .exec_without_returning(s.db())
        .await
        .unwrap();
        signing_keys::Entity::insert(signing_keys::ActiveModel {
            kid: Set("k1".into()),
            alg: Set("RS256".into()),
            private_pem: Set("-----BEGIN PRIVATE KEY-----x".into()),
            created_at: Set(now),
            activates_at: Set(now),
            expires_at: Set(None),
        })
        .exec_without_returning(s.db())
        .await
        .unwrap();

        let wrong = s
            .clone()
            .with_keyring(Keyring::new(&MasterKey::generate(), &[]));
        let first = s
            .seal_secrets_at_rest(SealPass::PlainTextOnly)
            .await
            .unwrap();
        assert_eq!((first.sealed, first.unchanged), (2, 0));
        let raw = server_secrets::Entity::find().all(s.db()).await.unwrap();
        assert!(raw[0].value.starts_with("v2.") && !raw[0].value.contains("plain-pepper"));
        let raw = signing_keys::Entity::find().all(s.db()).await.unwrap();
        assert!(!raw[0].private_pem.contains("PRIVATE KEY"));
        assert_eq!(
            s.server_secret("secret_hash_key", || unreachable!())
                .await
                .unwrap(),
            "plain-pepper"
        );
        assert_eq!(
            s.list_keys().await.unwrap()[0].private_pem,
            "-----BEGIN PRIVATE KEY-----x"
        );

        let again = s
            .seal_secrets_at_rest(SealPass::PlainTextOnly)
            .await
            .unwrap();
        assert_eq!((again.sealed, again.unchanged), (0, 2), "idempotent");
        let err = wrong
            .seal_secrets_at_rest(SealPass::PlainTextOnly)
            .await
            .unwrap_err();
        assert!(format!("{err:#}").contains("PORTICO_MASTER_KEY"), "{err:#}");
        let after = signing_keys::Entity::find().all(s.db()).await.unwrap();
        assert_eq!(after, raw, "a refused key rewrites nothing");
    }

    #[tokio::test]
    async fn a_sealed_value_moved_to_another_row_does_not_open() {
        let s = storage(&MasterKey::generate()).await;
        let sealed = s.seal(&signing_key_context("a"), "pem").unwrap();
        assert!(s.open(&signing_key_context("b"), &sealed).is_err());
        assert!(s.open(&server_secret_context("a"), &sealed).is_err());
        assert_eq!(s.open(&signing_key_context("a"), &sealed).unwrap(), "pem");
    }
}
