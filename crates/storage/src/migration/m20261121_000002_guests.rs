//! Guests (issue 3): the guest columns of `users`, sign-in identities,
//! invitations, email one-time codes, the recipient block list, bulk import
//! jobs and rows, the directory audit log and the mail outbox.
//!
//! Portable DDL only: foreign keys cascade from the parent so a child row can
//! never outlive it, and every lookup the repositories make has an index.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use super::guest_idens::*;
use super::helpers::{cascade, index, index_on, table};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// SQLite adds one column per `ALTER TABLE`, so each column is its own statement.
fn user_columns() -> Vec<TableAlterStatement> {
    [
        text_null(Users::ExternalUserState),
        timestamp_with_time_zone_null(Users::ExternalUserStateChangedAt),
        timestamp_with_time_zone_null(Users::AccessExpiresAt),
        json_null(Users::Sponsor),
    ]
    .into_iter()
    .map(|mut c| {
        Table::alter()
            .table(Users::Table)
            .add_column(&mut c)
            .to_owned()
    })
    .collect()
}

fn tables() -> Vec<TableCreateStatement> {
    use UserIdentities as Ui;
    vec![
        table(Ui::Table)
            .col(uuid(Ui::Id).primary_key())
            .col(uuid(Ui::UserId))
            .col(text(Ui::SignInType))
            .col(text(Ui::Issuer))
            .col(text(Ui::IssuerAssignedId))
            .col(timestamp_with_time_zone(Ui::CreatedAt))
            .foreign_key(&mut cascade(
                "fk_user_identities_user",
                Ui::Table,
                Ui::UserId,
                Users::Table,
                Users::Id,
            ))
            .to_owned(),
        table(Invitations::Table)
            .col(uuid(Invitations::Id).primary_key())
            .col(uuid(Invitations::UserId))
            .col(text(Invitations::Email))
            .col(text_null(Invitations::DisplayName))
            .col(text(Invitations::RedirectUrl))
            .col(text_null(Invitations::Message))
            .col(text_null(Invitations::MessageLanguage))
            .col(json(Invitations::CcRecipients))
            .col(boolean(Invitations::SendMessage))
            .col(text(Invitations::UserType))
            .col(text(Invitations::State))
            .col(integer(Invitations::LinkGeneration))
            .col(timestamp_with_time_zone(Invitations::ExpiresAt))
            .col(json(Invitations::InvitedBy))
            .col(timestamp_with_time_zone(Invitations::CreatedAt))
            .col(timestamp_with_time_zone(Invitations::UpdatedAt))
            .col(timestamp_with_time_zone_null(Invitations::AcceptedAt))
            .col(timestamp_with_time_zone_null(Invitations::RevokedAt))
            .foreign_key(&mut cascade(
                "fk_invitations_user",
                Invitations::Table,
                Invitations::UserId,
                Users::Table,
                Users::Id,
            ))
            .to_owned(),
        table(OneTimeCodes::Table)
            .col(uuid(OneTimeCodes::Id).primary_key())
            .col(text(OneTimeCodes::Purpose))
            .col(text(OneTimeCodes::Subject))
            .col(text(OneTimeCodes::Email))
            .col(text(OneTimeCodes::CodeHash))
            .col(text(OneTimeCodes::BindingHash))
            .col(integer(OneTimeCodes::Attempts))
            .col(timestamp_with_time_zone(OneTimeCodes::CreatedAt))
            .col(timestamp_with_time_zone(OneTimeCodes::ExpiresAt))
            .col(timestamp_with_time_zone_null(OneTimeCodes::ConsumedAt))
            .to_owned(),
        table(BlockedRecipients::Table)
            .col(text(BlockedRecipients::Email).primary_key())
            .col(timestamp_with_time_zone(BlockedRecipients::CreatedAt))
            .to_owned(),
        table(ImportJobs::Table)
            .col(uuid(ImportJobs::Id).primary_key())
            .col(text(ImportJobs::FileName))
            .col(text(ImportJobs::FileSha256))
            .col(text(ImportJobs::Status))
            .col(json(ImportJobs::CreatedBy))
            .col(timestamp_with_time_zone(ImportJobs::CreatedAt))
            .col(timestamp_with_time_zone(ImportJobs::UpdatedAt))
            .col(timestamp_with_time_zone_null(ImportJobs::FinishedAt))
            .col(timestamp_with_time_zone_null(ImportJobs::LeaseUntil))
            .to_owned(),
        import_rows(),
        table(DirectoryAudits::Table)
            .col(uuid(DirectoryAudits::Id).primary_key())
            .col(timestamp_with_time_zone(DirectoryAudits::At))
            .col(json(DirectoryAudits::Actor))
            .col(text(DirectoryAudits::Activity))
            .col(text(DirectoryAudits::Category))
            .col(text(DirectoryAudits::TargetType))
            .col(text(DirectoryAudits::TargetId))
            .col(text(DirectoryAudits::TargetName))
            .col(json_null(DirectoryAudits::Before))
            .col(json_null(DirectoryAudits::After))
            .to_owned(),
        mail_outbox(),
    ]
}

