//! `sift live`: capture on network interfaces, write flow records as flows
//! end, report stats while running, and a summary on stop.
//!
//! Signals: SIGINT or SIGTERM stops the capture (a second one exits at
//! once with code 1); every flow still open is reported with reason
//! `shutdown`, then the final stats and the summary are printed, exit 0.
//! SIGUSR1 prints a stats line. SIGHUP reloads the configuration workers
//! take from the control path (today there is nothing to reload).

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use clap::Args;
use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM, SIGUSR1};

use super::analyze::Format;
use sift_lib::capture::live::{self, HandleConfig};
use sift_lib::capture::NANOS_PER_SEC;
use sift_lib::flow::FlowConfig;
use sift_lib::output::eve::EveWriter;
use sift_lib::output::summary::{self, FlowTally};
use sift_lib::pipeline::live::{self as pipe, Consumer, Control, LiveOptions, Monitor, Snapshot};
use sift_lib::pipeline::worker::{Event, Worker};

use crate as sift_lib;

#[derive(Args, Debug)]
#[command(
    after_help = "Needs root, or the CAP_NET_RAW and CAP_NET_ADMIN capabilities.\n\
Signals: SIGINT or SIGTERM stops: every open flow is reported (reason \"shutdown\"), \
then the final stats and the summary; exit 0 (a second signal exits at once with 1). \
SIGUSR1 prints a stats line. SIGHUP reloads the workers' configuration.\n\
Exit codes: 0 stopped by a signal, 2 error (no such interface, no permission, \
an invalid BPF expression, output that cannot be written, a capture failure)."
)]
pub struct LiveArgs {
    /// Interface to capture on; repeat for several (`any`: all of them).
    #[arg(
        short = 'i',
        long = "interface",
        value_name = "IFACE",
        required_unless_present = "list"
    )]
    pub interfaces: Vec<String>,

    /// List the interfaces (with their flags and addresses) and exit.
    #[arg(long, conflicts_with = "interfaces")]
    pub list: bool,

    /// Capture only packets matching this BPF expression (tcpdump syntax).
    #[arg(long, value_name = "EXPR")]
    pub bpf: Option<String>,

    /// Worker threads (default: the number of cores).
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,

    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Summary)]
    pub format: Format,

    /// Write records to FILE instead of stdout.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Bytes kept of each packet.
    #[arg(long, value_name = "N", default_value_t = HandleConfig::default().snaplen)]
    pub snaplen: u32,

    /// Kernel ring of each capture handle (one per worker and interface), in MiB.
    #[arg(long, value_name = "MiB", default_value_t = HandleConfig::default().buffer_bytes >> 20)]
    pub buffer_size: u32,

    /// Put the interfaces in promiscuous mode.
    #[arg(long)]
    pub promisc: bool,

    /// The kernel hands packets over in blocks, each when full or after MS
    /// milliseconds; 0: one by one (libpcap's immediate mode, whose ring
    /// holds far fewer packets: see benches/LIVE.md).
    #[arg(long, value_name = "MS", default_value_t = HandleConfig::default().block_timeout_ms)]
    pub block_timeout: u32,

    /// Print a stats line on stderr every SECS seconds (0: only on SIGUSR1).
    #[arg(long, value_name = "SECS", default_value_t = 10)]
    pub stats_interval: u64,

    /// Never use AF_PACKET fanout: one reader thread per interface
    /// dispatches packets to the workers.
    #[arg(long)]
    pub no_fanout: bool,

    /// Flows held at once (all workers together); beyond it the least
    /// recently active flow is evicted and reported with reason "forced".
    #[arg(long, value_name = "N", default_value_t = FlowConfig::default().capacity)]
    pub max_flows: usize,

    /// Idle timeout of established TCP flows, in seconds.
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

    /// No summary at the end.
    #[arg(short, long)]
    pub quiet: bool,
}

impl LiveArgs {
    fn options(&self) -> Result<LiveOptions> {
        let threads = match self.threads {
            Some(0) => anyhow::bail!("--threads must be at least 1"),
            Some(n) => n,
            None => std::thread::available_parallelism().map_or(1, |n| n.get()),
        };
        if self.max_flows == 0 {
            anyhow::bail!("--max-flows must be at least 1");
        }
        if self.snaplen == 0 {
            anyhow::bail!("--snaplen must be at least 1");
        }
        let buffer_bytes = self
            .buffer_size
            .checked_mul(1 << 20)
            .filter(|&b| b > 0 && b <= i32::MAX as u32)
            .context("--buffer-size must be from 1 to 2047 MiB")?;
        let s = |secs: u64| secs.saturating_mul(NANOS_PER_SEC);
        Ok(LiveOptions {
            interfaces: self.interfaces.clone(),
            handle: HandleConfig {
                snaplen: self.snaplen,
                buffer_bytes,
                promisc: self.promisc,
                block_timeout_ms: self.block_timeout,
                filter: self.bpf.clone(),
            },
            threads,
            fanout: !self.no_fanout,
            flows: FlowConfig {
                new_timeout: s(self.new_timeout),
                tcp_established_timeout: s(self.tcp_timeout),
                other_established_timeout: s(self.udp_timeout),
                active_timeout: s(self.active_timeout),
                capacity: self.max_flows,
                ..FlowConfig::default()
            },
            defrag: Default::default(),
        })
    }
}

