//! Helpers shared by the integration tests: where things are, running the
//! `sift` binary, reading its EVE output.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The nDPI regression corpus, read in place beside the project.
pub fn ndpi_corpus() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/ndpi");
    assert!(
        dir.join("expected.csv").is_file(),
        "the nDPI corpus is expected at {} (../shared beside the checkout)",
        dir.display()
    );
    dir
}

/// Every capture of the corpus, sorted by name.
pub fn ndpi_captures() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(ndpi_corpus().join("pcap"))
        .expect("corpus pcap dir")
        .map(|e| e.expect("dir entry").path())
        .collect();
    v.sort();
    v
}

pub fn project_file(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

/// Runs `sift` with `args`.
pub fn sift<I, S>(args: I) -> Output
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    Command::new(env!("CARGO_BIN_EXE_sift"))
        .args(args)
        .output()
        .expect("run sift")
}

/// Parses EVE JSON lines.
pub fn eve(stdout: &[u8]) -> Vec<serde_json::Value> {
    std::str::from_utf8(stdout)
        .expect("utf-8 output")
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad JSON line {l}: {e}")))
        .collect()
}

pub fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}
