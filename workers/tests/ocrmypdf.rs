//! The OCR conformance run: `sohoa-worker ocr` beside OCRmyPDF on OCRmyPDF's own test
//! resources (real scans and odd PDFs, fetched by scripts/fetch-ocrmypdf.sh into a test
//! cache, or read from `SOHOA_OCRMYPDF_DIR`). OCRmyPDF comes from the environment that
//! scripts/install-test-tools.sh makes (`SOHOA_OCRMYPDF` names another). For each file it prints pages, each tool's exit,
//! time and output size, and the bag-of-words F1 of sohoa's text layer against OCRmyPDF's.
//!
//! A file passes when sohoa refuses it only if OCRmyPDF refuses it too, and when every page
//! on which OCRmyPDF found text (at least `TEXT_PAGE_WORDS` words) reads with F1 >= 95 %.
//! `make test` runs the bounded sample below; the files marked
//! `FailsToday` are reported but asserted only with `SOHOA_OCRMYPDF_STRICT=1`, which the
//! codec and geometry work of the scanned-PDF issue is to turn on. `make soak` runs every
//! file (`SOHOA_OCRMYPDF_FULL=1`), reporting only.

mod pdfs;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const MIN_F1: f64 = 0.95;
/// A page on which OCRmyPDF's text layer has at least this many words is a text page.
const TEXT_PAGE_WORDS: usize = 20;

#[derive(Clone, Copy, PartialEq)]
enum Today {
    Passes,
    /// refused or misread on today's main for its encoding; see the reason beside it
    FailsToday,
}

/// The bounded sample: about a minute, each a kind of file desks hand in. Marked from the
/// full run on main with pages rendered through hayro; what still fails is the rest of the
/// scanned-PDF issue (19).
const SAMPLE: [(&str, Today); 11] = [
    ("c03-29.pdf", Today::Passes),       // a JPEG book page with an illustration (F1 98 %)
    ("acroform.pdf", Today::Passes),     // a scan with a form field (F1 100 %)
    ("cmyk.pdf", Today::Passes),         // a CMYK image; OCRmyPDF refuses it for prior text
    ("invalid.pdf", Today::Passes),      // both refuse it
    ("ccitt.pdf", Today::Passes),        // CCITTFaxDecode (F1 99.8 %)
    ("jbig2.pdf", Today::Passes),        // JBIG2Decode (F1 99.2 %)
    ("palette.pdf", Today::Passes),      // the Indexed colour space, few words
    ("lichtenstein.pdf", Today::Passes), // JPXDecode (F1 100 %)
    ("aspect.pdf", Today::Passes),       // 200 x 100 dpi (F1 100 %)
    // French and Dutch read with the English model, as both tools are run here: both misread
    // accented and foreign words, each its own way (F1 87-88 % against the other)
    ("francais.pdf", Today::FailsToday),
    ("2400dpi.pdf", Today::FailsToday), // a 120 x 86 pt page at 2400 dpi, read at full resolution
];

struct Run {
    exit: Option<i32>,
    seconds: f64,
    size: Option<u64>,
    output: PathBuf,
    stderr: String,
}

impl Run {
    fn ok(&self) -> bool {
        self.exit == Some(0) && self.size.is_some()
    }
    fn exit_cell(&self) -> String {
        self.exit.map_or("timeout".into(), |c| c.to_string())
    }
}

/// Runs a command with its output to files, killed after `limit`.
fn timed(mut command: Command, output: &Path, limit: Duration) -> Run {
    let log = output.with_extension("log");
    let started = Instant::now();
    let mut child = command
        .env("OMP_THREAD_LIMIT", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap_or_else(|e| panic!("{command:?} runs: {e}"));
    let exit = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status.code();
        }
        if started.elapsed() > limit {
            child.kill().ok();
            child.wait().ok();
            break None;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let seconds = started.elapsed().as_secs_f64();
    let size = std::fs::metadata(output).ok().map(|m| m.len());
    let stderr = std::fs::read_to_string(&log).unwrap_or_default();
    Run { exit, seconds, size, output: output.to_path_buf(), stderr }
}

fn ocrmypdf_binary() -> PathBuf {
    std::env::var_os("SOHOA_OCRMYPDF").map(PathBuf::from).unwrap_or_else(|| {
        let venv = std::env::var_os("SOHOA_SCANS_VENV")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(std::env::var("HOME").unwrap()).join(".venv/sohoa-scans"));
        venv.join("bin/ocrmypdf")
    })
}

struct Row {
    file: String,
    /// of the input, when lopdf reads it
    pages: Option<usize>,
    sohoa: Run,
    peer: Run,
    f1: Option<f64>,
    /// the F1 is against OCRmyPDF run again with `--image-dpi 300`
    f1_at_300_dpi: bool,
    problems: Vec<String>,
}

