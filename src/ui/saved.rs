//! What the app keeps across restarts: the selected list, the table's sort and hidden columns,
//! the tab, the theme and the trend basis (window size and panel widths are kept by eframe itself).
//!
//! Owns: the saved-state types and their storage key. Must not touch: runtime state — the app
//! assembles a [`Saved`] from its panels when eframe asks, and hands its parts back at start.

use serde::{Deserialize, Serialize};

use super::table_model::{HiddenColumns, SortOrder};

/// Key under which [`Saved`] is kept in eframe's storage.
pub const SAVED_KEY: &str = "starttls-monitor-ui";

/// The centre's tabs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Tab {
    #[default]
    Domains,
    Trends,
    Events,
    Settings,
}

impl Tab {
    /// Every tab, in the order the tab row shows them.
    pub const ALL: [Tab; 4] = [Tab::Domains, Tab::Trends, Tab::Events, Tab::Settings];

    /// The tab's title in the tab row.
    pub fn title(self) -> &'static str {
        match self {
            Tab::Domains => "Domains",
            Tab::Trends => "Trends",
            Tab::Events => "Events",
            Tab::Settings => "Settings",
        }
    }
}

/// Light, dark, or follow the system (the default).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum ThemeChoice {
    #[default]
    System,
    Light,
    Dark,
}

/// Trend charts count domains (the default), unique MX hosts, or mail volume (each domain by
/// its weight in the list).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum TrendBasis {
    #[default]
    Domains,
    MxHosts,
    Volume,
}

impl TrendBasis {
    /// What the shares are of, for captions: "of testable domains".
    pub fn of_what(self) -> &'static str {
        match self {
            TrendBasis::Domains => "of testable domains",
            TrendBasis::MxHosts => "of testable unique MX hosts",
            TrendBasis::Volume => "of the testable mail volume",
        }
    }
}

/// What survives a restart (window size and panel widths are kept by eframe itself).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Saved {
    /// The selected list (None: all domains).
    pub list: Option<String>,
    pub sort: SortOrder,
    pub tab: Tab,
    pub theme: ThemeChoice,
    pub trend_basis: TrendBasis,
    /// Columns of the domains table the user hid (absent in state saved before there was a
    /// Columns menu: all shown).
    pub hidden_columns: HiddenColumns,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ui::table_model::SortColumn;

    #[test]
    fn state_saved_before_the_columns_menu_loads_with_every_column() {
        let old = r#"{"list":"Customers","sort":{"column":"Provider","ascending":false},
            "tab":"Trends","theme":"Dark","trend_basis":"MxHosts"}"#;
        let saved: Saved = serde_json::from_str(old).expect("old saved state");
        assert_eq!(saved.list.as_deref(), Some("Customers"));
        assert_eq!(saved.tab, Tab::Trends);
        assert_eq!(saved.hidden_columns, HiddenColumns::default());
    }

    #[test]
    fn hidden_columns_survive_a_round_trip() {
        let mut saved = Saved::default();
        saved.hidden_columns.set_shown(SortColumn::Provider, false);
        let text = serde_json::to_string(&saved).expect("serialize");
        let back: Saved = serde_json::from_str(&text).expect("deserialize");
        assert_eq!(back, saved);
        assert!(!back.hidden_columns.is_shown(SortColumn::Provider));
    }
}
