//! Tasks: one `cargo xtask` command per module, each reading as its steps.

pub mod bench;
pub mod docs;
pub mod e2e;
pub mod equivalence;
pub mod fuzz;
pub mod mutants;
pub mod package;
pub mod release;
pub mod testchart;
pub mod workflows;
