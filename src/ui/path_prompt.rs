//! The typed path prompt: where no native file dialog can open, a modal window says so (and
//! what to install), and takes the path typed or dropped, with completion from the directory
//! typed so far. It also confirms where to save a report when a folder or file is dropped on the
//! export dialog.
//!
//! Owns: the prompt's text, and listing the directory of what is typed — one `read_dir` on a
//! helper thread each time the directory part changes, never in a frame; the frame only filters
//! the listing it has. Must not touch: the chosen file (the answer is a path, handed on like a
//! native dialog's).

use std::path::{Path, PathBuf};
use std::sync::mpsc;

use eframe::egui;

use super::file_pick::{FilePurpose, INSTALL_HINT};
use super::style::Grade;
use super::style::GradeLook as _;

/// At most this many entries of one directory are listed (a larger one completes from these).
pub const MAX_LISTED: usize = 20_000;

/// At most this many suggestions show under the field.
const MAX_SUGGESTIONS: usize = 200;

/// One entry of a listed directory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    pub name: String,
    pub is_dir: bool,
}

/// A directory's entries (folders first, then by name), or why it could not be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Listing {
    /// The directory part of the text it was read for, as typed (`/home/me/`, `~/`, ``).
    pub dir: String,
    pub entries: Result<Vec<Entry>, String>,
    /// More than [`MAX_LISTED`] entries: the rest were left out.
    pub truncated: bool,
}

/// Reads `dir` (as typed: `~` is the home folder, empty the current folder). I/O: call it on a
/// helper thread.
pub fn read_listing(dir: &str) -> Listing {
    let path = match expand(dir) {
        path if path.as_os_str().is_empty() => PathBuf::from("."),
        path => path,
    };
    let mut truncated = false;
    let entries = std::fs::read_dir(&path)
        .map_err(|error| error.to_string())
        .map(|read| {
            let mut entries = Vec::new();
            for entry in read.flatten() {
                if entries.len() == MAX_LISTED {
                    truncated = true;
                    break;
                }
                // A name that is not UTF-8 cannot be typed back; it is left out.
                let Ok(name) = entry.file_name().into_string() else {
                    continue;
                };
                let is_dir = match entry.file_type() {
                    Ok(kind) if kind.is_symlink() => entry.path().is_dir(),
                    Ok(kind) => kind.is_dir(),
                    Err(_) => false,
                };
                entries.push(Entry { name, is_dir });
            }
            entries.sort_by(|a, b| {
                b.is_dir
                    .cmp(&a.is_dir)
                    .then_with(|| a.name.to_lowercase().cmp(&b.name.to_lowercase()))
            });
            entries
        });
    Listing {
        dir: dir.to_string(),
        entries,
        truncated,
    }
}

/// The directory part of typed text, up to and including its last `/` (empty: none).
pub fn dir_part(text: &str) -> &str {
    text.rfind('/').map_or("", |slash| &text[..=slash])
}

/// The name part of typed text, after its last `/`.
pub fn name_part(text: &str) -> &str {
    text.rfind('/').map_or(text, |slash| &text[slash + 1..])
}

/// The home folder, from the environment (no I/O).
fn home() -> Option<PathBuf> {
    directories::BaseDirs::new().map(|dirs| dirs.home_dir().to_path_buf())
}

/// Typed text as a path: a leading `~` is the home folder.
pub fn expand(text: &str) -> PathBuf {
    match (text.strip_prefix('~'), home()) {
        (Some(rest), Some(home)) if rest.is_empty() || rest.starts_with('/') => {
            home.join(rest.trim_start_matches('/'))
        }
        _ => PathBuf::from(text),
    }
}

/// What `listing` says about the typed name, for the line under the field.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Found {
    /// The directory is still being read.
    Reading,
    /// The directory could not be read.
    Unreadable(String),
    /// Nothing typed after the last `/`.
    NoName,
    /// The name is a folder in the directory.
    Folder,
    /// The name is a file in the directory.
    File,
    /// No such entry (yet): a new file, or a typo.
    Missing,
}