/// Keyed by (job, row number): staging the same row twice is a no-op.
fn import_rows() -> TableCreateStatement {
    use ImportRows as R;
    table(R::Table)
        .col(uuid(R::JobId))
        .col(big_integer(R::RowNumber))
        .col(text(R::Email))
        .col(text(R::RedirectUrl))
        .col(boolean(R::SendEmail))
        .col(text_null(R::Message))
        .col(text_null(R::DisplayName))
        .col(text_null(R::Error))
        .col(text_null(R::Outcome))
        .col(text_null(R::OutcomeError))
        .col(uuid_null(R::InvitationId))
        .col(uuid_null(R::UserId))
        .col(timestamp_with_time_zone_null(R::ProcessedAt))
        .primary_key(Index::create().col(R::JobId).col(R::RowNumber))
        .foreign_key(&mut cascade(
            "fk_import_rows_job",
            R::Table,
            R::JobId,
            ImportJobs::Table,
            ImportJobs::Id,
        ))
        .to_owned()
}

fn mail_outbox() -> TableCreateStatement {
    use MailOutbox as M;
    table(M::Table)
        .col(uuid(M::Id).primary_key())
        .col(text(M::Kind))
        .col(text(M::ToAddr))
        .col(json(M::Cc))
        .col(text(M::Subject))
        .col(text(M::TextBody))
        .col(text(M::HtmlBody))
        .col(text(M::Status))
        .col(integer(M::Attempts))
        .col(timestamp_with_time_zone(M::NextAttemptAt))
        .col(timestamp_with_time_zone_null(M::LockedUntil))
        .col(text_null(M::LastError))
        .col(timestamp_with_time_zone(M::CreatedAt))
        .col(timestamp_with_time_zone_null(M::SentAt))
        .to_owned()
}

fn indexes() -> Vec<IndexCreateStatement> {
    use UserIdentities as Ui;
    vec![
        index_on(
            "uq_user_identities_issuer_id",
            Ui::Table,
            [Ui::Issuer, Ui::IssuerAssignedId],
        )
        .unique()
        .to_owned(),
        index("idx_user_identities_user_id", Ui::Table, Ui::UserId),
        index(
            "idx_invitations_user_id",
            Invitations::Table,
            Invitations::UserId,
        ),
        index(
            "idx_invitations_email",
            Invitations::Table,
            Invitations::Email,
        ),
        index_on(
            "idx_invitations_state_expires",
            Invitations::Table,
            [Invitations::State, Invitations::ExpiresAt],
        ),
        index_on(
            "idx_one_time_codes_email_created",
            OneTimeCodes::Table,
            [OneTimeCodes::Email, OneTimeCodes::CreatedAt],
        ),
        index(
            "idx_import_jobs_sha256",
            ImportJobs::Table,
            ImportJobs::FileSha256,
        ),
        // Pending rows are `outcome IS NULL` within a job, walked by row number.
        index_on(
            "idx_import_rows_pending",
            ImportRows::Table,
            [
                ImportRows::JobId,
                ImportRows::Outcome,
                ImportRows::RowNumber,
            ],
        ),
        index(
            "idx_directory_audits_target_id",
            DirectoryAudits::Table,
            DirectoryAudits::TargetId,
        ),
        index_on(
            "idx_mail_outbox_due",
            MailOutbox::Table,
            [MailOutbox::Status, MailOutbox::NextAttemptAt],
        ),
    ]
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    /// All or nothing, on SQLite too (its DDL is transactional).
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for a in user_columns() {
            m.alter_table(a).await?;
        }
        for t in tables() {
            m.create_table(t).await?;
        }
        for i in indexes() {
            m.create_index(i).await?;
        }
        Ok(())
    }
}
