//! `sift rules check` and `sift rules test`: the tools for tuning rule
//! files.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::AtomicBool;

use anyhow::{Context, Result};
use clap::{Args, Subcommand};

use crate::output::rules_report;
use crate::pipeline::worker::Event;
use crate::pipeline::{self, Options};
use crate::rules::tune;

use super::flags::{threads, CacheArgs};

#[derive(Subcommand, Debug)]
pub enum RulesCommand {
    /// Validate rule files: errors at file:line:col, counts, duplicate and
    /// shadowed rules.
    Check(CheckArgs),
    /// Run rule files over captures: hits per rule, rules that never hit,
    /// flows matched by several rules, the names no rule matched.
    Test(TestArgs),
    /// Write a registry dump (the format `list registry` reads) of
    /// generated records to standard output, for tests and benchmarks.
    MakeRegistry(MakeRegistryArgs),
}

#[derive(Args, Debug)]
pub struct MakeRegistryArgs {
    /// Addresses and blocks (IPv4 and IPv6).
    #[arg(long, default_value_t = 1000)]
    pub addresses: u64,
    /// Domains (some `*.` masks, some Unicode).
    #[arg(long, default_value_t = 1000)]
    pub names: u64,
    /// URLs.
    #[arg(long, default_value_t = 100)]
    pub urls: u64,
    /// Deliberately malformed lines, spread over the dump.
    #[arg(long, default_value_t = 0)]
    pub broken: u64,
    /// Seed: the same arguments write the same dump.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
}

#[derive(Args, Debug)]
pub struct CheckArgs {
    /// Rule files (sift rules or the Suricata subset).
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,

    #[command(flatten)]
    pub cache: CacheArgs,
}

#[derive(Args, Debug)]
pub struct TestArgs {
    /// Rule files (sift rules or the Suricata subset).
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,

    /// Capture to run the rules over (repeat for several).
    #[arg(long = "capture", required = true, value_name = "PCAP")]
    pub captures: Vec<PathBuf>,

    /// Print, for every matched flow, which condition of which rule saw
    /// which value.
    #[arg(long)]
    pub explain: bool,

    /// Unmatched names to list.
    #[arg(long, value_name = "N", default_value_t = 20)]
    pub top: usize,

    /// Worker threads (default: the number of cores).
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,

    /// Also report what the block lists (`list registry`, `ip list`,
    /// `http.url`) catch per class of flow (plain, VPN, obfuscated,
    /// evasion): by address, name and URL, the entries that hit, and the
    /// flows that pass inside a VPN or behind an evasion.
    #[arg(long)]
    pub registry_report: bool,

    #[command(flatten)]
    pub cache: CacheArgs,
}

pub fn run(cmd: RulesCommand) -> Result<ExitCode> {
    match cmd {
        RulesCommand::Check(a) => {
            let set = a.cache.load(&a.files)?;
            let report = tune::check(&set);
            print!("{}", rules_report::render_check(&set, &report));
            Ok(ExitCode::SUCCESS)
        }
        RulesCommand::Test(a) => test(a),
        RulesCommand::MakeRegistry(a) => {
            let spec = crate::rules::registry::GenSpec {
                addresses: a.addresses,
                names: a.names,
                urls: a.urls,
                broken: a.broken,
                seed: a.seed,
            };
            let mut out = std::io::BufWriter::new(std::io::stdout().lock());
            let st = crate::rules::registry::generate(&mut out, &spec)
                .and_then(|st| std::io::Write::flush(&mut out).map(|()| st))
                .context("cannot write the dump")?;
            eprintln!(
                "sift: wrote {} lines: {} addresses, {} names, {} URLs, {} malformed",
                st.lines, st.addresses, st.names, st.urls, st.broken
            );
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn test(a: TestArgs) -> Result<ExitCode> {
    let set = a.cache.load(&a.files)?;
    let files = crate::capture::file::open_all(&a.captures)?;
    let opts = Options {
        threads: threads(a.threads)?,
        rules: Some(set.clone()),
        ..Options::default()
    };
    let mut report = rules_report::TestReport::default();
    let mut registry = a
        .registry_report
        .then(|| crate::output::registry_report::RegistryReport::new(&set));
    let stop = AtomicBool::new(false);
    let mut explained = String::new();
    let mut tally = |ev: &Event, _: Option<&[u8]>| -> Result<(), ()> {
        match ev {
            Event::Flow(r) => {
                if a.explain {
                    if let Some(e) = rules_report::explain(r) {
                        explained.push_str(&e);
                    }
                }
                report.add(r);
                if let Some(reg) = registry.as_mut() {
                    reg.add(r);
                }
            }
            Event::Alert(_) => report.alerts += 1,
        }
        Ok(())
    };
    let run = pipeline::run_files(&files, &opts, &stop, &mut |_| {}, &mut tally);
    let run = run.map_err(|()| anyhow::anyhow!("the run stopped"))?;
    for f in &run.files {
        if let Some(e) = &f.error {
            eprintln!(
                "sift: warning: {}: {e}; {} packets before it were analyzed",
                a.captures[f.file].display(),
                f.packets
            );
        }
    }
    if a.explain {
        print!("{explained}");
        if !explained.is_empty() {
            println!();
        }
    }
    print!("{}", report.render(&set, a.top));
    if let Some(reg) = &registry {
        print!("{}", reg.render(a.top));
    }
    std::io::Write::flush(&mut std::io::stdout()).context("cannot write the report")?;
    Ok(ExitCode::SUCCESS)
}
