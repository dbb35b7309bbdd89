//! The Domains tab: filter bar, legend and the virtualized domains table (only visible rows are
//! laid out, so 100k rows scroll smoothly).
//!
//! Owns: drawing rows (a stale row's last known verdict with its mark and why, see
//! [`describe_stale`]), the filter box's text, where the table scrolls to, and turning clicks
//! into actions. Must not touch: the data's filtering, sorting and selection (that is
//! [`super::table_model`], changed by the app when it applies the actions), the store.

use eframe::egui;
use egui_extras::{Column, TableBuilder};

use super::action::{Action, DialogRequest};
use super::style::GradeLook as _;
use super::style::{self, Grade, format_date, format_time};
use super::table_model::{HiddenColumns, SortColumn, TableModel};
use crate::model::auth::{DaneSetStatus, MtaStsOutcome};
use crate::monitor::ScanTarget;
use crate::monitor::view::{LatestRow, ViewSnapshot, describe_duration};

/// Id of the filter box (Ctrl+F focuses it).
pub const FILTER_ID: &str = "domains_filter";

/// The word beside a verdict that is a domain's last known one, not its latest probe's.
pub const STALE_MARK: &str = "(stale)";

/// [`STALE_MARK`] as the table and the detail pane show it.
pub fn stale_mark(dark_mode: bool) -> egui::RichText {
    egui::RichText::new(STALE_MARK)
        .italics()
        .color(Grade::Untestable.color(dark_mode))
}

/// What a stale verdict means, in words: "untestable since 2026-01-10 02:35: DNS timeout; last
/// known: secure, 2 h 0 min earlier" (`since`: the first untestable probe; `last_known_at`: when
/// the last known state, graded `last_known`, was last confirmed).
pub fn describe_stale(
    since: time::OffsetDateTime,
    why: &str,
    last_known: Grade,
    last_known_at: time::OffsetDateTime,
) -> String {
    let earlier = (since - last_known_at)
        .whole_seconds()
        .max(0)
        .unsigned_abs();
    format!(
        "untestable since {}: {why}; last known: {}, {} earlier",
        format_time(since),
        last_known.label(),
        describe_duration(std::time::Duration::from_secs(earlier))
    )
}

/// The filter box's widget id (the app asks whether it has the keyboard).
pub fn filter_id() -> egui::Id {
    egui::Id::unique(FILTER_ID)
}

/// How wide the filter box is when there is room.
const FILTER_WIDTH: f32 = 260.0;

/// The "expires within" filter's days until the user picks others.
const DEFAULT_EXPIRY_FILTER_DAYS: u32 = 30;

/// The Domains tab's own state: what is typed in the filter box, scrolling, and which columns
/// are hidden.
#[derive(Debug, Default)]
pub struct DomainsTab {
    /// The columns the user hid (saved across restarts).
    columns: HiddenColumns,
    filter_text: String,
    /// Ctrl+F asked for the filter box to take focus.
    focus_filter: bool,
    /// The table should scroll to this position next frame.
    scroll_to: Option<usize>,
    /// The days of the "expires within" filter while it is off (the next time it is ticked).
    expiry_days: u32,
}

impl DomainsTab {
    /// The tab with the columns hidden last time.
    pub fn new(columns: HiddenColumns) -> Self {
        Self {
            columns,
            expiry_days: DEFAULT_EXPIRY_FILTER_DAYS,
            ..Self::default()
        }
    }

    /// The columns the user hid (for the saved state).
    pub fn hidden_columns(&self) -> &HiddenColumns {
        &self.columns
    }

    /// Gives the filter box the keyboard focus next frame.
    pub fn focus_filter(&mut self) {
        self.focus_filter = true;
    }

    /// Scrolls the table to `position` next frame (None: leaves it).
    pub fn scroll_to(&mut self, position: Option<usize>) {
        self.scroll_to = position;
    }

    /// Empties the filter box (the app clears the table's filter with it).
    pub fn clear_filter_text(&mut self) {
        self.filter_text.clear();
    }

    /// Draws the tab: `table`'s rows of `view`'s list (`list`), filter bar and legend.
    pub fn ui(
        &mut self,
        ui: &mut egui::Ui,
        table: &TableModel,
        view: &ViewSnapshot,
        list: Option<&str>,
        actions: &mut Vec<Action>,
    ) {
        self.toolbar_ui(ui, table, list, actions);
        style::legend_ui(ui);
        ui.separator();
        self.table_ui(ui, table, view, actions);
    }

