//! Native file dialogs, run on a helper thread so the UI never waits for them; each carries
//! the purpose it was opened for, so its answer goes back to the panel that asked.
//!
//! Owns: the dialog thread and what each purpose asks for (title, filters, open or save).
//! Must not touch: the files themselves — the chosen path is handed on, never opened here.

use std::path::PathBuf;
use std::sync::mpsc;

use eframe::egui;

/// What a native file dialog is picking, and so which panel gets the answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FilePurpose {
    /// A CSV file to import (the import dialog).
    ImportCsv,
    /// Where to save a report (the export dialog).
    ExportReport,
    /// An extra trusted CA file (the Settings tab).
    SettingsCaFile,
}

impl FilePurpose {
    /// The dialog's title.
    fn title(self) -> &'static str {
        match self {
            FilePurpose::ImportCsv => "Import domains from a CSV file",
            FilePurpose::ExportReport => "Save the report",
            FilePurpose::SettingsCaFile => "Extra trusted CA certificates (PEM)",
        }
    }

    /// The file type filters of an "open" dialog.
    fn filters(self) -> &'static [(&'static str, &'static [&'static str])] {
        match self {
            FilePurpose::ImportCsv => &[
                ("CSV and text files", &["csv", "tsv", "txt"]),
                ("All files", &["*"]),
            ],
            FilePurpose::ExportReport => &[],
            FilePurpose::SettingsCaFile => &[("PEM certificates", &["pem", "crt", "cer"])],
        }
    }

    /// Whether the dialog asks where to save (else which file to open).
    fn saves(self) -> bool {
        self == FilePurpose::ExportReport
    }
}

/// A native file dialog running on its own thread; polled each frame.
pub struct FilePick {
    purpose: FilePurpose,
    receiver: mpsc::Receiver<Option<PathBuf>>,
}

impl FilePick {
    /// Opens the dialog `purpose` needs without blocking the caller; a "save as" dialog
    /// suggests `file_name`. `ctx` is woken when the dialog closes.
    pub fn start(
        purpose: FilePurpose,
        file_name: Option<&str>,
        ctx: Option<egui::Context>,
    ) -> Self {
        let mut dialog = rfd::FileDialog::new().set_title(purpose.title());
        if purpose.saves() {
            if let Some(file_name) = file_name {
                dialog = dialog.set_file_name(file_name);
            }
            Self::run(purpose, ctx, move || dialog.save_file())
        } else {
            for (name, extensions) in purpose.filters() {
                dialog = dialog.add_filter(*name, extensions);
            }
            Self::run(purpose, ctx, move || dialog.pick_file())
        }
    }

    fn run(
        purpose: FilePurpose,
        ctx: Option<egui::Context>,
        show: impl FnOnce() -> Option<PathBuf> + Send + 'static,
    ) -> Self {
        let (sender, receiver) = mpsc::channel();
        std::thread::spawn(move || {
            let _ignored = sender.send(show());
            if let Some(ctx) = ctx {
                ctx.request_repaint();
            }
        });
        Self { purpose, receiver }
    }

    /// What the dialog was opened for.
    pub fn purpose(&self) -> FilePurpose {
        self.purpose
    }

    /// The chosen path once the dialog closed: `Some(Some(path))`, `Some(None)` when
    /// cancelled, None while still open.
    pub fn poll(&self) -> Option<Option<PathBuf>> {
        match self.receiver.try_recv() {
            Ok(choice) => Some(choice),
            Err(mpsc::TryRecvError::Empty) => None,
            Err(mpsc::TryRecvError::Disconnected) => Some(None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_report_is_saved_and_each_open_dialog_filters_its_files() {
        assert!(FilePurpose::ExportReport.saves());
        assert!(!FilePurpose::ImportCsv.saves());
        assert!(!FilePurpose::SettingsCaFile.saves());
        assert_eq!(
            FilePurpose::SettingsCaFile.filters()[0].1,
            ["pem", "crt", "cer"]
        );
        assert_eq!(FilePurpose::ImportCsv.filters().len(), 2);
    }

    #[test]
    fn a_pick_reports_its_answer_once_the_thread_is_done() {
        let pick = FilePick::run(FilePurpose::ImportCsv, None, || {
            Some(PathBuf::from("/tmp/customers.csv"))
        });
        assert_eq!(pick.purpose(), FilePurpose::ImportCsv);
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        let choice = loop {
            if let Some(choice) = pick.poll() {
                break choice;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "the thread never answered"
            );
            std::thread::sleep(std::time::Duration::from_millis(5));
        };
        assert_eq!(choice, Some(PathBuf::from("/tmp/customers.csv")));
    }
}
