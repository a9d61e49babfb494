//! skein-core against real servers: PostgreSQL and MariaDB (see skein-testkit) and SQLite
//! files.

mod support;

mod every_backend;
mod identifiers;
mod lint;
mod long_history;
mod mysql;
mod network;
mod postgres;
mod schema;
mod sqlite;
