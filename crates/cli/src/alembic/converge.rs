//! Revisions that look at the database before they act are written to converge: each one
//! adds a column, a table or an index only if it is missing and drops one only if it is
//! there. Captured on an empty scratch database, their SQL is what they did there; run again
//! on a database that has those things (after their downgrade, often `pass`, undid
//! nothing), it would fail. On PostgreSQL the captured DDL is given the `IF NOT EXISTS` and
//! `IF EXISTS` it allows, so that it converges as the revision did.

/// The SQL with each statement that can converge made to, and how many were changed.
pub fn converging(sql: &str) -> (String, usize) {
    let mut out = String::with_capacity(sql.len() + 64);
    let mut at = 0;
    let mut changed = 0;
    for statement in skein_core::split::split(sql) {
        let Some((offset, words)) = insertion(statement.sql) else {
            continue;
        };
        let position = statement.offset + offset;
        out.push_str(&sql[at..position]);
        out.push_str(words);
        at = position;
        changed += 1;
    }
    out.push_str(&sql[at..]);
    (out, changed)
}

/// Where in the statement to insert `IF NOT EXISTS ` or `IF EXISTS `, if it can take one
/// and has none.
fn insertion(statement: &str) -> Option<(usize, &'static str)> {
    let tokens = tokens(statement, 8);
    let word = |i: usize| tokens.get(i).map(|(w, _)| w.as_str()).unwrap_or("");
    let at = |i: usize| tokens.get(i).map(|(_, offset)| *offset);
    let (index, words) = match (word(0), word(1), word(2)) {
        ("CREATE", "TABLE", _) => (2, "IF NOT EXISTS "),
        ("CREATE", "INDEX", "CONCURRENTLY") => (3, "IF NOT EXISTS "),
        ("CREATE", "INDEX", _) => (2, "IF NOT EXISTS "),
        ("CREATE", "UNIQUE", "INDEX") if word(3) == "CONCURRENTLY" => (4, "IF NOT EXISTS "),
        ("CREATE", "UNIQUE", "INDEX") => (3, "IF NOT EXISTS "),
        ("DROP", "INDEX", "CONCURRENTLY") => (3, "IF EXISTS "),
        ("DROP", "TABLE", _) | ("DROP", "INDEX", _) => (2, "IF EXISTS "),
        // One action on one table, as Alembic's add_column and drop_column write it.
        ("ALTER", "TABLE", _) if !statement.contains(',') => match (word(3), word(4)) {
            ("ADD", "COLUMN") => (5, "IF NOT EXISTS "),
            ("DROP", "COLUMN") => (5, "IF EXISTS "),
            _ => return None,
        },
        _ => return None,
    };
    if word(index) == "IF" {
        return None;
    }
    // `CREATE INDEX ON t (...)` has no name to test.
    if words == "IF NOT EXISTS " && word(1) != "TABLE" && word(index) == "ON" {
        return None;
    }
    Some((at(index)?, words))
}

/// The first `n` words of a statement, upper-cased, with their byte offsets.
fn tokens(statement: &str, n: usize) -> Vec<(String, usize)> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, c) in statement.char_indices() {
        let part = !c.is_whitespace() && c != '(';
        match (part, start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                out.push((statement[s..i].to_ascii_uppercase(), s));
                start = None;
                if out.len() == n {
                    return out;
                }
            }
            _ => {}
        }
    }
    if let Some(s) = start {
        out.push((statement[s..].to_ascii_uppercase(), s));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn captured_ddl_is_made_to_converge() {
        let sql = "DROP TABLE node_table;\n\
                   ALTER TABLE weather_miner_jobs ADD COLUMN gfs_init_time TIMESTAMP WITH TIME ZONE;\n\
                   CREATE INDEX idx_wmj_status ON weather_miner_jobs (status);\n\
                   CREATE TABLE IF NOT EXISTS t (id int);\n\
                   ALTER TABLE t ADD CONSTRAINT c UNIQUE (id);\n\
                   ALTER TABLE t DROP COLUMN x;\n\
                   UPDATE t SET id = 1;\n\
                   DROP INDEX CONCURRENTLY IF EXISTS i;\n\
                   DROP INDEX CONCURRENTLY j;\n";
        let (out, changed) = converging(sql);
        assert_eq!(changed, 5);
        assert_eq!(
            out,
            "DROP TABLE IF EXISTS node_table;\n\
             ALTER TABLE weather_miner_jobs ADD COLUMN IF NOT EXISTS gfs_init_time TIMESTAMP WITH TIME ZONE;\n\
             CREATE INDEX IF NOT EXISTS idx_wmj_status ON weather_miner_jobs (status);\n\
             CREATE TABLE IF NOT EXISTS t (id int);\n\
             ALTER TABLE t ADD CONSTRAINT c UNIQUE (id);\n\
             ALTER TABLE t DROP COLUMN IF EXISTS x;\n\
             UPDATE t SET id = 1;\n\
             DROP INDEX CONCURRENTLY IF EXISTS i;\n\
             DROP INDEX CONCURRENTLY IF EXISTS j;\n"
        );
    }
}
