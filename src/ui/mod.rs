//! The desktop app (eframe/egui): lists, the domains table, domain detail, trends, events,
//! scan controls and settings.
//!
//! Owns: everything drawn, and UI state saved across restarts. Must not touch: tokio,
//! rusqlite, hickory or rustls — it talks only to the monitor ([`crate::monitor`]) through
//! commands and events, reads owned snapshots, and never blocks inside a frame.

mod action;
mod app;
mod day_axis;
mod detail;
mod detail_auth;
mod dialogs;
mod events_tab;
mod file_drop;
mod file_pick;
mod history_chart;
mod import_export;
mod lists_panel;
mod path_prompt;
mod saved;
mod settings_tab;
mod state;
pub mod style;
mod table;
pub mod table_model;
mod top_bar;
mod trends;
mod welcome;

use std::path::PathBuf;

use eframe::egui;

pub use app::App;
pub use file_pick::FileDialogs;
pub use saved::{SAVED_KEY, Saved, Tab, ThemeChoice, TrendBasis};
pub use welcome::{SAMPLE_LIST_NAME, sample_domains};

use crate::monitor::Overrides;

/// Opens the window and runs the app until it is closed.
pub fn run(db_path: PathBuf, overrides: Overrides) -> Result<(), String> {
    let options = eframe::NativeOptions {
        viewport: egui::ViewportBuilder::default()
            .with_title("starttls-monitor")
            .with_app_id("starttls-monitor")
            .with_inner_size([1280.0, 800.0])
            .with_min_inner_size([760.0, 480.0]),
        ..eframe::NativeOptions::default()
    };
    eframe::run_native(
        "starttls-monitor",
        options,
        Box::new(move |creation| {
            let saved: Saved = creation
                .storage
                .and_then(|storage| eframe::get_value(storage, SAVED_KEY))
                .unwrap_or_default();
            Ok(Box::new(App::start(db_path, overrides, true, saved)))
        }),
    )
    .map_err(|error| format!("could not open the app's window: {error}"))
}