/// Looks the typed `text` up in `listing` (no I/O).
pub fn find(listing: Option<&Listing>, text: &str) -> Found {
    let Some(listing) = listing.filter(|listing| listing.dir == dir_part(text)) else {
        return Found::Reading;
    };
    let entries = match &listing.entries {
        Ok(entries) => entries,
        Err(error) => return Found::Unreadable(error.clone()),
    };
    let name = name_part(text);
    if name.is_empty() {
        return Found::NoName;
    }
    match entries.iter().find(|entry| entry.name == name) {
        Some(entry) if entry.is_dir => Found::Folder,
        Some(_) => Found::File,
        None => Found::Missing,
    }
}

/// The completions of the typed name from `listing`: folders (with a `/` to go on) and the
/// files `purpose` picks whose names start with it (any case); hidden entries only when the
/// name starts with a dot. A file typed in full has none, so that Enter takes it rather than a
/// longer name (`a.csv`, not `a.csv.bak`).
pub fn suggestions(listing: &Listing, name: &str, purpose: FilePurpose) -> Vec<Entry> {
    let Ok(entries) = &listing.entries else {
        return Vec::new();
    };
    if entries
        .iter()
        .any(|entry| !entry.is_dir && entry.name == name)
    {
        return Vec::new();
    }
    let typed = name.to_lowercase();
    let extensions = purpose.extensions();
    entries
        .iter()
        .filter(|entry| name.starts_with('.') || !entry.name.starts_with('.'))
        .filter(|entry| entry.name.to_lowercase().starts_with(&typed))
        .filter(|entry| {
            entry.is_dir
                || extensions.is_empty()
                || Path::new(&entry.name)
                    .extension()
                    .and_then(|extension| extension.to_str())
                    .is_some_and(|extension| {
                        extensions
                            .iter()
                            .any(|wanted| extension.eq_ignore_ascii_case(wanted))
                    })
        })
        .take(MAX_SUGGESTIONS)
        .cloned()
        .collect()
}

/// The directory listing the prompt completes from, read on a helper thread.
#[derive(Default)]
struct Completion {
    /// The last listing that arrived.
    listing: Option<Listing>,
    /// The directory part being read, and where its listing will arrive.
    reading: Option<(String, mpsc::Receiver<Listing>)>,
}

impl Completion {
    /// Takes a listing that arrived, and starts reading `dir` when neither the listing nor the
    /// read under way is for it. `ctx` is woken when the read is done.
    fn follow(&mut self, dir: &str, ctx: &egui::Context) {
        if let Some((_, receiver)) = &self.reading
            && let Ok(listing) = receiver.try_recv()
        {
            self.listing = Some(listing);
            self.reading = None;
        }
        let listed = self.listing.as_ref().is_some_and(|l| l.dir == dir);
        let being_read = self.reading.as_ref().is_some_and(|(d, _)| d == dir);
        if listed || being_read {
            return;
        }
        let (sender, receiver) = mpsc::channel();
        let wanted = dir.to_string();
        let ctx = ctx.clone();
        std::thread::spawn(move || {
            let _ignored = sender.send(read_listing(&wanted));
            ctx.request_repaint();
        });
        self.reading = Some((dir.to_string(), receiver));
    }
}

/// The typed path prompt (a modal window).
pub struct PathPrompt {
    purpose: FilePurpose,
    /// Why no native dialog opened (None: opened to confirm a dropped path).
    notice: Option<String>,
    /// The name a saved report gets in a folder.
    file_name: Option<String>,
    text: String,
    /// A folder dropped while saving: once the listing says it is one, the file name is added.
    dropped_for_saving: bool,
    completion: Completion,
    focused: bool,
    /// Whether the window gets file drops (not on native Wayland: winit 0.30 does not deliver them).
    drops_arrive: bool,
}

/// Whether files dropped on the window reach the app: winit 0.30 delivers no drops on native
/// Wayland (egui#1563, winit#1881), which eframe uses whenever `WAYLAND_DISPLAY` is set.
fn drops_arrive() -> bool {
    std::env::var_os("WAYLAND_DISPLAY").is_none_or(|display| display.is_empty())
}

