//! Errors that stop pinprobe from doing its job: unreadable or malformed input, bad flags.
//!
//! What happens on the network is never an error here: every endpoint ends with a verdict
//! (see `verdict`). Messages name the file, line or flag and what to do about it.

use std::path::PathBuf;

/// A configuration or input problem; the run stops before any probe, with exit status 2.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// a file could not be read
    #[error("cannot read {path}")]
    Read {
        /// the file
        path: PathBuf,
        /// what the OS said
        #[source]
        source: std::io::Error,
    },
    /// a profile, pin or certificate file is malformed at a known place
    #[error("{file}:{line}: {message}")]
    At {
        /// the file, as the user named it
        file: String,
        /// 1-based line
        line: usize,
        /// what is wrong and how to fix it
        message: String,
    },
    /// a file is malformed as a whole
    #[error("{file}: {message}")]
    File {
        /// the file, as the user named it
        file: String,
        /// what is wrong and how to fix it
        message: String,
    },
    /// a file is larger than its kind may be (`crate::input`)
    #[error("{file}: larger than the {} {} may be", crate::input::size_text(limit.bytes), limit.what)]
    TooLarge {
        /// the flag and the file, as the user named it
        file: String,
        /// the limit it passed
        limit: crate::input::Limit,
    },
    /// a flag or argument is wrong
    #[error("{flag}: {message}")]
    Usage {
        /// the flag or argument, e.g. `--resolve` or the URL given
        flag: String,
        /// what is wrong and how to fix it
        message: String,
    },
    /// a file to write exists and replacing it was not asked for
    #[error("{file} exists: give --force to replace it")]
    Exists {
        /// the file, as the user named it
        file: String,
    },
    /// the report could not be written
    #[error("cannot write the report to {target}")]
    Write {
        /// standard output or the file of `-o`
        target: String,
        /// what the OS said
        #[source]
        source: std::io::Error,
    },
    /// the async runtime could not start
    #[error("cannot start the runtime")]
    Runtime(#[source] std::io::Error),
    /// the in-process lab (`pinprobe demo`) could not make a certificate or open a socket
    #[error("the lab could not start")]
    Lab(#[from] crate::lab::LabError),
}

impl Error {
    /// The message with its causes, `: `-separated, as the command line prints it: for an error
    /// that becomes part of another's message (a file a profile names).
    pub fn with_causes(&self) -> String {
        let mut message = self.to_string();
        let mut source = std::error::Error::source(self);
        while let Some(s) = source {
            message.push_str(&format!(": {s}"));
            source = s.source();
        }
        message
    }

    /// Shorthand for a usage error.
    pub fn usage(flag: impl Into<String>, message: impl Into<String>) -> Error {
        Error::Usage {
            flag: flag.into(),
            message: message.into(),
        }
    }
}
