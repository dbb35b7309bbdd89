//! Choosing a file: the native file dialog (rfd: the xdg desktop portal, else zenity) on a helper
//! thread, or — when none can open — the typed path prompt of [`super::path_prompt`]. Each pick
//! carries the purpose it was opened for, so its answer goes back to the panel that asked.
//!
//! rfd answers `None` both when the user cancels and when no dialog could open at all (no portal
//! file chooser on the session bus and no zenity on PATH), so a pick never trusts that `None`:
//! before asking rfd it checks what rfd needs (zenity on PATH, else a portal that answers for its
//! FileChooser interface on the D-Bus session bus, within [`PORTAL_CHECK_TIMEOUT`]), and a `None`
//! that comes back faster than anyone could cancel ([`FASTEST_CANCEL`]) counts as "could not
//! open" too. Either way the pick answers [`PickAnswer::Unavailable`] with the reason, and the
//! app shows the prompt instead.
//!
//! Owns: the dialog thread, the availability check, what each purpose asks for (title, filters,
//! open or save), and the one file choice that may be open ([`FileChooser`]). Must not touch:
//! the files themselves — the chosen path is handed on, never opened here.

use std::path::PathBuf;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use eframe::egui;

use super::path_prompt::PathPrompt;

/// What a file dialog is picking, and so which panel gets the answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FilePurpose {
    /// A CSV file to import (the import dialog).
    ImportCsv,
    /// Where to save a report (the export dialog).
    ExportReport,
    /// An extra trusted CA file (the Settings tab).
    SettingsCaFile,
    /// DNSSEC trust anchors, DNSKEY lines in zone-file format (the Settings tab).
    SettingsTrustAnchor,
}

impl FilePurpose {
    /// The dialog's title.
    pub fn title(self) -> &'static str {
        match self {
            FilePurpose::ImportCsv => "Import domains from a CSV file",
            FilePurpose::ExportReport => "Save the report",
            FilePurpose::SettingsCaFile => "Extra trusted CA certificates (PEM)",
            FilePurpose::SettingsTrustAnchor => "DNSSEC trust anchors (DNSKEY records)",
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
            FilePurpose::SettingsTrustAnchor => &[
                ("DNSKEY files", &["key", "keys", "zone", "txt"]),
                ("All files", &["*"]),
            ],
        }
    }

    /// The file extensions this purpose picks (empty: any file).
    pub fn extensions(self) -> &'static [&'static str] {
        self.filters()
            .first()
            .map_or(&[][..], |(_, extensions)| extensions)
    }

    /// Whether the dialog asks where to save (else which file to open).
    pub fn saves(self) -> bool {
        self == FilePurpose::ExportReport
    }
}

/// Where the app's file dialogs come from.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum FileDialogs {
    /// The platform's native dialog, checked before each pick (default).
    #[default]
    Native,
    /// No native dialog: every pick answers at once that none could open, with this reason,
    /// and the typed path prompt shows (tests use it; so could a kiosk).
    Unavailable(String),
}

/// How a pick ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PickAnswer {
    /// The user chose this file.
    Chosen(PathBuf),
    /// The user closed the dialog without choosing.
    Cancelled,
    /// No native dialog could open; why, in words.
    Unavailable(String),
}

/// What to install for native file dialogs, for the message that says none could open.
pub const INSTALL_HINT: &str = "Install the zenity package, or an xdg desktop portal with a file \
     chooser (xdg-desktop-portal-gtk, or your desktop's own), to get file dialogs.";

/// A `None` from rfd sooner than this after asking did not come from a person: a dialog takes
/// longer than this to appear and be dismissed, so it never opened.
pub const FASTEST_CANCEL: Duration = Duration::from_millis(300);

/// How long the session bus may take to say whether a portal file chooser answers (the portal
/// is started on demand, which can take a moment).
pub const PORTAL_CHECK_TIMEOUT: Duration = Duration::from_secs(5);

/// A native file dialog running on its own thread; polled each frame.
pub struct FilePick {
    purpose: FilePurpose,
    file_name: Option<String>,
    receiver: mpsc::Receiver<PickAnswer>,
}

