//! The `skein` binary, run as a user would, against SQLite files, real PostgreSQL and
//! MariaDB.

mod support;

mod alembic_projects;
mod commands;
mod concurrency;
mod contract;
mod converge;
mod dump;
mod example;
mod fleet;
mod hardening;
mod hardening_config;
mod hardening_run;
mod hardening_takeover;
mod hardening_templates;
mod histories;
mod lint;
mod matrix;
mod model;
mod mysql;
mod onboarding;
mod output;
mod pages;
mod readme;
mod repeatable;
mod secrets;
mod seeds;
mod sets;
mod shipped;
mod snapshots;
mod takeover;
mod templates;
