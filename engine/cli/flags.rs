//! Flags more than one command takes: the flow table and its timeouts,
//! rule files, the thread count, the output.

use std::fs::File;
use std::io::{self, Write};
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, Result};
use clap::{Args, ValueEnum};

use crate::capture::{Timestamp, NANOS_PER_SEC};
use crate::decode::defrag::DefragConfig;
use crate::flow::budget::{self, MemoryPlan};
use crate::flow::FlowConfig;
use crate::rules::{LoadOptions, RuleSet};

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// A report for people (default).
    Summary,
    /// One EVE JSON object per line (Suricata field names); the summary goes
    /// to stderr when the JSON goes to stdout.
    Json,
}

/// The flow table: its capacity and timeouts.
#[derive(Args, Debug, Clone)]
pub struct FlowArgs {
    /// Flows held at once (all workers together); beyond it the least
    /// recently active flow is evicted and reported with reason "forced".
    #[arg(long, value_name = "N", default_value_t = FlowConfig::default().capacity)]
    pub max_flows: usize,

    /// Idle timeout of established TCP flows, in seconds (0: never).
    #[arg(long, value_name = "SECS", default_value_t = 300)]
    pub tcp_timeout: u64,

    /// Idle timeout of established UDP and other flows, in seconds (0:
    /// never).
    #[arg(long, value_name = "SECS", default_value_t = 120)]
    pub udp_timeout: u64,

    /// Idle timeout of flows not yet answered (and TCP before the
    /// handshake), in seconds (0: never).
    #[arg(long, value_name = "SECS", default_value_t = 30)]
    pub new_timeout: u64,

    /// Flows longer than this are reported and continue in a new record, in
    /// seconds (0: never).
    #[arg(long, value_name = "SECS", default_value_t = 1800)]
    pub active_timeout: u64,

    /// Memory for what grows with the traffic: the flow table (at about
    /// 1.5 KB a flow, so it may hold fewer than --max-flows), TCP
    /// reassembly and IP fragments. A size: 512M, 2G, ... Default: a
    /// quarter of the machine's memory.
    #[arg(long, value_name = "SIZE", value_parser = budget::parse_size)]
    pub memory_limit: Option<u64>,
}

impl FlowArgs {
    /// How the memory limit is shared out.
    pub fn plan(&self) -> MemoryPlan {
        let limit = self.memory_limit.unwrap_or_else(MemoryPlan::default_limit);
        MemoryPlan::new(limit, self.max_flows)
    }

    /// Fragment reassembly's limits under the memory plan.
    pub fn defrag(&self) -> DefragConfig {
        DefragConfig {
            max_bytes: self.plan().fragments,
            ..DefragConfig::default()
        }
    }

    pub fn config(&self) -> Result<FlowConfig> {
        if self.max_flows == 0 {
            anyhow::bail!("--max-flows must be at least 1");
        }
        // 0 turns a timeout off, for every timeout flag alike.
        let s = |secs: u64| match secs {
            0 => Timestamp::MAX,
            secs => secs.saturating_mul(NANOS_PER_SEC),
        };
        Ok(FlowConfig {
            new_timeout: s(self.new_timeout),
            tcp_established_timeout: s(self.tcp_timeout),
            other_established_timeout: s(self.udp_timeout),
            active_timeout: s(self.active_timeout),
            capacity: self.plan().flows,
            ..FlowConfig::default()
        })
    }
}

/// `--threads`, or one worker per core.
pub fn threads(flag: Option<usize>) -> Result<usize> {
    match flag {
        Some(0) => anyhow::bail!("--threads must be at least 1"),
        Some(n) => Ok(n),
        None => Ok(std::thread::available_parallelism().map_or(1, |n| n.get())),
    }
}

/// Where records go: `-o FILE`, else stdout.
pub fn output(path: Option<&PathBuf>) -> Result<Box<dyn Write>> {
    Ok(match path {
        Some(p) => Box::new(
            File::create(p)
                .with_context(|| format!("{}: cannot create output file", p.display()))?,
        ),
        None => Box::new(io::stdout().lock()),
    })
}

pub fn is_broken_pipe(e: &io::Error) -> bool {
    e.kind() == io::ErrorKind::BrokenPipe
}

/// The summary goes to stdout, or to stderr when the records take stdout.
/// A closed pipe is not an error.
pub fn print_summary(text: &str, records_to_stdout: bool) -> Result<()> {
    if records_to_stdout {
        eprint!("{text}");
        return Ok(());
    }
    let mut so = io::stdout().lock();
    match so.write_all(text.as_bytes()).and_then(|()| so.flush()) {
        Err(e) if !is_broken_pipe(&e) => Err(e).context("cannot write the summary"),
        _ => Ok(()),
    }
}

/// Rule files and their cache.
#[derive(Args, Debug, Clone)]
pub struct RulesArgs {
    /// Rule file (sift rules or the Suricata subset, told apart by their
    /// syntax); repeat for several. See rules/README.md.
    #[arg(long = "rules", id = "rule_files", value_name = "FILE")]
    pub rule_files: Vec<PathBuf>,

    #[command(flatten)]
    pub cache: CacheArgs,
}

/// Where compiled rule databases are kept.
#[derive(Args, Debug, Clone)]
pub struct CacheArgs {
    /// Directory of compiled rule databases [default: $SIFT_CACHE_DIR,
    /// $XDG_CACHE_HOME/sift or ~/.cache/sift].
    #[arg(long, value_name = "DIR")]
    pub rules_cache: Option<PathBuf>,

    /// Compile the rules every time, without the cache.
    #[arg(long)]
    pub no_rules_cache: bool,
}

impl CacheArgs {
    pub fn load_options(&self) -> LoadOptions {
        if self.no_rules_cache {
            LoadOptions::default()
        } else if let Some(d) = &self.rules_cache {
            LoadOptions {
                cache_dir: Some(d.clone()),
                privileged: false,
            }
        } else {
            LoadOptions::with_default_cache()
        }
    }

    /// Loads `files` (which must not be empty); warnings go to stderr.
    pub fn load(&self, files: &[PathBuf]) -> Result<Arc<RuleSet>> {
        self.load_as(files, false)
    }

    /// As [`load`](Self::load); `privileged`: refuse rule files, lists and a
    /// cache directory that anyone but root could change.
    pub fn load_as(&self, files: &[PathBuf], privileged: bool) -> Result<Arc<RuleSet>> {
        let opts = LoadOptions {
            privileged,
            ..self.load_options()
        };
        let set = RuleSet::load(files, &opts).map_err(anyhow::Error::new)?;
        for w in &set.warnings {
            eprintln!("{w}");
        }
        if let Some(w) = &set.build.cache_warning {
            eprintln!("sift: warning: {w}");
        }
        Ok(set)
    }
}

impl RulesArgs {
    /// Loads the rule files, if any were given.
    pub fn load(&self) -> Result<Option<Arc<RuleSet>>> {
        self.load_as(false)
    }

    /// As [`load`](Self::load), refusing files others could change when
    /// `privileged`.
    pub fn load_as(&self, privileged: bool) -> Result<Option<Arc<RuleSet>>> {
        if self.rule_files.is_empty() {
            return Ok(None);
        }
        self.cache.load_as(&self.rule_files, privileged).map(Some)
    }
}