impl FilePick {
    /// Asks `dialogs` for the file `purpose` needs without blocking the caller; a "save as"
    /// dialog suggests `file_name`. `ctx` is woken when the dialog closes.
    pub fn start(
        dialogs: &FileDialogs,
        purpose: FilePurpose,
        file_name: Option<&str>,
        ctx: Option<egui::Context>,
    ) -> Self {
        let suggested = file_name.map(str::to_string);
        match dialogs {
            FileDialogs::Unavailable(why) => {
                let why = why.clone();
                Self::run(purpose, suggested, ctx, move || {
                    PickAnswer::Unavailable(why)
                })
            }
            FileDialogs::Native => {
                let name = suggested.clone();
                Self::run(purpose, suggested, ctx, move || {
                    native_pick(purpose, name.as_deref())
                })
            }
        }
    }

    fn run(
        purpose: FilePurpose,
        file_name: Option<String>,
        ctx: Option<egui::Context>,
        show: impl FnOnce() -> PickAnswer + Send + 'static,
    ) -> Self {
        let (sender, receiver) = mpsc::channel();
        std::thread::spawn(move || {
            let _ignored = sender.send(show());
            if let Some(ctx) = ctx {
                ctx.request_repaint();
            }
        });
        Self {
            purpose,
            file_name,
            receiver,
        }
    }

    /// What the dialog was opened for.
    pub fn purpose(&self) -> FilePurpose {
        self.purpose
    }

    /// How the dialog ended, once it did (None while it is still open). A thread that died
    /// without answering counts as cancelled.
    pub fn poll(&self) -> Option<PickAnswer> {
        match self.receiver.try_recv() {
            Ok(answer) => Some(answer),
            Err(mpsc::TryRecvError::Empty) => None,
            Err(mpsc::TryRecvError::Disconnected) => Some(PickAnswer::Cancelled),
        }
    }
}

/// Checks that a native dialog can open, then shows it (on the calling thread, which waits).
fn native_pick(purpose: FilePurpose, file_name: Option<&str>) -> PickAnswer {
    if let Some(why) = availability::unavailable_reason() {
        return PickAnswer::Unavailable(why);
    }
    let mut dialog = rfd::FileDialog::new().set_title(purpose.title());
    let started = Instant::now();
    let choice = if purpose.saves() {
        if let Some(file_name) = file_name {
            dialog = dialog.set_file_name(file_name);
        }
        dialog.save_file()
    } else {
        for (name, extensions) in purpose.filters() {
            dialog = dialog.add_filter(*name, extensions);
        }
        dialog.pick_file()
    };
    answer_of(choice, started.elapsed())
}

/// rfd's answer, taken apart: a `None` sooner than [`FASTEST_CANCEL`] means the dialog never
/// showed (the portal or zenity failed after the check passed), not a cancel.
fn answer_of(choice: Option<PathBuf>, took: Duration) -> PickAnswer {
    match choice {
        Some(path) => PickAnswer::Chosen(path),
        None if took < FASTEST_CANCEL => PickAnswer::Unavailable(format!(
            "the file dialog closed after {} ms, before it could be used: the desktop portal \
             or zenity could not open it",
            took.as_millis()
        )),
        None => PickAnswer::Cancelled,
    }
}

/// The check that a native dialog can open where rfd uses the xdg portal or zenity.
#[cfg(any(
    target_os = "linux",
    target_os = "freebsd",
    target_os = "dragonfly",
    target_os = "netbsd",
    target_os = "openbsd"
))]
mod availability {
    use std::ffi::OsStr;
    use std::future::Future;
    use std::path::Path;
    use std::sync::{Arc, mpsc};
    use std::task::{Context, Poll, Wake, Waker};

    use super::PORTAL_CHECK_TIMEOUT;

