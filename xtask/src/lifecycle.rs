//! Lifecycle: a real control plane and node on this host, every change to the host recorded and undone.

pub mod controlplane;
pub mod node;
