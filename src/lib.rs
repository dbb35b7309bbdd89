//! starttls-monitor: watches how well mail domains protect mail in transit (STARTTLS, forward
//! secrecy, strict certificate validation).
//!
//! Dependencies point one way: `ui -> monitor -> {probe, store} -> model` (see DESIGN.md).

pub mod cli;
pub mod import;
pub mod model;
pub mod monitor;
pub mod probe;
pub mod report;
pub mod settings;
pub mod store;
#[cfg(feature = "gui")]
pub mod ui;