/// What workers take from the control path on SIGHUP. Nothing yet: rule
/// sets will live here.
#[derive(Debug, Default)]
pub struct WorkerConfig {}

/// Applies a configuration to a worker.
fn apply(_worker: &mut Worker, _config: &Arc<WorkerConfig>) {}

/// Signals, set by handlers and taken by the output thread.
struct Signals {
    stop: Arc<AtomicBool>,
    usr1: Arc<AtomicBool>,
    hup: Arc<AtomicBool>,
}

impl Signals {
    fn register() -> Result<Signals> {
        use signal_hook::flag;
        let s = Signals {
            stop: Arc::new(AtomicBool::new(false)),
            usr1: Arc::new(AtomicBool::new(false)),
            hup: Arc::new(AtomicBool::new(false)),
        };
        let r = || -> io::Result<()> {
            for sig in [SIGINT, SIGTERM] {
                // A second signal while stopping exits at once (code 1).
                flag::register_conditional_shutdown(sig, 1, Arc::clone(&s.stop))?;
                flag::register(sig, Arc::clone(&s.stop))?;
            }
            flag::register(SIGUSR1, Arc::clone(&s.usr1))?;
            flag::register(SIGHUP, Arc::clone(&s.hup))?;
            Ok(())
        };
        r().context("cannot install signal handlers")?;
        Ok(s)
    }
}

/// Writes records as workers produce them and prints stats lines.
struct Output<'a> {
    eve: Option<EveWriter<BufWriter<Box<dyn Write>>>>,
    tally: FlowTally,
    signals: &'a Signals,
    interval: Option<Duration>,
    next_stats: Instant,
    last: Option<Snapshot>,
}

impl Consumer<WorkerConfig> for Output<'_> {
    type Error = io::Error;

    fn event(&mut self, ev: Event) -> io::Result<()> {
        match ev {
            Event::Flow(r) => {
                self.tally.add(&r);
                if let Some(w) = self.eve.as_mut() {
                    w.flow(&r)?;
                }
            }
            Event::Alert(a) => {
                self.tally.alerts += 1;
                if let Some(w) = self.eve.as_mut() {
                    w.alert(&a)?;
                }
            }
        }
        Ok(())
    }

    fn flush(&mut self) -> io::Result<()> {
        match self.eve.as_mut() {
            Some(w) => w.flush(),
            None => Ok(()),
        }
    }

    fn tick(&mut self, monitor: &Monitor<'_, WorkerConfig>) {
        let now = Instant::now();
        let due = self.interval.is_some_and(|_| now >= self.next_stats);
        if self.signals.usr1.swap(false, Ordering::Relaxed) || due {
            let snap = monitor.snapshot();
            eprintln!("sift: stats: {}", snap.line(self.last.as_ref()));
            self.last = Some(snap);
            if let Some(i) = self.interval {
                self.next_stats = now + i;
            }
        }
        if self.signals.hup.swap(false, Ordering::Relaxed) {
            eprintln!("sift: SIGHUP: no rule files to reload");
        }
    }
}

fn is_broken_pipe(e: &io::Error) -> bool {
    e.kind() == io::ErrorKind::BrokenPipe
}

fn list() -> Result<ExitCode> {
    let mut so = io::stdout().lock();
    for i in live::interfaces()? {
        if let Err(e) = writeln!(so, "{i}") {
            if is_broken_pipe(&e) {
                break;
            }
            return Err(e).context("cannot write the list");
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub fn run(args: LiveArgs) -> Result<ExitCode> {
    if args.list {
        return list();
    }
    let opts = args.options()?;
    let signals = Signals::register()?;
    let records_to_stdout = args.format == Format::Json && args.output.is_none();
    let out: Box<dyn Write> = match &args.output {
        Some(p) => Box::new(
            File::create(p)
                .with_context(|| format!("{}: cannot create output file", p.display()))?,
        ),
        None => Box::new(io::stdout().lock()),
    };
    let capture = pipe::open(&opts)?;
    if let Some(e) = capture.fallback() {
        eprintln!("sift: note: {e}; a reader thread per interface dispatches instead");
    }
    eprintln!(
        "sift: capturing on {}; stop with SIGINT or SIGTERM, stats on SIGUSR1",
        capture.describe()
    );
    let names = capture.interfaces.clone();
    let interval = (args.stats_interval > 0).then(|| Duration::from_secs(args.stats_interval));
    let mut output = Output {
        eve: (args.format == Format::Json)
            .then(|| EveWriter::live(BufWriter::with_capacity(1 << 16, out), names.clone())),
        tally: FlowTally::default(),
        signals: &signals,
        interval,
        next_stats: Instant::now() + interval.unwrap_or_default(),
        last: None,
    };
    let control = Control::new(WorkerConfig::default());
    let result = pipe::run(capture, &opts, &control, &apply, &signals.stop, &mut output);
    let done = match result {
        Ok(r) => r,
        Err(e) if is_broken_pipe(&e) => return Ok(ExitCode::SUCCESS),
        Err(e) => return Err(e).context("cannot write records"),
    };
    eprintln!("sift: stopped: {}", done.last.line(None));
    if let Some(e) = done.error {
        return Err(e.into());
    }
    if !args.quiet {
        let title = [names.join(", ")];
        let text = summary::render_as("sift live", &title, &done.report, &output.tally);
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
