//! The rows of a query written by the user (the `names_from` query of a model set), with
//! each value as plain data: text, a number, a boolean or null.

use sqlx::{Column as _, Decode, Row, Type, TypeInfo as _};

/// A value of a row.
pub type Cell = serde_json::Value;

/// What a query returned.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Rows {
    /// The column names, in order.
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Cell>>,
}

/// Turns the rows sqlx fetched into [`Rows`]; a column of a type with no plain value
/// (a date, a UUID, a numeric) is an error naming it, to be cast to text in the query.
pub(crate) fn plain<R>(fetched: &[R]) -> Result<Rows, crate::Error>
where
    R: Row,
    usize: sqlx::ColumnIndex<R>,
    for<'r> Option<String>: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> Option<i64>: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> Option<i32>: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> Option<i16>: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> Option<f64>: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> Option<bool>: Decode<'r, R::Database> + Type<R::Database>,
{
    let Some(first) = fetched.first() else {
        return Ok(Rows::default());
    };
    let columns: Vec<String> = first
        .columns()
        .iter()
        .map(|c| c.name().to_owned())
        .collect();
    let mut rows = Vec::with_capacity(fetched.len());
    for row in fetched {
        let mut cells = Vec::with_capacity(columns.len());
        for (i, name) in columns.iter().enumerate() {
            cells.push(cell(row, i).ok_or_else(|| crate::Error::UnreadableColumn {
                column: name.clone(),
            })?);
        }
        rows.push(cells);
    }
    Ok(Rows { columns, rows })
}

/// Column `i` of `row` as text, an integer, a float or a boolean, whichever its type is.
fn cell<R>(row: &R, i: usize) -> Option<Cell>
where
    R: Row,
    usize: sqlx::ColumnIndex<R>,
    for<'r> Option<String>: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> Option<i64>: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> Option<i32>: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> Option<i16>: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> Option<f64>: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> Option<bool>: Decode<'r, R::Database> + Type<R::Database>,
{
    fn or_null<T: Into<Cell>>(value: Option<T>) -> Cell {
        value.map_or(Cell::Null, Into::into)
    }
    // The column's type decides: MySQL's TINYINT(1) and unsigned integers would otherwise
    // pass for booleans.
    let type_name = row.columns()[i].type_info().name().to_ascii_uppercase();
    if type_name.contains("UNSIGNED") {
        return None;
    }
    if type_name.starts_with("BOOL") {
        return row.try_get::<Option<bool>, _>(i).ok().map(or_null);
    }
    if let Ok(v) = row.try_get::<Option<String>, _>(i) {
        return Some(or_null(v));
    }
    if let Ok(v) = row.try_get::<Option<i64>, _>(i) {
        return Some(or_null(v));
    }
    if let Ok(v) = row.try_get::<Option<i32>, _>(i) {
        return Some(or_null(v));
    }
    if let Ok(v) = row.try_get::<Option<i16>, _>(i) {
        return Some(or_null(v));
    }
    if let Ok(v) = row.try_get::<Option<f64>, _>(i) {
        return Some(
            v.and_then(serde_json::Number::from_f64)
                .map_or(Cell::Null, Cell::Number),
        );
    }
    None
}
