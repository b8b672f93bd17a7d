//! The library's error type. Every variant names the file or folder involved and, where the user can
//! act, what to do. Owns no I/O.

use std::path::PathBuf;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("corpus {}: {msg}", path.display())]
    Corpus { path: PathBuf, msg: String },

    #[error("{}: {source}", path.display())]
    Io { path: PathBuf, source: std::io::Error },

    #[error(
        "index {} is being written by another notegraph process; wait for it to finish and try again",
        path.display()
    )]
    IndexBusy { path: PathBuf },

    #[error("index {}: {msg}", path.display())]
    Index { path: PathBuf, msg: String },

    #[error("{}: {msg}", path.display())]
    Input { path: PathBuf, msg: String },

    #[error("{0}")]
    Usage(String),

    #[error("embedding model: {0}")]
    Model(String),
}

impl Error {
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io { path: path.into(), source }
    }
    pub fn index(path: impl Into<PathBuf>, msg: impl std::fmt::Display) -> Self {
        Error::Index { path: path.into(), msg: msg.to_string() }
    }
}

impl From<crate::model::ModelError> for Error {
    fn from(e: crate::model::ModelError) -> Self {
        Error::Model(e.to_string())
    }
}
