//! The `skein` binary, run as a user would, against SQLite files and real PostgreSQL.

mod support;

mod commands;
mod concurrency;
mod example;
mod fleet;
mod model;
mod secrets;
