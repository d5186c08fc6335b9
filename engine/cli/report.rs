//! `sift report`: one self-contained HTML file from capture files (read
//! as `analyze` reads them) or from EVE JSON files sift wrote.

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Args;

use super::analyze::{self, AnalyzeArgs};
use super::flags::{self, FlowArgs, Format, RulesArgs};
use super::sinks::SinkArgs;
use sift_lib::output::html::{self, digest::Digest};

use crate as sift_lib;

#[derive(Args, Debug)]
pub struct ReportArgs {
    /// Capture files (pcap or pcapng), or EVE JSON files sift wrote (one
    /// record per line); all of one kind.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,

    /// The HTML file to write.
    #[arg(short = 'o', long = "output", value_name = "FILE", required = true)]
    pub output: PathBuf,

    /// Flows listed in the table at most (every flow with a finding or a
    /// rule hit first, then those with the most bytes).
    #[arg(long, value_name = "N", default_value_t = html::DEFAULT_ROWS)]
    pub rows: usize,

    /// Captures: worker threads (default: the number of cores).
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,

    /// Captures: read several files as one capture, interleaved by timestamp.
    #[arg(long)]
    pub merge: bool,

    #[command(flatten)]
    pub flows: FlowArgs,

    #[command(flatten)]
    pub rules: RulesArgs,
}

/// True when `path` starts (after white space) with `{`: EVE JSON.
fn is_eve(path: &Path) -> Result<bool> {
    let mut f = File::open(path).with_context(|| format!("{}: cannot open", path.display()))?;
    let mut head = [0u8; 512];
    let n = f
        .read(&mut head)
        .with_context(|| format!("{}: cannot read", path.display()))?;
    Ok(head[..n]
        .iter()
        .find(|b| !b.is_ascii_whitespace())
        .is_some_and(|&b| b == b'{'))
}

pub fn run(args: ReportArgs) -> Result<ExitCode> {
    let kinds = args
        .files
        .iter()
        .map(|p| is_eve(p))
        .collect::<Result<Vec<bool>>>()?;
    if !kinds.contains(&true) {
        return analyze::run(AnalyzeArgs {
            files: args.files,
            format: Format::Summary,
            output: None,
            threads: args.threads,
            merge: args.merge,
            flows: args.flows,
            lead_share: sift_lib::pipeline::Options::default().lead_share,
            files_at_once: Default::default(),
            rules: args.rules,
            sinks: SinkArgs::none(),
            report: Some(args.output),
            report_rows: args.rows,
            events: Default::default(),
            quiet: true,
            no_progress: false,
        });
    }
    if kinds.contains(&false) {
        anyhow::bail!("give either capture files or EVE JSON files, not both");
    }
    if !args.rules.rule_files.is_empty() {
        anyhow::bail!("--rules applies to captures; EVE records carry their rule hits already");
    }
    let out = flags::output(Some(&args.output))?;
    let mut d = Digest::new(args.rows);
    let mut skipped = 0;
    for p in &args.files {
        let f = File::open(p).with_context(|| format!("{}: cannot open", p.display()))?;
        skipped += html::read_eve(BufReader::with_capacity(1 << 16, f), &mut d)
            .with_context(|| format!("{}: cannot read", p.display()))?;
    }
    let names: Vec<String> = args.files.iter().map(|p| p.display().to_string()).collect();
    let source = html::Source {
        inputs: &names,
        run: None,
        skipped,
    };
    analyze::write_report(&args.output, out, &mut d, &source)?;
    Ok(ExitCode::SUCCESS)
}
