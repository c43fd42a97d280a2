//! Engine: a case's renderings, from its values to Helm's output, normalised, schema-checked and snapshotted.

pub mod assertions;
pub mod config;
pub mod generate;
pub mod matrix;
pub mod normalise;
pub mod render;
pub mod renderd;
pub mod schema;
pub mod snapshot;
pub mod values;
