//! The chart's test harness and project tasks, as a library so the root package's tests drive the same code as `cargo xtask`.

pub mod appsource;
pub mod assertions;
pub mod bench;
pub mod cluster;
pub mod controlplane;
pub mod docs;
pub mod e2e;
pub mod equivalence;
pub mod manifest;
pub mod matrix;
pub mod migrate;
pub mod mutants;
pub mod netpol;
pub mod node;
pub mod normalise;
pub mod package;
pub mod render;
pub mod renderd;
pub mod report;
pub mod rules;
pub mod schema;
pub mod scratch;
pub mod snapshot;
pub mod testchart;
pub mod tools;
pub mod workflows;
