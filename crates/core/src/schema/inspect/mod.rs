//! Reading a live schema into the model: one catalog query per kind of object (never one
//! per table), the history table left out.

pub use crate::backend::mysql::inspect as mysql;
pub use crate::backend::postgres::inspect as postgres;
pub use crate::backend::sqlite::inspect as sqlite;
