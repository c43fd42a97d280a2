//! Shared helpers for the root package's integration tests.
