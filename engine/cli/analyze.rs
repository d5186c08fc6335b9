//! `sift analyze`: read capture files, write flow records and a summary.

use std::io::{self, IsTerminal};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};

use anyhow::{Context, Result};
use clap::Args;

use super::flags::{self, is_broken_pipe, threads, FlowArgs, Format, RulesArgs};
use super::sinks::{self, SinkArgs};
use sift_lib::capture::file::Order;
use sift_lib::output::eve::{EveFormat, EveWriter, EventTypes};
use sift_lib::output::html::{self, digest::Digest, DigestSink};
use sift_lib::output::recorder::Recorder;
use sift_lib::output::summary;
use sift_lib::pipeline::files::FilesAtOnce;
use sift_lib::pipeline::{self, Options};

use crate as sift_lib;

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

    #[command(flatten)]
    pub flows: FlowArgs,

    /// Worker 0's share of the traffic relative to an even split (it also
    /// reads and routes every packet). For tuning; the default suits most.
    #[arg(long, value_name = "RATIO", default_value_t = Options::default().lead_share, hide = true)]
    pub lead_share: f64,

    /// Several files read one after the other: analyze them at once, one
    /// per worker (`auto`: when no file holds more than an even share of
    /// the bytes), or never. For testing and tuning.
    #[arg(
        long,
        value_enum,
        value_name = "WHEN",
        default_value = "auto",
        hide = true
    )]
    pub files_at_once: FilesAtOnce,

    #[command(flatten)]
    pub rules: RulesArgs,

    #[command(flatten)]
    pub sinks: SinkArgs,

    /// Also write an HTML report of the run to FILE (self-contained: charts,
    /// findings, server names, rule hits, a flow table).
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,

    /// Flows listed in the report's table at most (every flow with a finding
    /// or a rule hit first, then those with the most bytes).
    #[arg(long, value_name = "N", default_value_t = html::DEFAULT_ROWS)]
    pub report_rows: usize,

    /// EVE event types written with `--format json`: `flow`, `alert`, and
    /// Suricata's per-transaction `dns` (every DNS message of a flow) and
    /// `http` (every request of a connection), at most 64 kept per flow,
    /// and `tls`, `quic`; comma-separated.
    #[arg(long, value_name = "TYPES", default_value = "flow,alert", value_parser = EventTypes::parse)]
    pub events: EventTypes,

    /// No summary.
    #[arg(short, long)]
    pub quiet: bool,

    /// No progress bar (it is shown only on a terminal, for large inputs).
    #[arg(long)]
    pub no_progress: bool,
}

impl AnalyzeArgs {
    fn options(&self) -> Result<Options> {
        Ok(Options {
            threads: threads(self.threads)?,
            order: if self.merge {
                Order::Merged
            } else {
                Order::Sequential
            },
            flows: self.flows.config()?,
            defrag: self.flows.defrag(),
            reassembly: self.flows.plan().reassembly,
            memory: Some(self.flows.plan()),
            rules: self.rules.load()?,
            lead_share: self.lead_share,
            files_at_once: self.files_at_once,
            ..Options::default()
        })
    }
}