    fn toolbar_ui(
        &mut self,
        ui: &mut egui::Ui,
        table: &TableModel,
        list: Option<&str>,
        actions: &mut Vec<Action>,
    ) {
        // Wrapped, not one row: in a narrow window (detail pane open) the buttons go onto a
        // second line instead of being cut off.
        ui.horizontal_wrapped(|ui| {
            let filter = ui.add(
                egui::TextEdit::singleline(&mut self.filter_text)
                    .id(filter_id())
                    .hint_text("Filter domains or providers (Ctrl+F)")
                    .desired_width(FILTER_WIDTH.min(ui.available_width().max(120.0))),
            );
            if self.focus_filter {
                filter.request_focus();
                self.focus_filter = false;
            }
            if filter.changed() {
                actions.push(Action::SetFilterText(self.filter_text.clone()));
            }
            let current = table.grade_filter();
            let counts = table.grade_counts();
            let mut chosen = current;
            egui::ComboBox::from_label("Verdict filter")
                .selected_text(match current {
                    Some(grade) => format!("{} {}", grade.icon(), grade.label()),
                    None => "All verdicts".to_string(),
                })
                .show_ui(ui, |ui| {
                    ui.selectable_value(
                        &mut chosen,
                        None,
                        format!("All verdicts ({})", table.total_len()),
                    );
                    for grade in Grade::ALL {
                        let count = counts.get(&grade).copied().unwrap_or(0);
                        ui.selectable_value(
                            &mut chosen,
                            Some(grade),
                            format!("{} {} ({count})", grade.icon(), grade.label()),
                        );
                    }
                });
            if chosen != current {
                actions.push(Action::SetGradeFilter(chosen));
            }
            self.expiry_filter_ui(ui, table, actions);
            provider_filter_ui(ui, table, actions);
            auth_filters_ui(ui, table, actions);
            let hidden = self.columns.hidden_count();
            let title = match hidden {
                0 => "Columns".to_string(),
                count => format!("Columns ({count} hidden)"),
            };
            // Stays open while boxes are ticked: several columns go in one visit.
            let (button, _) = egui::containers::menu::MenuButton::new(title)
                .config(
                    egui::containers::menu::MenuConfig::new()
                        .close_behavior(egui::PopupCloseBehavior::CloseOnClickOutside),
                )
                .ui(ui, |ui| columns_menu_ui(ui, &mut self.columns));
            button.on_hover_text("Show or hide table columns (or right-click a heading)");
            let selected = table.selected_count();
            ui.separator();
            ui.add(
                egui::Label::new(format!("{selected} selected"))
                    .wrap_mode(egui::TextWrapMode::Extend),
            );
            if ui
                .add_enabled(selected > 0, egui::Button::new("⟳ Rescan selected"))
                .clicked()
            {
                actions.push(Action::Scan(ScanTarget::Domains(table.selected_domains())));
            }
            if ui
                .add_enabled(selected > 0, egui::Button::new("🗑 Remove…"))
                .on_hover_text("Delete key")
                .clicked()
            {
                actions.push(Action::OpenDialog(DialogRequest::ConfirmRemove {
                    domains: table.selected_domains(),
                    list: list.map(str::to_string),
                }));
            }
        });
    }

    /// "Expires within N days": a checkbox and the number of days (the expiry warning window
    /// of Settings to begin with); expired certificates are included.
    fn expiry_filter_ui(
        &mut self,
        ui: &mut egui::Ui,
        table: &TableModel,
        actions: &mut Vec<Action>,
    ) {
        let current = table.expiry_filter();
        let mut on = current.is_some();
        let days = current.unwrap_or(self.expiry_days);
        // Straight into the wrapped toolbar (not a nested row), so it moves to the next line
        // as a whole instead of being cut at the window's edge.
        let toggled = ui
            .checkbox(&mut on, "Expires within")
            .on_hover_text(
                "Only domains whose certificate ends within this many days (expired ones too)",
            )
            .changed();
        let mut edited = days;
        let field = ui.add_enabled(
            on,
            egui::DragValue::new(&mut edited)
                .range(0..=3650)
                .suffix(" days"),
        );
        if field.changed() {
            self.expiry_days = edited;
        }
        if toggled || (on && edited != days) {
            actions.push(Action::SetExpiryFilter(on.then_some(edited)));
        }
    }

