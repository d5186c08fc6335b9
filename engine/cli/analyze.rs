//! `sift analyze`: read capture files, write flow records and a summary.

use std::fs::File;
use std::io::{self, BufWriter, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use anyhow::{Context, Result};
use clap::{Args, ValueEnum};

use sift_lib::capture::file::{CaptureFile, Order};
use sift_lib::capture::NANOS_PER_SEC;
use sift_lib::flow::FlowConfig;
use sift_lib::output::eve::EveWriter;
use sift_lib::output::summary::{self, FlowTally};
use sift_lib::pipeline::worker::Event;
use sift_lib::pipeline::{self, Options};
use sift_lib::rules::{LoadOptions, RuleSet};

use crate as sift_lib;

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// A report for people (default).
    Summary,
    /// One EVE JSON object per line (Suricata field names); the summary goes
    /// to stderr when the JSON goes to stdout.
    Json,
}

#[derive(Args, Debug)]
pub struct AnalyzeArgs {
    /// Capture files (pcap or pcapng, any supported link type).
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,

    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Summary)]
    pub format: Format,

    /// Write records to FILE instead of stdout.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Worker threads (default: the number of cores).
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,

    /// Read several files as one capture, interleaved by timestamp. Without
    /// it, files are read one after another and flows end with each file.
    #[arg(long)]
    pub merge: bool,

    /// Flows held at once (all workers together); beyond it the least
    /// recently active flow is evicted and reported with reason "forced".
    #[arg(long, value_name = "N", default_value_t = FlowConfig::default().capacity)]
    pub max_flows: usize,

    /// Idle timeout of established TCP flows, in seconds of packet time.
    #[arg(long, value_name = "SECS", default_value_t = 300)]
    pub tcp_timeout: u64,

    /// Idle timeout of established UDP and other flows, in seconds.
    #[arg(long, value_name = "SECS", default_value_t = 120)]
    pub udp_timeout: u64,

    /// Idle timeout of flows not yet answered (and TCP before the handshake).
    #[arg(long, value_name = "SECS", default_value_t = 30)]
    pub new_timeout: u64,

    /// Flows longer than this are reported and continue in a new record.
    #[arg(long, value_name = "SECS", default_value_t = 1800)]
    pub active_timeout: u64,

    /// Worker 0's share of the traffic relative to an even split (it also
    /// reads and routes every packet). For tuning; the default suits most.
    #[arg(long, value_name = "RATIO", default_value_t = Options::default().lead_share, hide = true)]
    pub lead_share: f64,

    #[command(flatten)]
    pub rules: RulesArgs,

    /// No summary.
    #[arg(short, long)]
    pub quiet: bool,

    /// No progress bar (it is shown only on a terminal, for large inputs).
    #[arg(long)]
    pub no_progress: bool,
}

impl AnalyzeArgs {
    fn options(&self) -> Result<Options> {
        let threads = match self.threads {
            Some(0) => anyhow::bail!("--threads must be at least 1"),
            Some(n) => n,
            None => std::thread::available_parallelism().map_or(1, |n| n.get()),
        };
        if self.max_flows == 0 {
            anyhow::bail!("--max-flows must be at least 1");
        }
        let s = |secs: u64| secs.saturating_mul(NANOS_PER_SEC);
        Ok(Options {
            threads,
            order: if self.merge {
                Order::Merged
            } else {
                Order::Sequential
            },
            flows: FlowConfig {
                new_timeout: s(self.new_timeout),
                tcp_established_timeout: s(self.tcp_timeout),
                other_established_timeout: s(self.udp_timeout),
                active_timeout: s(self.active_timeout),
                capacity: self.max_flows,
                ..FlowConfig::default()
            },
            ..Options::default()
        })
    }
}

/// Rule files, shared by `analyze` and `live`.
#[derive(Args, Debug, Clone)]
pub struct RulesArgs {
    /// Rule file (sift rules or the Suricata subset, told apart by their
    /// syntax); repeat for several. See rules/README.md.
    #[arg(long = "rules", id = "rule_files", value_name = "FILE")]
    pub rule_files: Vec<PathBuf>,

    /// Directory of compiled rule databases [default: $SIFT_CACHE_DIR,
    /// $XDG_CACHE_HOME/sift or ~/.cache/sift].
    #[arg(long, value_name = "DIR")]
    pub rules_cache: Option<PathBuf>,

