//! What a file dropped onto the window does, decided from what is open (pure: the app applies
//! the plan). A domain list (`.csv`, `.tsv`, `.txt`) opens the import preview; with the export
//! dialog open, a dropped folder or file is where the report goes (confirmed in the path
//! prompt); a certificate (`.pem`, `.crt`, `.cer`) becomes the Settings tab's extra CA file (to
//! save there); with the path prompt open, the path goes into its field. One file at a time.
//!
//! Owns: those rules and their words (also shown while a file hovers over the window). Must
//! not touch: the file itself, or any state.

use std::path::{Path, PathBuf};

use eframe::egui;

use super::file_pick::FilePurpose;

/// What is open when a file is dropped.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DropContext {
    /// The typed path prompt is open.
    pub prompt_open: bool,
    /// The export dialog is open.
    pub export_open: bool,
    /// Another modal dialog than import or export is open.
    pub other_dialog_open: bool,
}

/// What to do with a dropped file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DropPlan {
    /// Type the path into the open prompt.
    FillPrompt(PathBuf),
    /// Confirm saving the report there (a folder: in it) in the path prompt.
    ExportTo(PathBuf),
    /// Open the import preview of the file.
    Import(PathBuf),
    /// Put the file in the Settings tab's extra CA file field (saved with Save settings).
    CaFile(PathBuf),
    /// Nothing: why, in words.
    Refuse(String),
}

/// Whether `path` has one of `extensions` (any case).
fn has_extension(path: &Path, extensions: &[&str]) -> bool {
    path.extension()
        .and_then(|extension| extension.to_str())
        .is_some_and(|extension| {
            extensions
                .iter()
                .any(|wanted| extension.eq_ignore_ascii_case(wanted))
        })
}

/// The file's name for messages.
fn name_of(path: &Path) -> String {
    path.file_name().map_or_else(
        || path.display().to_string(),
        |name| name.to_string_lossy().into_owned(),
    )
}

/// What dropping `path` does in `context`.
pub fn plan(path: &Path, context: DropContext) -> DropPlan {
    if context.prompt_open {
        return DropPlan::FillPrompt(path.to_path_buf());
    }
    if context.export_open {
        return DropPlan::ExportTo(path.to_path_buf());
    }
    if context.other_dialog_open {
        return DropPlan::Refuse(format!(
            "'{}' was not used: close the open dialog first, then drop the file again",
            name_of(path)
        ));
    }
    if has_extension(path, FilePurpose::ImportCsv.extensions()) {
        return DropPlan::Import(path.to_path_buf());
    }
    if has_extension(path, FilePurpose::SettingsCaFile.extensions()) {
        return DropPlan::CaFile(path.to_path_buf());
    }
    DropPlan::Refuse(format!(
        "'{}' was not used: drop a .csv, .tsv or .txt file to import its domains, or a .pem \
         certificate to trust its CA",
        name_of(path)
    ))
}

impl DropPlan {
    /// What dropping will do, for the overlay shown while a file hovers over the window.
    pub fn describe(&self) -> String {
        match self {
            DropPlan::FillPrompt(path) => format!("Drop to use {}", name_of(path)),
            DropPlan::ExportTo(path) => format!("Drop to save the report at {}", name_of(path)),
            DropPlan::Import(path) => format!("Drop to import the domains in {}", name_of(path)),
            DropPlan::CaFile(path) => {
                format!("Drop to use {} as the extra trusted CA file", name_of(path))
            }
            DropPlan::Refuse(why) => why.clone(),
        }
    }
}

/// Reads this frame's file drops: while a file hovers over the window, says over everything
/// what dropping it does; once files are dropped, the plan for the first one and how many more
/// were left alone (one at a time).
pub fn dropped_ui(ctx: &egui::Context, context: DropContext) -> Option<(DropPlan, usize)> {
    let (hovered, dropped) = ctx.input(|input| {
        let hovered = input
            .raw
            .hovered_files
            .iter()
            .find_map(|file| file.path.clone());
        let dropped: Vec<PathBuf> = input
            .raw
            .dropped_files
            .iter()
            .map(|file| file.path().to_path_buf())
            .collect();
        (hovered, dropped)
    });
    if let Some(path) = hovered {
        hover_ui(ctx, &plan(&path, context).describe());
    }
    let first = dropped.first()?;
    Some((plan(first, context), dropped.len() - 1))
}

/// A veil over the window with what dropping the hovering file does.
fn hover_ui(ctx: &egui::Context, text: &str) {
    let layer = egui::LayerId::new(egui::Order::Foreground, egui::Id::unique("file_drop_hover"));
    let painter = ctx.layer_painter(layer);
    let screen = ctx.content_rect();
    painter.rect_filled(screen, 0.0, egui::Color32::from_black_alpha(170));
    painter.text(
        screen.center(),
        egui::Align2::CENTER_CENTER,
        text,
        egui::FontId::proportional(22.0),
        egui::Color32::WHITE,
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_domain_list_imports_a_certificate_is_a_ca_file_and_anything_else_is_refused() {
        let none = DropContext::default();
        let csv = Path::new("/tmp/Customers.CSV");
        assert_eq!(plan(csv, none), DropPlan::Import(csv.to_path_buf()));
        let txt = Path::new("/tmp/domains.txt");
        assert_eq!(plan(txt, none), DropPlan::Import(txt.to_path_buf()));
        let pem = Path::new("/tmp/lab-ca.pem");
        assert_eq!(plan(pem, none), DropPlan::CaFile(pem.to_path_buf()));
        let DropPlan::Refuse(why) = plan(Path::new("/tmp/photo.jpg"), none) else {
            panic!("a photo is not imported");
        };
        assert!(
            why.starts_with("'photo.jpg' was not used: drop a .csv"),
            "{why}"
        );
    }

    #[test]
    fn what_is_open_decides_first() {
        let csv = Path::new("/tmp/customers.csv");
        let prompt = DropContext {
            prompt_open: true,
            export_open: true,
            ..DropContext::default()
        };
        assert_eq!(plan(csv, prompt), DropPlan::FillPrompt(csv.to_path_buf()));
        let export = DropContext {
            export_open: true,
            ..DropContext::default()
        };
        let folder = Path::new("/home/me/reports");
        assert_eq!(
            plan(folder, export),
            DropPlan::ExportTo(folder.to_path_buf())
        );
        let other = DropContext {
            other_dialog_open: true,
            ..DropContext::default()
        };
        assert!(
            matches!(plan(csv, other), DropPlan::Refuse(why) if why.contains("close the open dialog"))
        );
        assert_eq!(
            plan(csv, DropContext::default()).describe(),
            "Drop to import the domains in customers.csv"
        );
    }
}
