//! The fuzz corpus replayed: every input kept in `fuzz/corpus/TARGET/` (among them each input
//! that once crashed a reader) goes through the entry point its fuzz target calls, and must come
//! back, without a panic, within a bounded time. This keeps what the fuzzer found fixed on the
//! stable toolchain, without building the fuzz targets.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::thread;
use std::time::{Duration, Instant};

use pinprobe::fuzzing::TARGETS;

/// The longest one input may take. The fuzzer allows 10 s, on an optimised build; the inputs
/// of the corpus take milliseconds.
const PER_INPUT: Duration = Duration::from_secs(10);

fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus")
}

/// The files of a directory, in name order.
fn files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.is_file())
        .collect();
    files.sort();
    files
}

#[test]
fn every_target_has_a_corpus_and_every_corpus_a_target() {
    let dirs: BTreeSet<String> = std::fs::read_dir(corpus())
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    let targets: BTreeSet<String> = TARGETS.iter().map(|(name, _)| name.to_string()).collect();
    assert_eq!(dirs, targets);
    for name in &targets {
        assert!(
            !files(&corpus().join(name)).is_empty(),
            "fuzz/corpus/{name} is empty"
        );
    }
}

/// Replays one target's corpus; each input runs on its own thread, so that a hang is reported
/// with the input's name instead of stopping the test run. Returns the inputs that panicked or
/// took too long.
fn replay(name: &str, entry: fn(&[u8])) -> Vec<String> {
    let mut failures = Vec::new();
    for path in files(&corpus().join(name)) {
        let data = std::fs::read(&path).unwrap();
        let shown = format!(
            "fuzz/corpus/{name}/{}",
            path.file_name().unwrap().to_string_lossy()
        );
        let (done, finished) = mpsc::channel();
        let start = Instant::now();
        let worker = thread::Builder::new()
            .name(shown.clone())
            .spawn(move || {
                entry(&data);
                let _ = done.send(());
            })
            .unwrap();
        match finished.recv_timeout(PER_INPUT) {
            Ok(()) => {
                let _ = worker.join();
            }
            // the thread is left behind: it cannot be stopped, and the test fails anyway
            Err(RecvTimeoutError::Timeout) => {
                failures.push(format!("{shown}: still running after {PER_INPUT:?}"));
            }
            Err(RecvTimeoutError::Disconnected) => failures.push(format!(
                "{shown}: panicked after {:?} (the message is above)",
                start.elapsed()
            )),
        }
    }
    failures
}

#[test]
fn every_input_of_the_fuzz_corpus_is_read_without_a_panic_or_a_hang() {
    // the targets side by side: the corpus is replayed in the time of its largest target
    let failures: Vec<String> = thread::scope(|scope| {
        let replays: Vec<_> = TARGETS
            .iter()
            .map(|&(name, entry)| scope.spawn(move || replay(name, entry)))
            .collect();
        replays
            .into_iter()
            .flat_map(|replay| replay.join().unwrap())
            .collect()
    });
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