impl PathPrompt {
    /// A prompt for `purpose`, saying `notice` (why no native dialog opened); it starts in the
    /// home folder, with `file_name` when saving.
    pub fn new(purpose: FilePurpose, notice: Option<String>, file_name: Option<String>) -> Self {
        let mut text = home().map_or_else(String::new, |home| {
            let home = home.display().to_string();
            if home.ends_with('/') {
                home
            } else {
                format!("{home}/")
            }
        });
        if purpose.saves()
            && let Some(file_name) = &file_name
        {
            text.push_str(file_name);
        }
        Self {
            purpose,
            notice,
            file_name,
            text,
            dropped_for_saving: false,
            completion: Completion::default(),
            focused: false,
            drops_arrive: drops_arrive(),
        }
    }

    /// What the prompt is choosing for.
    pub fn purpose(&self) -> FilePurpose {
        self.purpose
    }

    /// The text typed so far.
    #[cfg(test)]
    pub fn text(&self) -> &str {
        &self.text
    }

    /// Puts a dropped file's path in the field (a dropped folder, when saving, gets the
    /// report's file name once the listing confirms it is a folder).
    pub fn dropped(&mut self, path: &Path) {
        self.text = path.display().to_string();
        self.dropped_for_saving = self.purpose.saves() && self.file_name.is_some();
        self.focused = false;
    }

    /// Draws the prompt as a modal window: `Some(Some(path))` when confirmed, `Some(None)` when
    /// cancelled, None while open.
    pub fn ui(&mut self, ctx: &egui::Context) -> Option<Option<PathBuf>> {
        let mut answer = None;
        let response = egui::Modal::new(egui::Id::unique("path_prompt")).show(ctx, |ui| {
            ui.set_max_width(560.0);
            answer = self.body_ui(ui);
        });
        if answer.is_none() && response.should_close() {
            answer = Some(None);
        }
        answer
    }

    fn body_ui(&mut self, ui: &mut egui::Ui) -> Option<Option<PathBuf>> {
        let dark_mode = ui.visuals().dark_mode;
        let saves = self.purpose.saves();
        self.completion.follow(dir_part(&self.text), ui.ctx());
        if self.dropped_for_saving
            && let Some(file_name) = self.file_name.clone()
        {
            match find(self.completion.listing.as_ref(), &self.text) {
                Found::Reading => {}
                Found::Folder => {
                    self.text = format!("{}/{file_name}", self.text);
                    self.dropped_for_saving = false;
                    self.completion.follow(dir_part(&self.text), ui.ctx());
                }
                _ => self.dropped_for_saving = false,
            }
        }

        ui.heading(self.purpose.title());
        if let Some(why) = &self.notice {
            ui.label(
                egui::RichText::new(format!("⚠ No file dialog could open: {why}."))
                    .color(Grade::Encrypted.color(dark_mode)),
            );
            ui.label(INSTALL_HINT);
        }
        ui.label(match (saves, self.drops_arrive) {
            (true, true) => {
                "Type where to save it (Tab completes), or drop a folder onto the window."
            }
            (true, false) => "Type where to save it (Tab completes).",
            (false, true) => {
                "Type the file's path (Tab completes), or drop the file onto the window."
            }
            (false, false) => "Type the file's path (Tab completes).",
        });
        ui.add_space(4.0);

        let purpose = self.purpose;
        let listing = self.completion.listing.clone();
        let mut confirm = false;
        ui.horizontal(|ui| {
            let label = ui.label("Path");
            let output = egui::CompletionPopup::new(ui.make_persistent_id("path_prompt_field"))
                .word_boundary(|c| c == '/')
                .show(
                    ui,
                    egui::TextEdit::singleline(&mut self.text)
                        .hint_text("/home/you/domains.csv")
                        .desired_width(460.0),
                    |query| {
                        let Some(listing) = listing
                            .as_ref()
                            .filter(|listing| listing.dir == dir_part(query.text))
                        else {
                            return Vec::new();
                        };
                        suggestions(listing, query.word, purpose)
                            .into_iter()
                            .map(|entry| {
                                if entry.is_dir {
                                    egui::Suggestion::new(format!("{}/", entry.name))
                                        .description("folder")
                                } else {
                                    egui::Suggestion::new(entry.name)
                                }
                            })
                            .collect()
                    },
                );
            let response = output.text_edit.response.response.labelled_by(label.id);
            if !self.focused {
                response.request_focus();
                self.focused = true;
            }
            if output.accepted.is_none()
                && !output.is_open
                && response.lost_focus()
                && ui.input(|input| input.key_pressed(egui::Key::Enter))
            {
                confirm = true;
            }
        });

        let found = find(self.completion.listing.as_ref(), &self.text);
        let dir = dir_part(&self.text);
        let shown_dir = if dir.is_empty() { "this folder" } else { dir };
        let name = name_part(&self.text).to_string();
        let (line, warn) = match &found {
            Found::Reading => (format!("reading {shown_dir}…"), false),
            Found::Unreadable(error) => (format!("cannot read {shown_dir}: {error}"), true),
            Found::NoName if saves => ("type a file name".to_string(), false),
            Found::NoName => ("type or choose a file".to_string(), false),
            Found::Folder => (format!("'{name}' is a folder"), true),
            Found::File if saves => (format!("'{name}' exists and will be replaced"), true),
            Found::File => (format!("✔ {name}"), false),
            Found::Missing if saves => (format!("a new file in {shown_dir}"), false),
            Found::Missing => (format!("there is no file '{name}' in {shown_dir}"), true),
        };
        let listing = self.completion.listing.as_ref();
        let truncated = listing.is_some_and(|listing| listing.dir == dir && listing.truncated);
        let line = if truncated {
            format!("{line} (only the first {MAX_LISTED} entries of the folder are listed)")
        } else {
            line
        };
        let color = if warn {
            Grade::Encrypted.color(dark_mode)
        } else {
            ui.visuals().weak_text_color()
        };
        ui.label(egui::RichText::new(line).color(color));

        let usable = !name.is_empty() && found != Found::Folder;
        let mut answer = None;
        ui.horizontal(|ui| {
            let label = if saves { "Save" } else { "Open" };
            let clicked = ui.add_enabled(usable, egui::Button::new(label)).clicked();
            if usable && (clicked || confirm) {
                answer = Some(Some(expand(self.text.trim_end())));
            }
            if ui.button("Cancel").clicked() {
                answer = Some(None);
            }
        });
        answer
    }
}

