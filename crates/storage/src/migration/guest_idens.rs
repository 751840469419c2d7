//! Table and column names added by `m20261121_000002_guests`.

use sea_orm_migration::prelude::*;

/// The columns guests add to `users`.
#[derive(DeriveIden)]
pub(super) enum Users {
    Table,
    Id,
    ExternalUserState,
    ExternalUserStateChangedAt,
    AccessExpiresAt,
    Sponsor,
}

#[derive(DeriveIden)]
pub(super) enum UserIdentities {
    Table,
    Id,
    UserId,
    SignInType,
    Issuer,
    IssuerAssignedId,
    CreatedAt,
}

#[derive(DeriveIden)]
pub(super) enum Invitations {
    Table,
    Id,
    UserId,
    Email,
    DisplayName,
    RedirectUrl,
    Message,
    MessageLanguage,
    CcRecipients,
    SendMessage,
    UserType,
    State,
    LinkGeneration,
    ExpiresAt,
    InvitedBy,
    CreatedAt,
    UpdatedAt,
    AcceptedAt,
    RevokedAt,
}

#[derive(DeriveIden)]
pub(super) enum OneTimeCodes {
    Table,
    Id,
    Purpose,
    Subject,
    Email,
    CodeHash,
    BindingHash,
    Attempts,
    CreatedAt,
    ExpiresAt,
    ConsumedAt,
}

#[derive(DeriveIden)]
pub(super) enum BlockedRecipients {
    Table,
    Email,
    CreatedAt,
}

#[derive(DeriveIden)]
pub(super) enum ImportJobs {
    Table,
    Id,
    FileName,
    FileSha256,
    Status,
    CreatedBy,
    CreatedAt,
    UpdatedAt,
    FinishedAt,
    LeaseUntil,
}

#[derive(DeriveIden)]
pub(super) enum ImportRows {
    Table,
    JobId,
    RowNumber,
    Email,
    RedirectUrl,
    SendEmail,
    Message,
    DisplayName,
    Error,
    Outcome,
    OutcomeError,
    InvitationId,
    UserId,
    ProcessedAt,
}

#[derive(DeriveIden)]
pub(super) enum DirectoryAudits {
    Table,
    Id,
    At,
    Actor,
    Activity,
    Category,
    TargetType,
    TargetId,
    TargetName,
    Before,
    After,
}

#[derive(DeriveIden)]
pub(super) enum MailOutbox {
    Table,
    Id,
    Kind,
    ToAddr,
    Cc,
    Subject,
    TextBody,
    HtmlBody,
    Status,
    Attempts,
    NextAttemptAt,
    LockedUntil,
    LastError,
    CreatedAt,
    SentAt,
}
