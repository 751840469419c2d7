//! Writing to and reading from `mail_outbox`. Repositories call
//! [`enqueue_mail`] inside the transaction of the change that caused the
//! message, so a message exists exactly when its change was committed.

use super::list_to_json;
use crate::entity::mail_outbox;
use portico_core::{MailKind, OutgoingMail};
use portico_mail::MailStatus;
use sea_orm::ActiveValue::Set;
use sea_orm::{ConnectionTrait, DbErr, EntityTrait};

/// Queues `m` as pending, due at once (`next_attempt_at = created_at`).
pub(crate) async fn enqueue_mail<C: ConnectionTrait>(
    db: &C,
    m: &OutgoingMail,
) -> Result<(), DbErr> {
    mail_outbox::Entity::insert(outbox_row(m))
        .exec_without_returning(db)
        .await?;
    Ok(())
}

impl crate::Storage {
    /// Queues messages that no directory change caused (an operator's bulk
    /// send, a load test), in one transaction, 500 rows per statement.
    pub async fn queue_mail(&self, mails: &[OutgoingMail]) -> anyhow::Result<()> {
        let tx = self.write_tx().await?;
        for chunk in mails.chunks(500) {
            mail_outbox::Entity::insert_many(chunk.iter().map(outbox_row))
                .exec_without_returning(&tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }
}

fn outbox_row(m: &OutgoingMail) -> mail_outbox::ActiveModel {
    mail_outbox::ActiveModel {
        id: Set(m.id),
        kind: Set(m.kind.as_str().to_owned()),
        to_addr: Set(m.to.clone()),
        cc: Set(list_to_json(&m.cc)),
        subject: Set(m.subject.clone()),
        text_body: Set(m.text.clone()),
        html_body: Set(m.html.clone()),
        status: Set(MailStatus::Pending.as_str().to_owned()),
        attempts: Set(0),
        next_attempt_at: Set(m.created_at),
        locked_until: Set(None),
        last_error: Set(None),
        created_at: Set(m.created_at),
        sent_at: Set(None),
        lane: Set(m.kind.lane()),
    }
}

/// The message as the sender needs it again.
pub(crate) fn mail_from_row(m: &mail_outbox::Model) -> anyhow::Result<OutgoingMail> {
    let kind = MailKind::parse(&m.kind)
        .ok_or_else(|| anyhow::anyhow!("unknown mail kind {:?} in the outbox", m.kind))?;
    Ok(OutgoingMail {
        id: m.id,
        kind,
        to: m.to_addr.clone(),
        cc: super::list_from_json(m.cc.clone())?,
        subject: m.subject.clone(),
        text: m.text_body.clone(),
        html: m.html_body.clone(),
        created_at: m.created_at,
    })
}
