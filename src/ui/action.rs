//! What panels ask for while they draw. A panel never changes shared state or another panel:
//! it records an [`Action`], and the app applies every recorded action after the frame, in one
//! place (egui_demo_app's recorded commands).
//!
//! Owns: the vocabulary between the panels and the app. Must not touch: any state — an action
//! is a request; applying it is the app's job.

use crate::model::DomainName;
use crate::monitor::{Command, ScanTarget};

use super::file_pick::FilePurpose;
use super::saved::{Tab, ThemeChoice};
use super::style::Grade;
use super::table_model::SortColumn;

/// One thing a panel asked for while drawing.
#[derive(Clone, Debug)]
pub enum Action {
    /// Shows another list (None: all domains) and loads its view, unless it is shown already.
    SelectList(Option<String>),
    /// Makes `list` the selected one without loading it now: the edit recorded just before
    /// reloads the view once the monitor has applied it.
    SelectListAfterEdit(Option<String>),
    SelectTab(Tab),
    SetTheme(ThemeChoice),
    /// View ▸ Refresh (Ctrl+R): reloads the snapshot and the open detail from the database.
    Refresh,
    /// Starts a scan; the warning banners go until the scan raises them again.
    Scan(ScanTarget),
    /// Sends a command to the monitor as it is (edits, settings, schedule, import preview...).
    Send(Command),
    /// Shows `domain` in the Domains tab: clears the filters when they hide it, makes it the
    /// only selected row and loads its detail.
    ShowDomain(DomainName),
    /// The domains table's text filter changed (matches domain or provider).
    SetFilterText(String),
    /// The domains table shows only this grade (None: all).
    SetGradeFilter(Option<Grade>),
    /// Show only rows whose certificate ends within this many days (None: all).
    SetExpiryFilter(Option<u32>),
    /// Show only rows of this mail provider (None: all).
    SetProviderFilter(Option<String>),
    /// Only rows with this DANE value (`Some(None)`: not looked up); None: all.
    SetDaneFilter(Option<Option<crate::model::auth::DaneSetStatus>>),
    /// Only rows with this MTA-STS outcome (`Some(None)`: not looked up); None: all.
    SetMtaStsFilter(Option<Option<crate::model::auth::MtaStsOutcome>>),
    /// Group the table's rows by mail provider.
    SetGroupByProvider(bool),
    /// A click on a column heading: sort by it, or flip the direction.
    SortBy(SortColumn),
    /// A click on the table row at `position`; `toggle` with Ctrl/Cmd, `extend` with Shift.
    ClickRow {
        position: usize,
        toggle: bool,
        extend: bool,
    },
    /// Ctrl+A: selects every visible row.
    SelectAllVisible,
    /// Arrow keys: moves the cursor row by `delta` and loads its detail.
    MoveCursor(isize),
    /// Ctrl+F: shows the Domains tab and focuses its filter box.
    FocusFilter,
    /// Drops the loaded domain detail (its domain is being removed).
    ForgetDetail,
    /// Closes the detail pane (its ✖ Close button, Escape): the cursor goes, the selection
    /// stays; a click on a row opens the pane again.
    CloseDetail,
    OpenDialog(DialogRequest),
    /// Opens a native file dialog; its answer goes back to the panel `purpose` names.
    /// `file_name` is the name a "save as" dialog suggests.
    PickFile {
        purpose: FilePurpose,
        file_name: Option<String>,
    },
    SetStatus {
        text: String,
        error: bool,
    },
    DismissStatus,
    DismissBanner(Banner),
}

/// A dialog a panel asks to open.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DialogRequest {
    /// Add domains (to `list`, or to the database only).
    AddDomains {
        list: Option<String>,
    },
    /// Remove `domains` from `list`, or from the database with their history when None.
    ConfirmRemove {
        domains: Vec<DomainName>,
        list: Option<String>,
    },
    NewList,
    RenameList(String),
    DeleteList(String),
    /// File → Export report, with `list` chosen.
    Export {
        list: Option<String>,
    },
}

/// A dismissable warning strip across the top of the window.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Banner {
    /// Outbound port 25 looks blocked.
    Port25Blocked,
    /// The DNS server failed every lookup (refused, servfail, timed out).
    DnsFailing,
    /// The resolver passes no DNSSEC data (DANE unknown).
    DnssecUnavailable,
    /// The SOCKS proxy refused us before a scan, or was lost during one.
    ProxyTrouble,
}
