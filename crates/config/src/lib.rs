//! skein-config: reads `skein.toml` and turns it into resolved databases.
//!
//! [`settings`] holds the file's shape (unresolved); [`load`] layers built-in defaults,
//! `[default]`, the selected profile, `SKEIN_...` variables and flags with figment;
//! [`resolve`] expands model folders, resolves paths against the config file's folder and
//! yields [`ResolvedDatabase`]s; [`connect`] fetches the secrets their connections refer
//! to ([`reference`], [`secret`]) and renders their URLs. This crate never opens a
//! database connection.

pub mod connect;
pub mod connection;
pub mod duration;
pub mod edit;
pub mod error;
pub mod load;
pub mod models;
pub mod reference;
pub mod resolve;
pub mod secret;
pub mod settings;
pub mod spans;
pub mod user_file;
pub mod validate;

pub use connect::DatabaseUrls;
pub use error::ConfigError;
pub use load::{LoadOptions, load};
pub use models::{FoundModel, ListedBy, ModelSet};
pub use resolve::{ResolvedDatabase, Selection, Workspace};
pub use secret::SecretValue;
