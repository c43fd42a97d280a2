//! Helpers shared by the root package's integration tests.

use std::path::PathBuf;

/// The repository root (the root package's manifest folder).
pub fn repo_root() -> PathBuf {
    xtask::tools::repo_root()
}