    /// Why no native file dialog can open, or None when one can: zenity on PATH, or a portal
    /// that answers for its file chooser on the session bus (what rfd tries, in its order).
    pub fn unavailable_reason() -> Option<String> {
        if zenity_on(std::env::var_os("PATH").as_deref()) {
            return None;
        }
        let (sender, receiver) = mpsc::channel();
        std::thread::spawn(move || {
            let _ignored = sender.send(block_on(portal_file_chooser()));
        });
        let problem = match receiver.recv_timeout(PORTAL_CHECK_TIMEOUT) {
            Ok(Ok(())) => return None,
            Ok(Err(problem)) => problem,
            Err(_) => format!(
                "the xdg desktop portal did not answer within {} s",
                PORTAL_CHECK_TIMEOUT.as_secs()
            ),
        };
        Some(format!("{problem}, and zenity is not installed"))
    }

    /// Whether an executable `zenity` is in one of the directories of `path` (a PATH value).
    pub(super) fn zenity_on(path: Option<&OsStr>) -> bool {
        use std::os::unix::fs::PermissionsExt;
        let Some(path) = path else {
            return false;
        };
        std::env::split_paths(path).any(|dir| {
            let candidate = Path::new(&dir).join("zenity");
            std::fs::metadata(candidate)
                .is_ok_and(|meta| meta.is_file() && meta.permissions().mode() & 0o111 != 0)
        })
    }

    /// Asks the portal on the session bus for its FileChooser interface's version: an answer
    /// means rfd's portal dialog can open; an error says why not.
    async fn portal_file_chooser() -> Result<(), String> {
        let connection = zbus::Connection::session().await.map_err(|error| {
            format!("there is no D-Bus session bus to reach a desktop portal through ({error})")
        })?;
        connection
            .call_method(
                Some("org.freedesktop.portal.Desktop"),
                "/org/freedesktop/portal/desktop",
                Some("org.freedesktop.DBus.Properties"),
                "Get",
                &("org.freedesktop.portal.FileChooser", "version"),
            )
            .await
            .map(|_version| ())
            .map_err(|error| match &error {
                zbus::Error::MethodError(name, detail, _) => {
                    portal_problem(name.as_str(), detail.as_deref())
                }
                other => format!("the xdg desktop portal could not be asked ({other})"),
            })
    }

    /// A D-Bus error from asking the portal, in words.
    pub(super) fn portal_problem(error_name: &str, detail: Option<&str>) -> String {
        match error_name {
            "org.freedesktop.DBus.Error.ServiceUnknown"
            | "org.freedesktop.DBus.Error.NameHasNoOwner" => {
                "no xdg desktop portal is installed".to_string()
            }
            "org.freedesktop.DBus.Error.UnknownInterface"
            | "org.freedesktop.DBus.Error.UnknownProperty"
            | "org.freedesktop.DBus.Error.UnknownMethod"
            | "org.freedesktop.DBus.Error.UnknownObject"
            | "org.freedesktop.DBus.Error.InvalidArgs" => {
                "the xdg desktop portal has no file chooser (no backend such as \
                 xdg-desktop-portal-gtk)"
                    .to_string()
            }
            name if name.starts_with("org.freedesktop.DBus.Error.Spawn") => {
                "the xdg desktop portal failed to start".to_string()
            }
            name => match detail {
                Some(detail) => format!("the xdg desktop portal answered {name}: {detail}"),
                None => format!("the xdg desktop portal answered {name}"),
            },
        }
    }

    /// Wakes the thread that waits in [`block_on`].
    struct ThreadWaker(std::thread::Thread);

    impl Wake for ThreadWaker {
        fn wake(self: Arc<Self>) {
            self.0.unpark();
        }
    }

    /// Runs `future` to its end on this thread (zbus drives its socket on its own executor
    /// thread; this only waits to be woken).
    pub(super) fn block_on<F: Future>(future: F) -> F::Output {
        let mut future = std::pin::pin!(future);
        let waker = Waker::from(Arc::new(ThreadWaker(std::thread::current())));
        let mut context = Context::from_waker(&waker);
        loop {
            match future.as_mut().poll(&mut context) {
                Poll::Ready(output) => return output,
                Poll::Pending => std::thread::park(),
            }
        }
    }
}