    fn table_ui(
        &mut self,
        ui: &mut egui::Ui,
        table: &TableModel,
        view: &ViewSnapshot,
        actions: &mut Vec<Action>,
    ) {
        let cells = CellContext {
            dark_mode: ui.visuals().dark_mode,
            warning_days: i64::from(view.settings.expiry_warning_days),
            now: time::OffsetDateTime::now_utc(),
        };
        let sort = table.sort();
        if table.is_rebuilding() {
            // The new order comes from a background thread: look again soon.
            ui.ctx()
                .request_repaint_after(std::time::Duration::from_millis(15));
        }
        let row_height = ui.text_style_height(&egui::TextStyle::Body) + 6.0;
        let mut heading_clicked = None;
        let mut row_clicked: Option<(usize, egui::Modifiers)> = None;
        // The mail volume column only where weights say something (a list with weights).
        let shown: Vec<SortColumn> = self
            .columns
            .shown()
            .into_iter()
            .filter(|&column| column != SortColumn::Weight || view.weighted)
            .collect();
        // Plain text in cells: a click anywhere on a row selects the row (selectable labels
        // would take the click for text selection).
        ui.style_mut().interaction.selectable_labels = false;
        let builder = TableBuilder::new(ui);
        // Widths are remembered per set of shown columns (egui keeps them by index).
        let mut builder = if self.columns.hidden_count() == 0 && !view.weighted {
            builder.id_salt("domains_table")
        } else {
            builder.id_salt(("domains_table", &shown))
        };
        builder = builder
            .striped(true)
            .resizable(true)
            .sense(egui::Sense::click())
            .cell_layout(egui::Layout::left_to_right(egui::Align::Center));
        for (index, &column) in shown.iter().enumerate() {
            builder = builder.column(column_spec(column, index + 1 == shown.len()));
        }
        if let Some(position) = self.scroll_to.take() {
            builder = builder.scroll_to_row(position, Some(egui::Align::Center));
        }
        let columns = &mut self.columns;
        builder
            .header(row_height + 2.0, |mut header| {
                let mut heading_row: Option<egui::Response> = None;
                for &column in &shown {
                    let (_, cell) = header.col(|ui| {
                        let arrow = match (sort.column == column, sort.ascending) {
                            (true, true) => " ⏶",
                            (true, false) => " ⏷",
                            (false, _) => "",
                        };
                        let response = ui.add(
                            egui::Button::new(
                                egui::RichText::new(format!("{}{arrow}", column.title())).strong(),
                            )
                            .frame(false),
                        );
                        let response = response.on_hover_text("Sort by this column");
                        if response.clicked() {
                            heading_clicked = Some(column);
                        }
                        heading_row = Some(match heading_row.take() {
                            Some(row) => row.union(response),
                            None => response,
                        });
                    });
                    heading_row = heading_row.map(|row| row.union(cell));
                }
                // Right-click on the heading row: the same menu as the Columns button.
                if let Some(row) = heading_row {
                    egui::Popup::context_menu(&row)
                        .close_behavior(egui::PopupCloseBehavior::CloseOnClickOutside)
                        .show(|ui| columns_menu_ui(ui, columns));
                }
            })
            .body(|body| {
                body.rows(row_height, table.visible_len(), |mut row| {
                    let position = row.index();
                    let Some(data) = table.visible_row(position) else {
                        return;
                    };
                    row.set_selected(table.is_selected(&data.domain));
                    let group = table.group_start(position);
                    for &column in &shown {
                        row.col(|ui| match (column, group) {
                            (SortColumn::Provider, Some((provider, size))) => {
                                ui.label(
                                    egui::RichText::new(format!("{provider} ({size})")).strong(),
                                )
                                .on_hover_text(format!("{size} domains of {provider} follow"));
                            }
                            (SortColumn::Weight, _) => weight_ui(ui, table, &data.domain),
                            _ => cells.cell_ui(ui, column, &data),
                        });
                    }
                    if row.response().clicked() {
                        row_clicked = Some((position, row.response().ctx.input(|i| i.modifiers)));
                    }
                });
            });
        if let Some(column) = heading_clicked {
            actions.push(Action::SortBy(column));
        }
        if let Some((position, modifiers)) = row_clicked {
            actions.push(Action::ClickRow {
                position,
                toggle: modifiers.command,
                extend: modifiers.shift,
            });
        }
    }
}

/// A domain's weight and its share of the list's mail: `1 200 000 · 62.0 %`.
fn weight_ui(ui: &mut egui::Ui, table: &TableModel, domain: &crate::model::DomainName) {
    let weight = table.weight_of(domain);
    let text = match table.mail_share(domain) {
        Some(share) => format!("{weight} · {share:.1} %"),
        None => weight.to_string(),
    };
    ui.label(text)
        .on_hover_text("Weight in this list (mail volume) and its share of the list's mail");
}

