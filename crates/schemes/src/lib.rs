//! The URL schemes of the databases skein connects to, and what a URL of each reaches.
//! The engine (its backends), the configuration and the command line all read a URL's
//! scheme here, so that a new backend is one line of [`ALL`] and its folder in the engine.

/// The kind of database a URL reaches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    Postgres,
    MySql,
    Sqlite,
}

/// What skein knows of one kind's URLs.
#[derive(Debug)]
pub struct Schemes {
    pub kind: Kind,
    /// The name reports and `driver = "..."` use.
    pub name: &'static str,
    /// The schemes that reach it, the usual one first.
    pub schemes: &'static [&'static str],
    /// The port a URL without one reaches; `None` for a file.
    pub default_port: Option<u16>,
    /// The database is a file on this machine: a URL holds its path, not a server.
    pub file: bool,
    /// The URL parameter that names a Unix socket (PostgreSQL takes the socket's folder
    /// as its `host`).
    pub socket_parameter: &'static str,
}

/// Every kind, once.
pub const ALL: [&Schemes; 3] = [
    &Schemes {
        kind: Kind::Postgres,
        name: "postgres",
        schemes: &["postgres", "postgresql"],
        default_port: Some(5432),
        file: false,
        socket_parameter: "host",
    },
    &Schemes {
        kind: Kind::MySql,
        name: "mysql",
        schemes: &["mysql", "mariadb"],
        default_port: Some(3306),
        file: false,
        socket_parameter: "socket",
    },
    &Schemes {
        kind: Kind::Sqlite,
        name: "sqlite",
        schemes: &["sqlite"],
        default_port: None,
        file: true,
        socket_parameter: "socket",
    },
];

/// The kind of connection settings that name no `driver`: the first listed.
impl Default for Kind {
    fn default() -> Kind {
        ALL[0].kind
    }
}

impl Kind {
    pub fn schemes(self) -> &'static Schemes {
        ALL.iter()
            .copied()
            .find(|s| s.kind == self)
            .expect("every kind is listed")
    }

    /// The kind `scheme` (`postgresql`, `mariadb`, a `driver` setting) names.
    pub fn of_scheme(scheme: &str) -> Option<Kind> {
        ALL.iter()
            .find(|s| s.schemes.contains(&scheme))
            .map(|s| s.kind)
    }

    /// The kind of a database URL, by its scheme (a `+driver` suffix, as SQLAlchemy
    /// writes `postgresql+asyncpg`, left out).
    pub fn of_url(url: &str) -> Option<Kind> {
        let scheme = scheme(url);
        Kind::of_scheme(scheme.split('+').next().unwrap_or(scheme))
    }

    pub fn name(self) -> &'static str {
        self.schemes().name
    }

    /// The usual scheme of its URLs.
    pub fn scheme(self) -> &'static str {
        self.schemes().schemes[0]
    }

    pub fn is_file(self) -> bool {
        self.schemes().file
    }
}

/// The URL's scheme, as written (`sqlite::memory:` has scheme `sqlite`).
pub fn scheme(url: &str) -> &str {
    url.split_once(':').map_or("", |(scheme, _)| scheme)
}

/// Whether skein connects to URLs of `url`'s scheme.
pub fn knows(url: &str) -> bool {
    Kind::of_scheme(scheme(url)).is_some()
}

/// Every scheme skein connects to.
pub fn all_schemes() -> impl Iterator<Item = &'static str> {
    ALL.iter().flat_map(|s| s.schemes.iter().copied())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schemes_name_their_kind() {
        assert_eq!(Kind::of_url("postgresql://h/db"), Some(Kind::Postgres));
        assert_eq!(
            Kind::of_url("postgresql+asyncpg://h/db"),
            Some(Kind::Postgres)
        );
        assert_eq!(Kind::of_url("mariadb://h/db"), Some(Kind::MySql));
        assert_eq!(Kind::of_url("sqlite::memory:"), Some(Kind::Sqlite));
        assert_eq!(Kind::of_url("oracle://h/db"), None);
        for schemes in ALL {
            assert_eq!(schemes.kind.schemes().name, schemes.name);
            assert_eq!(Kind::of_scheme(schemes.name), Some(schemes.kind));
        }
        assert_eq!(all_schemes().count(), 5);
    }
}