pub fn run(args: AnalyzeArgs) -> Result<ExitCode> {
    let mut opts = args.options()?;
    let files = crate::capture::file::open_all(&args.files)?;
    let names: Vec<String> = args.files.iter().map(|p| p.display().to_string()).collect();

    let records_to_stdout = args.format == Format::Json && args.output.is_none();
    let out = flags::output(args.output.as_ref())?;
    let mut rec = Recorder::new((args.format == Format::Json).then(|| {
        let mut w = EveWriter::new(out, names.clone());
        w.set_events(args.events);
        w
    }));
    opts.transactions = args.events.has(EventTypes::DNS) || args.events.has(EventTypes::HTTP);

    let format = EveFormat::files(names.clone());
    args.sinks.start(&mut rec, &format, false)?;
    // The report file is created before the run, so that a bad path fails
    // at once.
    let report_out = match &args.report {
        Some(p) => Some((p, flags::output(Some(p))?)),
        None => None,
    };
    let digest = report_out.as_ref().map(|_| {
        let d = Arc::new(Mutex::new(Digest::new(args.report_rows)));
        rec.add_sink(
            Box::new(DigestSink::new(Arc::clone(&d), format.clone())),
            &format,
        );
        d
    });
    opts.render = rec.render_format();
    // Fingerprints only when records or rules read them (the summary
    // shows none).
    opts.fingerprints =
        rec.keeps_records() || opts.rules.as_ref().is_some_and(|r| r.reads_fingerprints());

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

    let signals = Interrupt::register()?;
    let result = pipeline::run_files(
        &files,
        &opts,
        &signals.stop,
        &mut |offset| {
            if let Some(b) = &bar {
                b.set_position(offset);
            }
        },
        &mut |ev, line| rec.event(ev, line),
    );
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    let report = match result {
        Ok(r) => r,
        Err(e) if is_broken_pipe(&e) => return Ok(ExitCode::SUCCESS),
        Err(e) => return Err(e).context("cannot write records"),
    };
    match rec.flush() {
        Err(e) if is_broken_pipe(&e) => return Ok(ExitCode::SUCCESS),
        r => r.context("cannot write records")?,
    }
    let delivered = rec.finish_sinks();
    sinks::warn_undelivered(&delivered);
    if let (Some((path, out)), Some(d)) = (report_out, digest) {
        let mut d = d.lock().unwrap_or_else(|p| p.into_inner());
        let source = html::Source {
            inputs: &names,
            run: Some(&report),
            skipped: 0,
        };
        write_report(path, out, &mut d, &source)?;
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
        let mut text = summary::render(&names, &report, &rec.tally);
        text.push_str(&sinks::summary(&delivered));
        flags::print_summary(&text, records_to_stdout)?;
    }
    if report.interrupted {
        eprintln!(
            "sift: interrupted: the records and the summary cover the packets read before the \
             signal; flows still open were reported with reason \"shutdown\""
        );
        return Ok(ExitCode::from(signals.exit_code()));
    }
    Ok(ExitCode::SUCCESS)
}

/// SIGINT and SIGTERM during `analyze`: the first stops reading (what was
/// read is reported, open flows with reason `shutdown`, then the summary;
/// exit 130 after SIGINT, 143 after SIGTERM, as a shell reports a command
/// a signal ended); a second exits at once with 1.
struct Interrupt {
    stop: Arc<AtomicBool>,
    term: Arc<AtomicBool>,
}

impl Interrupt {
    fn register() -> Result<Interrupt> {
        use signal_hook::consts::{SIGINT, SIGTERM};
        use signal_hook::flag;
        let i = Interrupt {
            stop: Arc::new(AtomicBool::new(false)),
            term: Arc::new(AtomicBool::new(false)),
        };
        let r = || -> io::Result<()> {
            for sig in [SIGINT, SIGTERM] {
                flag::register_conditional_shutdown(sig, 1, Arc::clone(&i.stop))?;
                flag::register(sig, Arc::clone(&i.stop))?;
            }
            flag::register(SIGTERM, Arc::clone(&i.term))?;
            Ok(())
        };
        r().context("cannot install signal handlers")?;
        Ok(i)
    }

    fn exit_code(&self) -> u8 {
        if self.term.load(std::sync::atomic::Ordering::Relaxed) {
            143
        } else {
            130
        }
    }
}

/// Renders the report and writes it; says where on stderr.
pub fn write_report(
    path: &std::path::Path,
    mut out: Box<dyn std::io::Write>,
    d: &mut Digest,
    source: &html::Source<'_>,
) -> Result<()> {
    let page = html::render(d, source);
    out.write_all(page.as_bytes())
        .and_then(|()| out.flush())
        .with_context(|| format!("{}: cannot write the report", path.display()))?;
    eprintln!(
        "sift: report written to {} ({})",
        path.display(),
        summary::bytes(page.len() as u64)
    );
    Ok(())
}
