//! What a fetch reports while it works.

/// Progress of a fetch, for a display.
#[derive(Debug, Clone, PartialEq)]
pub enum FetchProgress {
    /// pip is downloading the package.
    Downloading,
    /// Unpacking: bytes written of the total.
    Unpacking {
        /// The file being unpacked.
        file: String,
        /// Bytes written so far.
        done: u64,
        /// Bytes in all.
        total: u64,
    },
}
