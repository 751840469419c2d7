//! Small builders the migrations share, so every table and index is created
//! the same way (`IF NOT EXISTS`, named indexes).

use sea_orm_migration::prelude::*;

pub(super) fn table<T: IntoIden + 'static>(name: T) -> TableCreateStatement {
    Table::create().table(name).if_not_exists().to_owned()
}

pub(super) fn index<T: IntoIden + 'static, C: IntoIden + 'static>(
    name: &str,
    table: T,
    col: C,
) -> IndexCreateStatement {
    Index::create()
        .if_not_exists()
        .name(name)
        .table(table)
        .col(col)
        .to_owned()
}

/// An index over several columns, in the order given (the leading columns
/// serve equality lookups, the last one ranges and ordering).
pub(super) fn index_on<T, C, I>(name: &str, table: T, cols: I) -> IndexCreateStatement
where
    T: IntoIden + 'static,
    C: IntoIndexColumn,
    I: IntoIterator<Item = C>,
{
    let mut i = Index::create();
    i.if_not_exists().name(name).table(table);
    for c in cols {
        i.col(c);
    }
    i.to_owned()
}

/// `ON DELETE CASCADE` from `from_table.from_col` to `to_table.to_col`: the
/// child rows go with their parent even when a delete bypasses the repository.
pub(super) fn cascade<F, FC, T, TC>(
    name: &str,
    from_table: F,
    from_col: FC,
    to_table: T,
    to_col: TC,
) -> ForeignKeyCreateStatement
where
    F: IntoIden + 'static,
    FC: IntoIden + 'static,
    T: IntoIden + 'static,
    TC: IntoIden + 'static,
{
    ForeignKey::create()
        .name(name)
        .from(from_table, from_col)
        .to(to_table, to_col)
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned()
}
