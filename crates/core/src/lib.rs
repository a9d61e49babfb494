//! skein-core: the migration engine.
//!
//! Migration files ([`source`], [`migration`]) are planned against a database's history
//! ([`plan`], pure) and applied by a per-backend [`driver`] under a lock ([`engine`]).
//! [`script`] renders a plan as SQL for review. The engine never reads configuration
//! files or the environment: it takes a URL, migrations and options.

pub mod adopt;
pub mod backend;
pub mod checksum;
pub mod dialect;
pub mod driver;
pub mod engine;
pub mod error;
pub mod history;
pub mod import;
pub mod lint;
pub mod migration;
pub mod plan;
pub mod position;
pub mod schema;
pub mod script;
pub mod source;
pub mod split;
pub mod stop;
pub mod tools;
pub mod watch;

pub use driver::{ConnectOptions, Connection, Driver};
pub use error::{Error, Result};
pub use migration::{Migration, Version};
