//! Flags of the sinks `analyze` and `live` share: EVE lines into Redis,
//! flow records to an IPFIX collector.

use std::time::Duration;

use anyhow::{Context, Result};
use clap::Args;

use crate::output::eve::EveFormat;
use crate::output::ipfix::{IpfixConfig, IpfixExporter, DOCUMENTATION_PEN};
use crate::output::recorder::Recorder;
use crate::output::redis::{Overflow, RedisConfig, RedisMode, RedisSink};
use crate::output::sink::SinkStats;
use crate::output::summary::thousands;

#[derive(Args, Debug, Clone)]
pub struct SinkArgs {
    /// Also send every EVE record to the Redis server at HOST:PORT, as
    /// Suricata's redis output does.
    #[arg(long, value_name = "HOST:PORT", help_heading = "Redis")]
    pub redis: Option<String>,

    /// How records go into Redis: list (= lpush), rpush, channel (=
    /// publish) or stream (= xadd).
    #[arg(long, value_name = "MODE", default_value = "list", value_parser = parse_mode, help_heading = "Redis")]
    pub redis_mode: RedisMode,

    /// The list, channel or stream key.
    #[arg(
        long,
        value_name = "KEY",
        default_value = "suricata",
        help_heading = "Redis"
    )]
    pub redis_key: String,

    /// Stream mode: keep about N entries (XADD MAXLEN ~ N; 0: no limit).
    #[arg(
        long,
        value_name = "N",
        default_value_t = 100_000,
        help_heading = "Redis"
    )]
    pub redis_stream_maxlen: u64,

    /// Stream mode: trim to exactly N entries (MAXLEN = N).
    #[arg(long, help_heading = "Redis")]
    pub redis_stream_trim_exact: bool,

    /// Records queued for Redis at most; beyond, records are dropped and
    /// counted (analyze first waits up to 5 s for room).
    #[arg(long, value_name = "N", default_value_t = RedisConfig::default().queue, help_heading = "Redis")]
    pub redis_queue: usize,

    /// Also export every flow record as IPFIX (RFC 7011, UDP) to the
    /// collector at HOST:PORT.
    #[arg(long, value_name = "HOST:PORT", help_heading = "IPFIX")]
    pub ipfix: Option<String>,

    /// Enterprise number of sift's own IPFIX elements [default: 32473,
    /// reserved for documentation].
    #[arg(long, value_name = "PEN", default_value_t = DOCUMENTATION_PEN, hide_default_value = true, help_heading = "IPFIX")]
    pub ipfix_pen: u32,

    /// IPFIX observation domain id.
    #[arg(long, value_name = "ID", default_value_t = 1, help_heading = "IPFIX")]
    pub ipfix_domain: u32,

    /// Send the IPFIX templates again every SECS seconds (0: in every message).
    #[arg(
        long,
        value_name = "SECS",
        default_value_t = 60,
        help_heading = "IPFIX"
    )]
    pub ipfix_template_interval: u64,
}

impl SinkArgs {
    /// No sink.
    pub fn none() -> Self {
        SinkArgs {
            redis: None,
            redis_mode: RedisMode::Lpush,
            redis_key: String::new(),
            redis_stream_maxlen: 0,
            redis_stream_trim_exact: false,
            redis_queue: 1,
            ipfix: None,
            ipfix_pen: DOCUMENTATION_PEN,
            ipfix_domain: 1,
            ipfix_template_interval: 60,
        }
    }
}

fn parse_mode(s: &str) -> Result<RedisMode, String> {
    RedisMode::parse(s).ok_or_else(|| {
        format!("unknown Redis mode {s:?}: list, lpush, rpush, channel, publish, stream or xadd")
    })
}

impl SinkArgs {
    /// Starts the sinks asked for and adds them to `rec`. `live`: a Redis
    /// server that cannot be reached yet is retried in the background
    /// (and a full queue drops at once); offline it is an error.
    pub fn start<W: std::io::Write>(
        &self,
        rec: &mut Recorder<W>,
        format: &EveFormat,
        live: bool,
    ) -> Result<()> {
        if let Some(server) = &self.redis {
            let config = RedisConfig {
                server: server.clone(),
                mode: self.redis_mode,
                key: self.redis_key.clone(),
                stream_maxlen: self.redis_stream_maxlen,
                stream_trim_exact: self.redis_stream_trim_exact,
                queue: self.redis_queue.max(1),
                overflow: if live { Overflow::Drop } else { Overflow::Wait },
                ..RedisConfig::default()
            };
            let sink = RedisSink::start(config, !live)?;
            if live && !sink_connected(&sink) {
                eprintln!("sift: warning: Redis at {server} not reachable yet; retrying in the background");
            }
            rec.add_sink(Box::new(sink), format);
        }
        if let Some(collector) = &self.ipfix {
            let config = IpfixConfig {
                collector: collector.clone(),
                pen: self.ipfix_pen,
                observation_domain: self.ipfix_domain,
                template_interval: Duration::from_secs(self.ipfix_template_interval),
            };
            let sink = IpfixExporter::new(config).context("cannot start the IPFIX export")?;
            rec.add_sink(Box::new(sink), format);
        }
        Ok(())
    }
}

fn sink_connected(s: &RedisSink) -> bool {
    use crate::output::sink::Sink;
    s.stats().connected
}

/// The summary's lines about the sinks (empty without any).
pub fn summary(stats: &[SinkStats]) -> String {
    let mut o = String::new();
    for s in stats.iter().filter(|s| s.kind != "report") {
        o.push_str("  ");
        o.push_str(&s.to_string());
        o.push('\n');
    }
    o
}

/// Warns about records a sink did not deliver.
pub fn warn_undelivered(stats: &[SinkStats]) {
    for s in stats {
        let missing = s.overflow + s.lost;
        if missing > 0 {
            eprintln!(
                "sift: warning: {} {}: {} records not delivered ({} dropped with the queue full, {} lost)",
                s.kind,
                s.target,
                thousands(missing),
                thousands(s.overflow),
                thousands(s.lost)
            );
        }
    }
}
