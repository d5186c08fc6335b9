//! `sift live`: capture on network interfaces, write flow records as flows
//! end, report stats while running, and a summary on stop.
//!
//! Signals: SIGINT or SIGTERM stops the capture (a second one exits at
//! once with code 1); every flow still open is reported with reason
//! `shutdown`, then the final stats and the summary are printed, exit 0.
//! SIGUSR1 prints a stats line. SIGHUP reads the rule files again: the
//! workers take the new rule set between two batches of packets; a rule
//! set with errors is refused and the running one kept.

use std::io::{self, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use clap::Args;
use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM, SIGUSR1};

use super::flags::{self, is_broken_pipe, threads, FlowArgs, Format, RulesArgs};
use super::sinks::{self, SinkArgs};
use sift_lib::capture::live::{self, HandleConfig};
use sift_lib::capture::privileges;
use sift_lib::output::eve::{EveFormat, EveWriter, EventTypes};
use sift_lib::output::metrics::{self, CaptureCounters, MetricsServer, MetricsTally};
use sift_lib::output::recorder::Recorder;
use sift_lib::output::summary;
use sift_lib::pipeline::live::{self as pipe, Consumer, Control, LiveOptions, Monitor, Snapshot};
use sift_lib::pipeline::worker::{Event, Worker};
use sift_lib::rules::RuleSet;

use crate as sift_lib;

#[derive(Args, Debug)]
#[command(
    after_help = "Needs root, or the CAP_NET_RAW and CAP_NET_ADMIN capabilities.\n\
Signals: SIGINT or SIGTERM stops: every open flow is reported (reason \"shutdown\"), \
then the final stats and the summary; exit 0 (a second signal exits at once with 1). \
SIGUSR1 prints a stats line. SIGHUP reloads the rule files (kept as they were if the new ones have errors).\n\
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

    /// Once the capture is open, run as this user (a name or a numeric id)
    /// with no capabilities. Started as root, sift becomes `nobody` unless
    /// told otherwise; `--user root` keeps root. The output, the sinks and
    /// the metrics listener are opened before; SIGHUP reloads then read the
    /// rule files (and the rule cache) as this user.
    #[arg(long, value_name = "USER")]
    pub user: Option<String>,

    /// The group to run as after the drop [default: the user's primary
    /// group].
    #[arg(long, value_name = "GROUP", requires = "user")]
    pub group: Option<String>,

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

    #[command(flatten)]
    pub flows: FlowArgs,

    #[command(flatten)]
    pub rules: RulesArgs,

    #[command(flatten)]
    pub sinks: SinkArgs,

    /// Serve Prometheus metrics at http://ADDR/metrics (e.g. 127.0.0.1:9100).
    #[arg(long, value_name = "ADDR")]
    pub metrics: Option<String>,

    /// EVE event types written with `--format json`: `flow`, `alert`, and
    /// Suricata's per-transaction `dns`, `http`, `tls`, `quic`
    /// (as `sift analyze --events`).
    #[arg(long, value_name = "TYPES", default_value = "flow,alert", value_parser = EventTypes::parse)]
    pub events: EventTypes,

    /// No summary at the end.
    #[arg(short, long)]
    pub quiet: bool,
}

impl LiveArgs {
    fn options(&self) -> Result<LiveOptions> {
        let threads = threads(self.threads)?;
        if self.snaplen == 0 {
            anyhow::bail!("--snaplen must be at least 1");
        }
        let buffer_bytes = self
            .buffer_size
            .checked_mul(1 << 20)
            .filter(|&b| b > 0 && b <= i32::MAX as u32)
            .context("--buffer-size must be from 1 to 2047 MiB")?;
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
            flows: self.flows.config()?,
            defrag: self.flows.defrag(),
            reassembly: self.flows.plan().reassembly,
        })
    }
}

/// What workers take from the control path: the rule set (at start, and
/// again on SIGHUP).
#[derive(Debug, Default)]
pub struct WorkerConfig {
    rules: Option<Arc<RuleSet>>,
    /// Per-transaction events asked for (`--events dns|http`).
    transactions: bool,
}

/// Applies a configuration to a worker.
fn apply(worker: &mut Worker, config: &Arc<WorkerConfig>) {
    worker.set_rules(config.rules.clone(), config.transactions);
}

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
    rec: Recorder<Box<dyn Write>>,
    rules: &'a RulesArgs,
    /// Per-transaction events asked for (kept across rule reloads).
    transactions: bool,
    signals: &'a Signals,
    interval: Option<Duration>,
    next_stats: Instant,
    last: Option<Snapshot>,
    /// The Prometheus endpoint and what it counts beyond the summary.
    metrics: Option<(MetricsServer, MetricsTally)>,
    /// Unix time the capture started.
    started: f64,
}

