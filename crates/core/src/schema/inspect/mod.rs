//! Reading a live schema into the model: one catalog query per kind of object (never one
//! per table), the history table left out.

pub mod mysql;
pub mod postgres;
pub mod sqlite;
