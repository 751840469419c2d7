//! `import_rows`: one staged row of an import file and, once processed, its
//! outcome ("invited", "existing" or "failed"; NULL while pending).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "import_rows")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub job_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub row_number: i64,
    pub email: String,
    pub redirect_url: String,
    pub send_email: bool,
    pub message: Option<String>,
    pub display_name: Option<String>,
    /// Why the row is invalid (staging); such a row never gets an outcome.
    pub error: Option<String>,
    pub outcome: Option<String>,
    pub outcome_error: Option<String>,
    pub invitation_id: Option<Uuid>,
    pub user_id: Option<Uuid>,
    pub processed_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
