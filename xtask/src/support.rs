//! Support: tools, processes (commands run and checked, the interrupt handler), parsed documents, reports, the API client and temporary folders; knows no chart and no harness step.

pub mod cluster;
pub mod command;
pub mod manifest;
pub mod netpol;
pub mod parallel;
pub mod phases;
pub mod process;
pub mod report;
pub mod scratch;
pub mod tools;