/// Both tools on one file, English (every resource is in a Latin script; the worker's
/// default is Vietnamese, so it is told the same `eng` as OCRmyPDF).
fn compare(input: &Path, work: &Path, limit: Duration) -> Row {
    let file = input.file_name().unwrap().to_string_lossy().into_owned();
    let stem = file.replace('.', "_");
    let mut sohoa = Command::new(pdfs::worker());
    let sohoa_out = work.join(format!("{stem}.sohoa.pdf"));
    sohoa.arg("ocr").arg(input).arg("-o").arg(&sohoa_out).args(["--lang", "eng"]);
    let sohoa = timed(sohoa, &sohoa_out, limit);
    // OCRmyPDF's defaults but one page at a time and a plain PDF (no Ghostscript PDF/A pass),
    // which is what sohoa writes too
    let ocrmypdf = |extra: &[&str], out: &Path| {
        let mut peer = Command::new(ocrmypdf_binary());
        peer.args(["-l", "eng", "--jobs", "1", "--output-type", "pdf"]).args(extra).arg(input).arg(out);
        timed(peer, out, limit)
    };
    let peer = ocrmypdf(&[], &work.join(format!("{stem}.ocrmypdf.pdf")));
    // OCRmyPDF refuses an image without a recorded density, which sohoa reads; the text to
    // compare with then comes from OCRmyPDF told a density, and that refusal stays the verdict
    let reference = if peer.exit == Some(2) && peer.stderr.contains("DpiError") {
        Some(ocrmypdf(&["--image-dpi", "300"], &work.join(format!("{stem}.ocrmypdf-300dpi.pdf"))))
    } else {
        None
    };

    let mut problems = Vec::new();
    let pages = if file.ends_with(".pdf") { pdfs::geometry(input).ok().map(|g| g.len()) } else { Some(1) };
    if peer.ok() && !sohoa.ok() {
        problems.push(format!("refused, OCRmyPDF processed it: {}", last_line(&sohoa)));
    }
    let mut f1 = None;
    let text_of = reference.as_ref().filter(|r| r.ok()).unwrap_or(&peer);
    if text_of.ok() && sohoa.ok() {
        f1 = Some(pdfs::f1(&pdfs::words(&pdfs::pdftotext(&text_of.output, None)), &pdfs::words(&pdfs::pdftotext(&sohoa.output, None))));
        let peer_pages = pdfs::geometry(&text_of.output).map(|g| g.len()).unwrap_or(0);
        let sohoa_pages = pdfs::geometry(&sohoa.output).map(|g| g.len()).unwrap_or(0);
        if peer_pages != sohoa_pages {
            problems.push(format!("{sohoa_pages} pages, OCRmyPDF {peer_pages}"));
        } else {
            for n in 1..=peer_pages {
                let expected = pdfs::words(&pdfs::pdftotext(&text_of.output, Some(n)));
                if expected.len() < TEXT_PAGE_WORDS {
                    continue;
                }
                let page_f1 = pdfs::f1(&expected, &pdfs::words(&pdfs::pdftotext(&sohoa.output, Some(n))));
                if page_f1 < MIN_F1 {
                    problems.push(format!("page {n}: F1 {:.1} %", page_f1 * 100.0));
                }
            }
        }
    }
    if let Some(r) = &reference {
        std::fs::remove_file(&r.output).ok();
    }
    let f1_at_300_dpi = reference.is_some_and(|r| r.ok());
    Row { file, pages, sohoa, peer, f1, f1_at_300_dpi, problems }
}

