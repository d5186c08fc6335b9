//! The whole packet path of a worker — link, IP, fragments, tunnels,
//! transport, flow table, classifiers, and the rules (a set with every
//! kind of condition) — over a few frames cut from the input, each taken
//! as the lead takes its own packets or as a follower takes one routed to
//! it; then every record written as an EVE line.
//! Input: [link type selector][len hi][len lo][frame]... repeated.

#![no_main]

use libfuzzer_sys::fuzz_target;
use sift::capture::{LinkType, RawPacket, NANOS_PER_SEC};
use sift::decode::defrag::DefragConfig;
use sift::pipeline::shards::Shards;
use sift::flow::FlowConfig;
use sift::output::eve::EveWriter;
use sift::pipeline::worker::Worker;

const LINKS: [LinkType; 14] = [
    LinkType::ETHERNET,
    LinkType::RAW,
    LinkType::IPV4,
    LinkType::IPV6,
    LinkType::NULL,
    LinkType::LOOP,
    LinkType::PPP,
    LinkType::PPP_ETHER,
    LinkType::C_HDLC,
    LinkType::LINUX_SLL,
    LinkType::LINUX_SLL2,
    LinkType::PPI,
    LinkType::ERF,
    LinkType(147),
];

/// Rules with every kind of condition, so packets reach each check.
const RULES: &str = r#"
pass 1 "p" { app dns; dns.query .example.com }
drop 2 "d" { name *.example.net /^[a-z]+[0-9]+\.test$/ }
alert 3 "a" { tls.sni|quic.sni .example.org; ech present }
alert 4 "v" { app vpn; server.port 0-65535 }
log 5 "l" { transport tcp udp; ip 0.0.0.0/0 ::/0; client.port 1-65535 }
alert 6 "f" { ja3 e7d705a3286e19ea42f587b344ee6865 }
alert 7 "h" { http.host example.com; ech absent }
"#;

fn rules() -> std::sync::Arc<sift::rules::RuleSet> {
    static SET: std::sync::OnceLock<std::sync::Arc<sift::rules::RuleSet>> =
        std::sync::OnceLock::new();
    SET.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("sift-fuzz-rules-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let path = dir.join("fuzz.rules");
        std::fs::write(&path, RULES).expect("rule file");
        sift::rules::RuleSet::load(&[path], &Default::default()).expect("rules load")
    })
    .clone()
}

fuzz_target!(|data: &[u8]| {
    let flows = FlowConfig {
        capacity: 8,
        ..FlowConfig::default()
    };
    let defrag = DefragConfig {
        max_datagrams: 4,
        max_bytes: 1 << 16,
        ..DefragConfig::default()
    };
    let mut w = Worker::new(1.0, flows, defrag, 1 << 20);
    w.set_rules(Some(rules()), false);
    let shards = Shards::new(&[1.0]);
    let mut rest = data;
    let mut index = 0u64;
    while rest.len() >= 3 {
        let tag = rest[0];
        let link = LINKS[usize::from(rest[0]) % LINKS.len()];
        let len = usize::from(u16::from_be_bytes([rest[1], rest[2]])).min(rest.len() - 3);
        let frame = &rest[3..3 + len];
        rest = &rest[3 + len..];
        // Time jumps forward a little or a lot, to reach the sweeps.
        let ts = index * (u64::from(link.0) % 50) * NANOS_PER_SEC;
        let raw = RawPacket {
            ts,
            link,
            data: frame,
            wire_len: len as u32 + u32::from(index as u8 & 1) * 100,
        };
        w.advance_clock(index, ts);
        // As a follower (the lead routed it here) or as the lead.
        if tag & 0x80 != 0 {
            w.routed_packet(index, 0, &raw);
        } else if let Some((0, ip)) = w.route(&raw, &shards) {
            w.owned_packet(index, 0, &raw, &ip);
        }
        index += 1;
    }
    w.end_of_input(index);
    // Every record as an EVE line.
    let mut eve = EveWriter::new(std::io::sink(), vec!["fuzz.pcap".into()]);
    for (_, ev) in w.take_events() {
        eve.event(&ev).expect("writing to a sink");
    }
    assert_eq!(w.active_flows(), 0);
});
