//! Names of tables a schema comparison leaves out (`ignore_tables`): plain names or
//! patterns with `*` and `?`.

/// Whether `name` matches `pattern`, where `*` is any run of characters and `?` one.
pub fn glob_matches(pattern: &str, name: &str) -> bool {
    let (pattern, name): (Vec<char>, Vec<char>) =
        (pattern.chars().collect(), name.chars().collect());
    // The classic two-pointer match with one backtrack point for the last `*`.
    let (mut p, mut n) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while n < name.len() {
        match pattern.get(p) {
            Some('*') => {
                star = Some((p, n));
                p += 1;
            }
            Some(&c) if c == '?' || c == name[n] => {
                p += 1;
                n += 1;
            }
            _ => match star {
                Some((star_p, star_n)) => {
                    p = star_p + 1;
                    n = star_n + 1;
                    star = Some((star_p, star_n + 1));
                }
                None => return false,
            },
        }
    }
    pattern[p..].iter().all(|&c| c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::{Schema, Table, View};

    #[test]
    fn globs() {
        assert!(glob_matches("alembic_version", "alembic_version"));
        assert!(glob_matches("tmp_*", "tmp_"));
        assert!(glob_matches("tmp_*", "tmp_load_2024"));
        assert!(glob_matches("*_old", "users_old"));
        assert!(glob_matches("t?p", "tmp"));
        assert!(glob_matches("a*b*c", "axxbyyc"));
        assert!(!glob_matches("tmp_*", "temp_x"));
        assert!(!glob_matches("alembic_version", "alembic_versions"));
        assert!(!glob_matches("a*b", "acd"));
    }

    #[test]
    fn ignored_tables_and_views_are_left_out_by_bare_or_qualified_name() {
        let mut schema = Schema::default();
        for name in [
            "public.users",
            "public.alembic_version",
            "public.tmp_1",
            "app.tmp_2",
        ] {
            schema.tables.insert(name.to_owned(), Table::default());
        }
        schema.views.insert(
            "public.tmp_view".to_owned(),
            View {
                materialized: false,
                definition: String::new(),
            },
        );
        let kept =
            schema.without_tables(&["alembic_version".to_owned(), "public.tmp_*".to_owned()]);
        assert_eq!(
            kept.tables.keys().collect::<Vec<_>>(),
            ["app.tmp_2", "public.users"]
        );
        assert!(kept.views.is_empty());
    }
}
