//! skein-core against real servers: PostgreSQL (see skein-testkit) and SQLite files.

mod support;

mod long_history;
mod postgres;
mod schema;
mod sqlite;