/// Elsewhere (Windows, macOS) rfd uses the system's own dialog, which is always there.
#[cfg(not(any(
    target_os = "linux",
    target_os = "freebsd",
    target_os = "dragonfly",
    target_os = "netbsd",
    target_os = "openbsd"
)))]
mod availability {
    /// The system's file dialog is always there.
    pub fn unavailable_reason() -> Option<String> {
        None
    }
}

/// The app's one file choice at a time: a native dialog on its thread, or the typed path prompt
/// when none could open (or when a file dropped on the export dialog needs a confirmation).
#[derive(Default)]
pub struct FileChooser {
    dialogs: FileDialogs,
    pick: Option<FilePick>,
    prompt: Option<PathPrompt>,
}

impl FileChooser {
    /// Uses `dialogs` for the picks from now on.
    pub fn set_dialogs(&mut self, dialogs: FileDialogs) {
        self.dialogs = dialogs;
    }

    /// Whether a dialog or the prompt is open (the app's keys wait then).
    pub fn is_open(&self) -> bool {
        self.pick.is_some() || self.prompt.is_some()
    }

    /// Whether the typed path prompt is open.
    pub fn prompt_is_open(&self) -> bool {
        self.prompt.is_some()
    }

    /// Starts choosing the file `purpose` needs (a "save as" suggests `file_name`); false when
    /// a choice is open already (one at a time).
    pub fn start(
        &mut self,
        purpose: FilePurpose,
        file_name: Option<String>,
        ctx: Option<egui::Context>,
    ) -> bool {
        if self.is_open() {
            return false;
        }
        self.pick = Some(FilePick::start(
            &self.dialogs,
            purpose,
            file_name.as_deref(),
            ctx,
        ));
        true
    }

    /// Opens the prompt for `purpose` with `path` typed in (a file dropped on the window), in
    /// place of nothing: false when a choice is open already.
    pub fn prompt_with(
        &mut self,
        purpose: FilePurpose,
        path: PathBuf,
        file_name: Option<String>,
    ) -> bool {
        if self.is_open() {
            return false;
        }
        let mut prompt = PathPrompt::new(purpose, None, file_name);
        prompt.dropped(&path);
        self.prompt = Some(prompt);
        true
    }

    /// Types a dropped `path` into the open prompt; false when no prompt is open.
    pub fn drop_into_prompt(&mut self, path: &std::path::Path) -> bool {
        match &mut self.prompt {
            Some(prompt) => {
                prompt.dropped(path);
                true
            }
            None => false,
        }
    }

    /// The native dialog's answer once it closed: `(purpose, chosen path or None)`. A dialog
    /// that could not open is no answer yet: the prompt opens in its place, saying why.
    pub fn poll(&mut self) -> Option<(FilePurpose, Option<PathBuf>)> {
        let pick = self.pick.as_ref()?;
        let answer = pick.poll()?;
        let purpose = pick.purpose();
        let file_name = pick.file_name.clone();
        self.pick = None;
        match answer {
            PickAnswer::Chosen(path) => Some((purpose, Some(path))),
            PickAnswer::Cancelled => Some((purpose, None)),
            PickAnswer::Unavailable(why) => {
                self.prompt = Some(PathPrompt::new(purpose, Some(why), file_name));
                None
            }
        }
    }

