//! The desktop app driven headless (egui_kittest), shared by the `app_*` tests (`mod
//! app_support;` at the top of each): a harness around `App`, stepping frames until a condition
//! holds (the monitor, the store poll and the folder listing answer from their own threads),
//! and finding labels.
//!
//! Each test binary uses only part of it, so unused items are allowed here.
#![allow(dead_code)]

use std::path::Path;
use std::time::{Duration, Instant};

use eframe::egui;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use starttls_monitor::monitor::Overrides;
use starttls_monitor::ui::{App, Saved};

/// The window size the app tests use unless they test a narrow window.
pub const WINDOW: egui::Vec2 = egui::vec2(1500.0, 950.0);

/// How long [`pump`] waits.
pub const PUMP_LIMIT: Duration = Duration::from_secs(10);

/// A harness of `size` drawing the whole app.
pub fn harness(app: App, size: egui::Vec2) -> Harness<'static, App> {
    Harness::builder()
        .with_size(size)
        .build_ui_state(|ui, app: &mut App| app.ui_root(ui), app)
}

/// Steps frames until `done` holds or `limit` passes; whether it held.
pub fn pump_until(
    harness: &mut Harness<'static, App>,
    limit: Duration,
    mut done: impl FnMut(&Harness<'static, App>) -> bool,
) -> bool {
    let deadline = Instant::now() + limit;
    loop {
        harness.step();
        if done(harness) {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(15));
    }
}

/// Steps frames until `done` holds; fails the test after `limit`, naming `what` and the status
/// line.
pub fn pump_within(
    harness: &mut Harness<'static, App>,
    limit: Duration,
    what: &str,
    done: impl FnMut(&Harness<'static, App>) -> bool,
) {
    if !pump_until(harness, limit, done) {
        panic!(
            "timed out waiting for {what}; status: {:?}",
            harness.state().status_text()
        );
    }
}

/// [`pump_within`] [`PUMP_LIMIT`].
pub fn pump(
    harness: &mut Harness<'static, App>,
    what: &str,
    done: impl FnMut(&Harness<'static, App>) -> bool,
) {
    pump_within(harness, PUMP_LIMIT, what, done);
}

/// Whether some widget's label contains `text`.
pub fn has_label(harness: &Harness<'static, App>, text: &str) -> bool {
    harness.query_all_by_label_contains(text).next().is_some()
}

/// `app` in a [`WINDOW`]-sized harness, once its first snapshot is shown.
pub fn start(app: App) -> Harness<'static, App> {
    let mut harness = harness(app, WINDOW);
    pump(&mut harness, "the first snapshot", |h| {
        h.state().view_loaded()
    });
    harness
}

/// The app on `db` with `overrides`, no schedule, fresh saved state; see [`start`].
pub fn start_app(db: &Path, overrides: Overrides) -> Harness<'static, App> {
    start(App::start(
        db.to_path_buf(),
        overrides,
        false,
        Saved::default(),
    ))
}
