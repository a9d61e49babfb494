//! What skein reads from an error of sqlx, the driver of every backend here: the server's
//! code (MySQL's error number rather than its SQLSTATE) and message, and whether a
//! connection failure may pass.

use crate::error::DriverError;

impl From<sqlx::Error> for DriverError {
    fn from(err: sqlx::Error) -> Self {
        let (code, message) = match err.as_database_error() {
            Some(db) => {
                let code = match db.try_downcast_ref::<sqlx::mysql::MySqlDatabaseError>() {
                    Some(mysql) => Some(mysql.number().to_string()),
                    None => db.code().map(|c| c.into_owned()),
                };
                (code, Some(db.message().to_owned()))
            }
            None => (None, None),
        };
        let transient = is_transient(&err);
        DriverError::new(err, code, message, transient)
    }
}

/// Whether a connection failure may pass by itself: the server is starting, has no free
/// connection slot, or the network refused or dropped the connection.
fn is_transient(err: &sqlx::Error) -> bool {
    use std::io::ErrorKind;
    match err {
        sqlx::Error::Io(e) => matches!(
            e.kind(),
            ErrorKind::ConnectionRefused
                | ErrorKind::ConnectionReset
                | ErrorKind::ConnectionAborted
                | ErrorKind::BrokenPipe
                | ErrorKind::UnexpectedEof
                | ErrorKind::TimedOut
        ),
        // PostgreSQL: cannot_connect_now, too_many_connections, configuration_limit_exceeded,
        // connection_exception, sqlclient_unable_to_establish_sqlconnection, connection_failure.
        // MySQL: 08004 is "Too many connections" (1040).
        sqlx::Error::Database(db) => matches!(
            db.code().as_deref(),
            Some("57P03" | "53300" | "53400" | "08000" | "08001" | "08006" | "08004")
        ),
        _ => false,
    }
}
