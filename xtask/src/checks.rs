//! Checks: what judges a rendering (`judge`: the conformance rules, `assert:` claims, schemas), and the lists checked against the app's source.

pub mod appsource;
pub mod judge;
pub mod refusals;
pub mod rules;

pub use judge::{judge, Findings, Judge};