#[cfg(test)]
mod tests {
    use egui_kittest::Harness;
    use egui_kittest::kittest::Queryable;

    use super::*;

    fn listing(dir: &str, entries: &[(&str, bool)]) -> Listing {
        Listing {
            dir: dir.to_string(),
            entries: Ok(entries
                .iter()
                .map(|(name, is_dir)| Entry {
                    name: name.to_string(),
                    is_dir: *is_dir,
                })
                .collect()),
            truncated: false,
        }
    }

    #[test]
    fn typed_text_splits_at_the_last_slash_and_tilde_is_home() {
        assert_eq!(dir_part("/home/me/cust"), "/home/me/");
        assert_eq!(name_part("/home/me/cust"), "cust");
        assert_eq!(dir_part("cust.csv"), "");
        assert_eq!(name_part("/home/me/"), "");
        assert_eq!(expand("/tmp/a.csv"), PathBuf::from("/tmp/a.csv"));
        if let Some(home) = home() {
            assert_eq!(expand("~/a.csv"), home.join("a.csv"));
            assert_eq!(expand("~"), home);
        }
        assert_eq!(expand("~other/a"), PathBuf::from("~other/a"));
    }

    #[test]
    fn suggestions_complete_folders_and_the_files_of_the_purpose() {
        let here = listing(
            "/data/",
            &[
                ("customers", true),
                (".cache", true),
                ("Customers.csv", false),
                ("customers.pem", false),
                ("notes.txt", false),
            ],
        );
        let names = |name: &str, purpose| -> Vec<String> {
            suggestions(&here, name, purpose)
                .into_iter()
                .map(|entry| entry.name)
                .collect()
        };
        assert_eq!(
            names("cu", FilePurpose::ImportCsv),
            ["customers", "Customers.csv"]
        );
        assert_eq!(
            names("cu", FilePurpose::SettingsCaFile),
            ["customers", "customers.pem"]
        );
        assert_eq!(
            names("cu", FilePurpose::ExportReport),
            ["customers", "Customers.csv", "customers.pem"],
            "saving lists every file"
        );
        assert_eq!(names("", FilePurpose::ImportCsv).len(), 3, "no hidden ones");
        assert_eq!(names(".", FilePurpose::ImportCsv), [".cache"]);
        assert!(
            names("notes.txt", FilePurpose::ImportCsv).is_empty(),
            "a name typed in full"
        );
        let longer = listing("/data/", &[("a.csv", false), ("a.csv.bak.csv", false)]);
        assert!(
            suggestions(&longer, "a.csv", FilePurpose::ImportCsv).is_empty(),
            "Enter takes the file typed, not a longer one"
        );
        assert_eq!(suggestions(&longer, "a.c", FilePurpose::ImportCsv).len(), 2);
    }