    /// Compile the rules every time, without the cache.
    #[arg(long)]
    pub no_rules_cache: bool,
}

impl RulesArgs {
    pub fn load_options(&self) -> LoadOptions {
        if self.no_rules_cache {
            LoadOptions::default()
        } else if let Some(d) = &self.rules_cache {
            LoadOptions {
                cache_dir: Some(d.clone()),
            }
        } else {
            LoadOptions::with_default_cache()
        }
    }

    /// Loads the rule files, if any were given; warnings go to stderr.
    pub fn load(&self) -> Result<Option<Arc<RuleSet>>> {
        if self.rule_files.is_empty() {
            return Ok(None);
        }
        let set =
            RuleSet::load(&self.rule_files, &self.load_options()).map_err(anyhow::Error::new)?;
        for w in &set.warnings {
            eprintln!("{w}");
        }
        if let Some(w) = &set.build.cache_warning {
            eprintln!("sift: warning: {w}");
        }
        Ok(Some(set))
    }
}

fn is_broken_pipe(e: &io::Error) -> bool {
    e.kind() == io::ErrorKind::BrokenPipe
}

pub fn run(args: AnalyzeArgs) -> Result<ExitCode> {
    let mut opts = args.options()?;
    opts.rules = args.rules.load()?;
    let files = args
        .files
        .iter()
        .map(|p| CaptureFile::open(p))
        .collect::<Result<Vec<_>, _>>()?;
    let names: Vec<String> = args.files.iter().map(|p| p.display().to_string()).collect();

    let records_to_stdout = args.format == Format::Json && args.output.is_none();
    let out: Box<dyn Write> = match &args.output {
        Some(p) => Box::new(
            File::create(p)
                .with_context(|| format!("{}: cannot create output file", p.display()))?,
        ),
        None => Box::new(io::stdout().lock()),
    };
    let mut eve = (args.format == Format::Json)
        .then(|| EveWriter::new(BufWriter::with_capacity(1 << 16, out), names.clone()));

    let total: u64 = files.iter().map(|f| f.len() as u64).sum();
    let bar = (!args.no_progress && io::stderr().is_terminal() && total > 32 << 20).then(|| {
        let b = indicatif::ProgressBar::new(total);
        b.set_style(
            indicatif::ProgressStyle::with_template(
                "{bar:40} {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
            )
            .expect("static template"),
        );
        b
    });

    let stop = AtomicBool::new(false);
    let mut tally = FlowTally::default();
    let result = pipeline::run_files(
        &files,
        &opts,
        &stop,
        &mut |offset| {
            if let Some(b) = &bar {
                b.set_position(offset);
            }
        },
        &mut |ev| -> io::Result<()> {
            match ev {
                Event::Flow(r) => {
                    tally.add(&r);
                    if let Some(w) = eve.as_mut() {
                        w.flow(&r)?;
                    }
                }
                Event::Alert(a) => {
                    tally.alerts += 1;
                    if let Some(w) = eve.as_mut() {
                        w.alert(&a)?;
                    }
                }
            }
            Ok(())
        },
    );
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    let report = match result {
        Ok(r) => r,
        Err(e) if is_broken_pipe(&e) => return Ok(ExitCode::SUCCESS),
        Err(e) => return Err(e).context("cannot write records"),
    };
    if let Some(w) = eve.as_mut() {
        match w.flush() {
            Err(e) if is_broken_pipe(&e) => return Ok(ExitCode::SUCCESS),
            r => r.context("cannot write records")?,
        }
    }
    for f in &report.files {
        if let Some(e) = &f.error {
            eprintln!(
                "sift: warning: {}: {e}; {} packets before it were analyzed",
                names[f.file],
                summary::thousands(f.packets)
            );
        }
    }
    if !args.quiet {
        let text = summary::render(&names, &report, &tally);
        if records_to_stdout {
            eprint!("{text}");
        } else {
            let mut so = io::stdout().lock();
            if let Err(e) = so.write_all(text.as_bytes()).and_then(|()| so.flush()) {
                if !is_broken_pipe(&e) {
                    return Err(e).context("cannot write the summary");
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