fn print_table(rows: &[Row]) {
    let kb = |r: &Run| r.size.filter(|_| r.ok()).map_or("-".into(), |s| format!("{:.0}", s as f64 / 1024.0));
    // what the archive keeps for each page, for ever
    let per_page = |r: &Run, pages: Option<usize>| {
        r.size.filter(|_| r.ok()).zip(pages.filter(|p| *p > 0)).map_or("-".into(), |(s, p)| format!("{:.0}", s as f64 / 1024.0 / p as f64))
    };
    println!(
        "{:<28} {:>5} | {:>7} {:>7} {:>8} {:>7} {:>6} | {:>8} {:>7} {:>8} {:>7} | notes",
        "file", "pages", "sohoa", "s", "KiB", "KiB/p", "F1 %", "ocrmypdf", "s", "KiB", "KiB/p"
    );
    for r in rows {
        let mut notes = match (&r.problems[..], r.sohoa.ok()) {
            ([], true) => vec![],
            ([], false) => vec![format!("sohoa: {}", last_line(&r.sohoa))],
            (p, _) => p.to_vec(),
        };
        if !r.peer.ok() {
            notes.push(format!("ocrmypdf: {}", last_line(&r.peer)));
        }
        let note = notes.join("; ");
        println!(
            "{:<28} {:>5} | {:>7} {:>7.1} {:>8} {:>7} {:>6} | {:>8} {:>7.1} {:>8} {:>7} | {}",
            r.file,
            r.pages.map_or("-".into(), |p| p.to_string()),
            r.sohoa.exit_cell(),
            r.sohoa.seconds,
            kb(&r.sohoa),
            per_page(&r.sohoa, r.pages),
            r.f1.map_or("-".into(), |f| format!("{:.1}{}", f * 100.0, if r.f1_at_300_dpi { "*" } else { "" })),
            r.peer.exit_cell(),
            r.peer.seconds,
            kb(&r.peer),
            per_page(&r.peer, r.pages),
            note
        );
    }
    println!("* F1 against OCRmyPDF run again with --image-dpi 300, the image recording no density");
    let both: Vec<&Row> = rows.iter().filter(|r| r.sohoa.ok() && r.peer.ok()).collect();
    let total = |pick: fn(&Row) -> &Run, rows: &[&Row]| rows.iter().map(|r| pick(r).size.unwrap_or(0)).sum::<u64>();
    let all: Vec<&Row> = rows.iter().collect();
    println!(
        "total output: files both wrote ({}): sohoa {} KiB, OCRmyPDF {} KiB (ratio {:.2}); every file written: sohoa {} KiB ({} files), OCRmyPDF {} KiB ({} files)",
        both.len(),
        total(|r| &r.sohoa, &both) / 1024,
        total(|r| &r.peer, &both) / 1024,
        total(|r| &r.sohoa, &both) as f64 / total(|r| &r.peer, &both).max(1) as f64,
        total(|r| &r.sohoa, &all.iter().copied().filter(|r| r.sohoa.ok()).collect::<Vec<_>>()) / 1024,
        rows.iter().filter(|r| r.sohoa.ok()).count(),
        total(|r| &r.peer, &all.iter().copied().filter(|r| r.peer.ok()).collect::<Vec<_>>()) / 1024,
        rows.iter().filter(|r| r.peer.ok()).count(),
    );
}

/// The line a tool ended on, which is where both put their reason for refusing.
fn last_line(run: &Run) -> String {
    if run.exit.is_none() {
        return "timed out".into();
    }
    run.stderr.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or("").trim().chars().take(110).collect()
}

/// The cache of OCRmyPDF's resources: `SOHOA_OCRMYPDF_DIR`, else fetched (once) by
/// scripts/fetch-ocrmypdf.sh, as the signing conformance run fetches pyHanko's.
fn resources() -> PathBuf {
    if let Some(dir) = std::env::var_os("SOHOA_OCRMYPDF_DIR") {
        return PathBuf::from(dir);
    }
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/fetch-ocrmypdf.sh");
    let out = Command::new(&script).output().unwrap_or_else(|e| panic!("{} runs: {e}", script.display()));
    assert!(out.status.success(), "fetch-ocrmypdf.sh: {}", String::from_utf8_lossy(&out.stderr));
    PathBuf::from(String::from_utf8(out.stdout).unwrap().trim())
}

#[test]
fn bounded_sample_against_ocrmypdf() {
    let dir = resources();
    let strict = std::env::var("SOHOA_OCRMYPDF_STRICT").is_ok_and(|v| v == "1");
    let work = tempfile::tempdir().unwrap();
    let rows: Vec<Row> = SAMPLE.iter().map(|(f, _)| compare(&dir.join(f), work.path(), Duration::from_secs(180))).collect();
    print_table(&rows);
    let failures: Vec<String> = rows
        .iter()
        .zip(SAMPLE)
        .filter(|(r, (_, today))| !r.problems.is_empty() && (strict || *today == Today::Passes))
        .map(|(r, _)| format!("{}: {}", r.file, r.problems.join("; ")))
        .collect();
    assert!(failures.is_empty(), "against OCRmyPDF:\n{}", failures.join("\n"));
}

#[test]
fn every_resource_against_ocrmypdf() {
    if std::env::var("SOHOA_OCRMYPDF_FULL").is_err() {
        eprintln!("skipped: the full run is `make soak` (SOHOA_OCRMYPDF_FULL=1)");
        return;
    }
    let dir = resources();
    let mut inputs: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| matches!(p.extension().and_then(|e| e.to_str()), Some("pdf" | "png" | "jpg")))
        .collect();
    inputs.sort();
    let work = tempfile::tempdir().unwrap();
    let rows: Vec<Row> = inputs
        .iter()
        .map(|input| {
            let row = compare(input, work.path(), Duration::from_secs(600));
            eprintln!("{}: sohoa {} ocrmypdf {}", row.file, row.sohoa.exit_cell(), row.peer.exit_cell());
            // outputs of a large run are not kept
            std::fs::remove_file(&row.sohoa.output).ok();
            std::fs::remove_file(&row.peer.output).ok();
            row
        })
        .collect();
    print_table(&rows);
    let failing = rows.iter().filter(|r| !r.problems.is_empty()).count();
    println!("{} files, {} within the conformance rule, {} not", rows.len(), rows.len() - failing, failing);
}
