//! sohoa-worker: claims jobs from the sohoa API over HTTP and processes them. The only
//! package that links native OCR code, kept out of the service's process.

pub mod cli;
pub mod client;
pub mod lifeline;
pub mod ocr;
pub mod run;
pub mod samples;

/// Tesseract's OpenMP runtime reads its thread limit once, when the library loads, before
/// `main`: a worker started without OMP_THREAD_LIMIT starts itself again with a limit of one
/// (on busy cores OpenMP's spinning threads make recognition two to three times slower). A
/// limit the caller set is kept.
pub fn limit_openmp() {
    use std::os::unix::process::CommandExt;
    if std::env::var_os("OMP_THREAD_LIMIT").is_some() {
        return;
    }
    let Ok(exe) = std::env::current_exe() else { return };
    let mut args = std::env::args_os();
    let mut again = std::process::Command::new(exe);
    if let Some(name) = args.next() {
        again.arg0(name);
    }
    // exec returns only when it fails
    let failed = again.args(args).env("OMP_THREAD_LIMIT", "1").exec();
    eprintln!("warning: cannot restart with OMP_THREAD_LIMIT=1 ({failed}); recognition runs slower");
}