impl Consumer<WorkerConfig> for Output<'_> {
    type Error = io::Error;

    fn event(&mut self, ev: Event) -> io::Result<()> {
        if let Some((_, tally)) = &mut self.metrics {
            tally.event(&ev);
        }
        self.rec.event(&ev, None)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.rec.flush()
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
            self.reload(monitor);
        }
        if let Some((server, tally)) = &self.metrics {
            if server.wanted() {
                let s = monitor.snapshot();
                let c = CaptureCounters {
                    packets: s.packets,
                    bytes: s.bytes,
                    kernel_drops: s.kernel_drops,
                    iface_drops: s.iface_drops,
                    active_flows: s.active_flows,
                    evicted: s.evicted,
                    per_worker: s.per_worker,
                    memory: s.memory,
                    start_time: self.started,
                };
                let sinks: Vec<_> = self.rec.sinks.iter().map(|s| s.stats()).collect();
                server.publish(metrics::render(&c, &self.rec.tally, tally, &sinks));
            }
        }
    }
}

impl Output<'_> {
    /// SIGHUP: reads the rule files again and hands the new set to the
    /// workers; on any error the running rules stay.
    fn reload(&self, monitor: &Monitor<'_, WorkerConfig>) {
        let files = &self.rules.rule_files;
        if files.is_empty() {
            eprintln!("sift: SIGHUP: no rule files to reload");
            return;
        }
        match self.rules.cache.load_as(files, privileges::is_root()) {
            Ok(set) => {
                let n = set.rules.len();
                let generation = monitor.control().publish(WorkerConfig {
                    rules: Some(set),
                    transactions: self.transactions,
                });
                eprintln!(
                    "sift: SIGHUP: reloaded {} rules from {} files (generation {generation})",
                    summary::thousands(n as u64),
                    files.len()
                );
            }
            Err(e) => {
                eprintln!("sift: SIGHUP: rule files not reloaded, the running rules stay:\n{e}")
            }
        }
    }
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
    let root = privileges::is_root();
    let run_as = match (&args.user, root) {
        (Some(u), _) => {
            Some(privileges::resolve(u, args.group.as_deref()).map_err(anyhow::Error::msg)?)
        }
        (None, true) => {
            Some(privileges::resolve(privileges::DEFAULT_USER, None).map_err(anyhow::Error::msg)?)
        }
        (None, false) => None,
    };
    let rules = args.rules.load_as(root)?;
    let signals = Signals::register()?;
    let records_to_stdout = args.format == Format::Json && args.output.is_none();
    let out = flags::output(args.output.as_ref())?;
    let capture = pipe::open(&opts)?;
    if let Some(e) = capture.fallback() {
        eprintln!("sift: note: {e}; a reader thread per interface dispatches instead");
    }
    eprintln!(
        "sift: capturing on {}; stop with SIGINT or SIGTERM, stats on SIGUSR1",
        capture.describe()
    );
    let names = capture.interfaces.clone();
    let metrics = match &args.metrics {
        Some(addr) => {
            let server = MetricsServer::start(addr)?;
            eprintln!("sift: metrics at http://{}/metrics", server.addr());
            Some((server, MetricsTally::default()))
        }
        None => None,
    };
    let interval = (args.stats_interval > 0).then(|| Duration::from_secs(args.stats_interval));
    let transactions = args.events.has(EventTypes::DNS) || args.events.has(EventTypes::HTTP);
    let mut output = Output {
        rec: Recorder::new((args.format == Format::Json).then(|| {
            let mut w = EveWriter::live(out, names.clone());
            w.set_events(args.events);
            w
        })),
        rules: &args.rules,
        transactions,
        signals: &signals,
        interval,
        next_stats: Instant::now() + interval.unwrap_or_default(),
        last: None,
        metrics,
        started: std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0.0, |d| d.as_secs_f64()),
    };
    args.sinks
        .start(&mut output.rec, &EveFormat::interfaces(names.clone()), true)?;
    if let Some(to) = &run_as {
        privileges::drop_to(to)
            .map_err(anyhow::Error::msg)
            .context("cannot drop privileges")?;
        if to.uid != 0 {
            eprintln!(
                "sift: running as user {} (uid {}, gid {}), no capabilities",
                to.user, to.uid, to.gid
            );
        }
    }
    let control = Control::new(WorkerConfig {
        rules,
        transactions,
    });
    let result = pipe::run(capture, &opts, &control, &apply, &signals.stop, &mut output);
    let done = match result {
        Ok(r) => r,
        Err(e) if is_broken_pipe(&e) => return Ok(ExitCode::SUCCESS),
        Err(e) => return Err(e).context("cannot write records"),
    };
    eprintln!("sift: stopped: {}", done.last.line(None));
    let delivered = output.rec.finish_sinks();
    sinks::warn_undelivered(&delivered);
    if let Some(e) = done.error {
        return Err(e.into());
    }
    if !args.quiet {
        let title = [names.join(", ")];
        let mut text = summary::render_as("sift live", &title, &done.report, &output.rec.tally);
        text.push_str(&sinks::summary(&delivered));
        flags::print_summary(&text, records_to_stdout)?;
    }
    Ok(ExitCode::SUCCESS)
}
