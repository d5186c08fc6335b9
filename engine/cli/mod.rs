//! The command line: flags parsed into a validated configuration, handed to
//! the library. `--help` is the manual; each flag is documented where it is
//! defined.
//!
//! Exit codes: 0 success (warnings, such as a truncated capture, are
//! printed but do not fail the run; `sift live` stopped by SIGINT or
//! SIGTERM); 2 error (bad flags, unreadable or non-capture input, an
//! interface that cannot be captured on, output that cannot be written);
//! 130 / 143 `sift analyze` interrupted by SIGINT / SIGTERM (what was read is
//! reported; a second signal exits at once with 1). A closed output pipe
//! (`sift ... | head`) ends the run quietly with 0.

mod analyze;
mod flags;
mod live;
mod report;
mod rules;
mod sinks;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// sift: traffic classification for network operators, security analysts
/// and censorship researchers.
#[derive(Parser, Debug)]
#[command(
    name = "sift",
    version,
    about,
    long_about = None,
    max_term_width = 100,
    after_help = "Exit codes: 0 success (warnings such as a truncated capture included), 2 error, \
                  130/143 analyze interrupted by SIGINT/SIGTERM (what was read is reported)."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Analyze capture files (pcap or pcapng): per-flow records and a summary.
    Analyze(analyze::AnalyzeArgs),
    /// Capture on network interfaces (libpcap): flow records as flows end,
    /// stats while running, a summary on SIGINT/SIGTERM.
    Live(live::LiveArgs),
    /// Check rule files and test them against captures.
    #[command(subcommand)]
    Rules(rules::RulesCommand),
    /// Write a self-contained HTML report from captures or from sift's EVE JSON.
    Report(report::ReportArgs),
}

/// Exit code for errors.
pub const EXIT_ERROR: u8 = 2;

/// Runs sift with the process's arguments.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { EXIT_ERROR } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    let result = match cli.command {
        Command::Analyze(args) => analyze::run(args),
        Command::Live(args) => live::run(args),
        Command::Rules(cmd) => rules::run(cmd),
        Command::Report(args) => report::run(args),
    };
    match result {
        Ok(code) => code,
        // Rule files: the diagnostics speak for themselves.
        Err(e) if e.downcast_ref::<crate::rules::Diagnostics>().is_some() => {
            eprintln!("{e}");
            ExitCode::from(EXIT_ERROR)
        }
        Err(e) => {
            eprintln!("sift: error: {e:#}");
            ExitCode::from(EXIT_ERROR)
        }
    }
}