    /// Draws the prompt when it is open; its answer once it closes, like [`Self::poll`]'s.
    pub fn prompt_ui(&mut self, ctx: &egui::Context) -> Option<(FilePurpose, Option<PathBuf>)> {
        let prompt = self.prompt.as_mut()?;
        let choice = prompt.ui(ctx)?;
        let purpose = prompt.purpose();
        self.prompt = None;
        Some((purpose, choice))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wait(pick: &FilePick) -> PickAnswer {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(answer) = pick.poll() {
                return answer;
            }
            assert!(Instant::now() < deadline, "the thread never answered");
            std::thread::sleep(Duration::from_millis(5));
        }
    }

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
        assert_eq!(FilePurpose::ImportCsv.extensions(), ["csv", "tsv", "txt"]);
        assert!(FilePurpose::ExportReport.extensions().is_empty());
    }

    #[test]
    fn a_pick_reports_its_answer_once_the_thread_is_done() {
        let pick = FilePick::run(FilePurpose::ImportCsv, None, None, || {
            PickAnswer::Chosen(PathBuf::from("/tmp/customers.csv"))
        });
        assert_eq!(pick.purpose(), FilePurpose::ImportCsv);
        assert_eq!(
            wait(&pick),
            PickAnswer::Chosen(PathBuf::from("/tmp/customers.csv"))
        );
    }

    #[test]
    fn a_none_too_fast_for_a_person_is_a_dialog_that_never_opened() {
        let path = PathBuf::from("/tmp/a.csv");
        assert_eq!(
            answer_of(Some(path.clone()), Duration::from_millis(1)),
            PickAnswer::Chosen(path)
        );
        assert_eq!(
            answer_of(None, Duration::from_secs(4)),
            PickAnswer::Cancelled
        );
        let PickAnswer::Unavailable(why) = answer_of(None, Duration::from_millis(12)) else {
            panic!("a None after 12 ms is no cancel");
        };
        assert!(why.contains("12 ms"), "{why}");
    }

    #[test]
    fn an_unavailable_backend_opens_the_prompt_in_place_of_an_answer() {
        let mut chooser = FileChooser::default();
        chooser.set_dialogs(FileDialogs::Unavailable("no portal, no zenity".into()));
        assert!(chooser.start(FilePurpose::ImportCsv, None, None));
        assert!(
            !chooser.start(FilePurpose::SettingsCaFile, None, None),
            "one at a time"
        );
        let deadline = Instant::now() + Duration::from_secs(10);
        while !chooser.prompt_is_open() {
            assert_eq!(chooser.poll(), None, "no answer: the prompt opens instead");
            assert!(Instant::now() < deadline, "the pick never answered");
            std::thread::sleep(Duration::from_millis(5));
        }
        assert!(chooser.is_open());
        assert!(chooser.drop_into_prompt(std::path::Path::new("/tmp/x.csv")));
    }

    #[test]
    fn the_native_check_answers_in_time_and_says_what_to_install() {
        // Whatever this machine has: the check ends within its timeout, and a "no" names
        // zenity (the hint beside it names the portal packages).
        let started = Instant::now();
        let reason = availability::unavailable_reason();
        assert!(started.elapsed() < PORTAL_CHECK_TIMEOUT + Duration::from_secs(2));
        if let Some(reason) = reason {
            assert!(reason.contains("zenity"), "{reason}");
        }
        assert!(INSTALL_HINT.contains("zenity") && INSTALL_HINT.contains("xdg-desktop-portal-gtk"));
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn zenity_is_found_only_as_an_executable_on_path() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().expect("temp dir");
        let zenity = dir.path().join("zenity");
        std::fs::write(&zenity, "#!/bin/sh\n").expect("write");
        let path = std::env::join_paths(["/nonexistent", dir.path().to_str().expect("utf-8")])
            .expect("join");
        assert!(!availability::zenity_on(Some(&path)), "not executable");
        std::fs::set_permissions(&zenity, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        assert!(availability::zenity_on(Some(&path)));
        assert!(!availability::zenity_on(None));
        assert!(!availability::zenity_on(Some(std::ffi::OsStr::new(
            "/nonexistent"
        ))));
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn portal_errors_say_what_is_missing() {
        assert_eq!(
            availability::portal_problem("org.freedesktop.DBus.Error.ServiceUnknown", None),
            "no xdg desktop portal is installed"
        );
        assert!(
            availability::portal_problem("org.freedesktop.DBus.Error.UnknownInterface", None)
                .contains("xdg-desktop-portal-gtk")
        );
        assert!(
            availability::portal_problem("org.example.Odd", Some("detail"))
                .ends_with("org.example.Odd: detail")
        );
        assert_eq!(availability::block_on(async { 7 }), 7);
    }
}