/// The provider filter (providers largest first, with their counts) and "Group by provider".
fn provider_filter_ui(ui: &mut egui::Ui, table: &TableModel, actions: &mut Vec<Action>) {
    let current = table.provider_filter().map(str::to_string);
    let mut chosen = current.clone();
    egui::ComboBox::from_label("Mail provider")
        .selected_text(current.as_deref().unwrap_or("All providers"))
        .height(320.0)
        .show_ui(ui, |ui| {
            ui.selectable_value(&mut chosen, None, "All providers");
            for (provider, count) in table.provider_counts() {
                ui.selectable_value(
                    &mut chosen,
                    Some(provider.clone()),
                    format!("{provider} ({count})"),
                );
            }
        });
    if chosen != current {
        actions.push(Action::SetProviderFilter(chosen));
    }
    let mut group = table.group_by_provider();
    if ui
        .checkbox(&mut group, "Group by provider")
        .on_hover_text("Rows of one mail provider together, the largest provider first")
        .changed()
    {
        actions.push(Action::SetGroupByProvider(group));
    }
}

/// The DANE and MTA-STS filter menus: each value in words with its row count ("not looked
/// up" for results without the facts).
fn auth_filters_ui(ui: &mut egui::Ui, table: &TableModel, actions: &mut Vec<Action>) {
    let current = table.dane_filter();
    let mut chosen = current;
    egui::ComboBox::from_label("DANE")
        .selected_text(current.map_or("All DANE", |dane| dane_word(dane)))
        .show_ui(ui, |ui| {
            ui.selectable_value(&mut chosen, None, "All DANE");
            for (dane, count) in table.dane_counts().filter(|(_, count)| *count > 0) {
                ui.selectable_value(
                    &mut chosen,
                    Some(dane),
                    format!("{} ({count})", dane_word(dane)),
                );
            }
        });
    if chosen != current {
        actions.push(Action::SetDaneFilter(chosen));
    }
    let current = table.mta_sts_filter();
    let mut chosen = current;
    egui::ComboBox::from_label("MTA-STS")
        .selected_text(current.map_or("All MTA-STS", |outcome| mta_sts_word(outcome)))
        .show_ui(ui, |ui| {
            ui.selectable_value(&mut chosen, None, "All MTA-STS");
            for (outcome, count) in table.mta_sts_counts().filter(|(_, count)| *count > 0) {
                ui.selectable_value(
                    &mut chosen,
                    Some(outcome),
                    format!("{} ({count})", mta_sts_word(outcome)),
                );
            }
        });
    if chosen != current {
        actions.push(Action::SetMtaStsFilter(chosen));
    }
}

/// What a result without the fact says in the DANE and MTA-STS columns.
const NOT_LOOKED_UP: &str = "not looked up";

/// A DANE value in words (`not looked up` without one).
fn dane_word(dane: Option<DaneSetStatus>) -> &'static str {
    dane.map_or(NOT_LOOKED_UP, DaneSetStatus::label)
}

/// An MTA-STS outcome in words (`not looked up` without one).
fn mta_sts_word(outcome: Option<MtaStsOutcome>) -> &'static str {
    outcome.map_or(NOT_LOOKED_UP, MtaStsOutcome::label)
}

/// Width and limits of `column`; the last column shown takes what is left.
fn column_spec(column: SortColumn, last: bool) -> Column {
    let (initial, at_least) = match column {
        SortColumn::Domain => (210.0, 120.0),
        SortColumn::Verdict => (200.0, 80.0),
        SortColumn::Starttls => (78.0, 50.0),
        SortColumn::Pfs | SortColumn::Strict => (62.0, 40.0),
        SortColumn::TlsVersion => (64.0, 40.0),
        SortColumn::CertExpiry => (96.0, 60.0),
        SortColumn::Provider => (130.0, 60.0),
        SortColumn::MxCount => (36.0, 30.0),
        SortColumn::LastProbed | SortColumn::LastChange => (122.0, 60.0),
        SortColumn::Weight => (130.0, 60.0),
        SortColumn::Dane => (90.0, 50.0),
        SortColumn::MtaSts => (150.0, 60.0),
    };
    let spec = if last {
        Column::remainder()
    } else {
        Column::initial(initial)
    };
    let clip = matches!(column, SortColumn::Domain | SortColumn::Provider);
    spec.at_least(at_least).clip(clip)
}

