//! The chart's test harness and project tasks, as a library so the root package's tests drive the same code as `cargo xtask`.

// One folder per layer; lowest first they are support, engine, checks, lifecycle, tasks. A module uses its own
// layer or a lower one (ARCHITECTURE.md; enforced by tests/tidy.rs).
pub mod checks;
pub mod engine;
pub mod lifecycle;
pub mod support;
pub mod tasks;
