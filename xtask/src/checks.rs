//! Checks: what judges a rendering, the conformance rules and the lists checked against the app's source.

pub mod appsource;
pub mod refusals;
pub mod rules;