/// The Columns menu (the toolbar button and a right-click on the headings): a checkbox per
/// column; Domain is always shown.
fn columns_menu_ui(ui: &mut egui::Ui, columns: &mut HiddenColumns) {
    for column in SortColumn::ALL {
        let mut shown = columns.is_shown(column);
        let enabled = column != SortColumn::Domain;
        let checkbox = ui.add_enabled(enabled, egui::Checkbox::new(&mut shown, column.title()));
        if checkbox.changed() {
            columns.set_shown(column, shown);
        }
    }
    if columns.hidden_count() > 0 {
        ui.separator();
        let show_all = egui::Button::new("Show all columns").wrap_mode(egui::TextWrapMode::Extend);
        if ui.add(show_all).clicked() {
            *columns = HiddenColumns::default();
        }
    }
}

/// What every cell needs besides its row.
struct CellContext {
    dark_mode: bool,
    warning_days: i64,
    now: time::OffsetDateTime,
}

impl CellContext {
    /// Draws `column`'s cell of `data`.
    fn cell_ui(&self, ui: &mut egui::Ui, column: SortColumn, data: &LatestRow) {
        let dark_mode = self.dark_mode;
        match column {
            SortColumn::Domain => {
                let shown = data.domain.display_name();
                let label = ui.label(shown.as_ref());
                if shown != data.domain.as_str() {
                    label.on_hover_text(data.domain.as_str());
                }
            }
            SortColumn::Verdict => {
                let grade = Grade::of_row(data);
                let badge = ui.label(grade.badge(dark_mode));
                match &data.stale {
                    Some(stale) => {
                        let text =
                            describe_stale(stale.since, &stale.why, grade, stale.last_known_at);
                        badge.on_hover_text(&text);
                        ui.label(stale_mark(dark_mode)).on_hover_text(text);
                    }
                    None => {
                        badge.on_hover_text(grade.meaning());
                    }
                }
                if data.auth.authenticated() {
                    ui.label(style::authenticated_badge(dark_mode))
                        .on_hover_text(crate::model::words::AUTHENTICATED_MEANING);
                }
            }
            SortColumn::Starttls => {
                ui.label(style::flag(data.starttls, dark_mode));
            }
            SortColumn::Pfs => {
                ui.label(style::tls_flag(data.pfs, data.verdict, dark_mode));
            }
            SortColumn::Strict => {
                ui.label(style::tls_flag(data.strict_valid, data.verdict, dark_mode));
            }
            SortColumn::TlsVersion => {
                ui.label(data.tls_version.as_deref().unwrap_or("–"));
            }
            SortColumn::CertExpiry => match data.cert_not_after {
                Some(not_after) => {
                    let days_left = (not_after - self.now).whole_days();
                    let text = egui::RichText::new(format_date(not_after));
                    let text = match style::days_left_color(days_left, self.warning_days, dark_mode)
                    {
                        Some(color) => text.color(color),
                        None => text,
                    };
                    ui.label(text).on_hover_text(if days_left < 0 {
                        format!("expired {} days ago", -days_left)
                    } else {
                        format!("{days_left} days left")
                    });
                }
                None => {
                    ui.label("–");
                }
            },
            SortColumn::Provider => {
                ui.label(data.provider.as_deref().unwrap_or("–"));
            }
            SortColumn::MxCount => {
                ui.label(data.mx_count.to_string());
            }
            SortColumn::LastProbed => {
                ui.label(data.last_probed.map_or_else(|| "never".into(), format_time));
            }
            SortColumn::LastChange => {
                ui.label(data.state_since.map_or_else(|| "–".into(), format_time));
            }
            SortColumn::Dane => {
                let text = egui::RichText::new(dane_word(data.auth.dane));
                match data.auth.dane {
                    Some(dane) => {
                        ui.label(text.color(dane.grade().color(dark_mode)))
                            .on_hover_text(dane.meaning());
                    }
                    None => {
                        ui.label(text.color(Grade::NotProbed.color(dark_mode)));
                    }
                }
            }
            SortColumn::MtaSts => {
                let text = egui::RichText::new(mta_sts_word(data.auth.mta_sts));
                match data.auth.mta_sts {
                    Some(outcome) => {
                        ui.label(text.color(outcome.grade().color(dark_mode)))
                            .on_hover_text(outcome.meaning());
                    }
                    None => {
                        ui.label(text.color(Grade::NotProbed.color(dark_mode)));
                    }
                }
            }
            // Drawn by `weight_ui`: the weight lives in the table model, not in the row.
            SortColumn::Weight => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stale_verdict_says_since_when_why_and_what_was_known() {
        let since = time::macros::datetime!(2026-01-10 02:35 UTC);
        let text = describe_stale(
            since,
            "DNS timeout",
            Grade::Secure,
            since - time::Duration::hours(2),
        );
        assert_eq!(
            text,
            "untestable since 2026-01-10 02:35: DNS timeout; last known: secure, 2 h 0 min earlier"
        );
    }
}
