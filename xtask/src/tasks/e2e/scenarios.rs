//! The scenarios of the e2e table, one file per scenario or close group: `secrets` (a to e), `acceptance` (f, g), `generator` (h, i) and `running` (j onwards, Heimdall's pods on the node, with a file per scenario under `running/`). Each is a `fn(&Env) -> Result<()>` the table in `e2e.rs` names.

pub(super) mod acceptance;
pub(super) mod generator;
pub(super) mod running;
pub(super) mod secrets;
