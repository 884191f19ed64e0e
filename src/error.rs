//! Errors that stop the server from starting. Each prints as one line that
//! says what to fix; `main` prints it and exits non-zero.

use std::{io, net::SocketAddr, path::PathBuf};

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// A setting is missing, malformed or contradicts another.
    #[error("{0}")]
    Config(String),

    /// The data folder cannot be created or written.
    #[error("data folder {path}: {source}")]
    DataDir { path: PathBuf, source: io::Error },

    /// The database cannot be reached or opened.
    #[error("cannot open the database: {0}")]
    Database(String),

    /// A migration failed; the database is left as the failed migration found it.
    #[error("database migration failed: {0}")]
    Migration(String),

    /// The listen address is taken or not allowed.
    #[error("cannot listen on {addr}: {source}")]
    Listen { addr: SocketAddr, source: io::Error },

    /// The server stopped with an I/O error.
    #[error("server error: {0}")]
    Serve(io::Error),
}