    #[test]
    fn the_typed_name_is_found_in_the_listing_of_its_folder_only() {
        let here = listing("/data/", &[("lists", true), ("a.csv", false)]);
        assert_eq!(find(None, "/data/a.csv"), Found::Reading);
        assert_eq!(find(Some(&here), "/other/a.csv"), Found::Reading);
        assert_eq!(find(Some(&here), "/data/a.csv"), Found::File);
        assert_eq!(find(Some(&here), "/data/lists"), Found::Folder);
        assert_eq!(find(Some(&here), "/data/b.csv"), Found::Missing);
        assert_eq!(find(Some(&here), "/data/"), Found::NoName);
        let broken = Listing {
            entries: Err("permission denied".into()),
            ..here
        };
        assert_eq!(
            find(Some(&broken), "/data/a.csv"),
            Found::Unreadable("permission denied".into())
        );
    }

    #[test]
    fn a_real_folder_is_listed_folders_first() {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::create_dir(dir.path().join("zeta")).expect("mkdir");
        std::fs::write(dir.path().join("alpha.csv"), "a.example\n").expect("write");
        let typed = format!("{}/", dir.path().display());
        let read = read_listing(&typed);
        assert_eq!(read.dir, typed);
        assert_eq!(
            read.entries,
            Ok(vec![
                Entry {
                    name: "zeta".into(),
                    is_dir: true
                },
                Entry {
                    name: "alpha.csv".into(),
                    is_dir: false
                },
            ])
        );
        assert!(read_listing("/nonexistent-starttls/").entries.is_err());
    }

    /// Steps frames until `done` holds (the listing comes from a helper thread).
    fn pump(
        harness: &mut Harness<'_, (PathPrompt, Option<Option<PathBuf>>)>,
        done: impl Fn(&Harness<'_, (PathPrompt, Option<Option<PathBuf>>)>) -> bool,
    ) {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while !done(harness) {
            assert!(std::time::Instant::now() < deadline, "timed out");
            harness.step();
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
    }

    #[test]
    fn tab_completes_from_the_folder_and_enter_answers_the_path() {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(dir.path().join("customers.csv"), "a.example\n").expect("write");
        std::fs::write(dir.path().join("other.pem"), "").expect("write");
        let mut prompt = PathPrompt::new(
            FilePurpose::ImportCsv,
            Some("no portal, no zenity".into()),
            None,
        );
        prompt.dropped(&dir.path().join("cu"));
        let mut harness = Harness::builder()
            .with_size(egui::vec2(800.0, 500.0))
            .build_ui_state(
                |ui, (prompt, answer): &mut (PathPrompt, Option<Option<PathBuf>>)| {
                    if answer.is_none() {
                        *answer = prompt.ui(ui.ctx());
                    }
                },
                (prompt, None),
            );
        harness.run_steps(2);
        assert!(
            harness
                .query_all_by_label_contains("No file dialog could open: no portal, no zenity")
                .next()
                .is_some()
        );
        pump(&mut harness, |h| {
            h.query_all_by_label_contains("there is no file 'cu'")
                .next()
                .is_some()
        });
        // The field has the focus: Tab takes the one completion.
        harness.run_steps(2);
        harness.key_press(egui::Key::Tab);
        harness.run_steps(2);
        let expected = dir.path().join("customers.csv");
        assert_eq!(harness.state().0.text(), expected.display().to_string());
        pump(&mut harness, |h| {
            h.query_all_by_label_contains("✔ customers.csv")
                .next()
                .is_some()
        });
        // Enter takes the file typed in full (there is nothing left to complete).
        harness.key_press(egui::Key::Enter);
        harness.run_steps(2);
        assert_eq!(harness.state().1, Some(Some(expected)));
    }
}
