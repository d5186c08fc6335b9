//! VPN fingerprinting: the project's recordings of real OpenVPN, WireGuard
//! and strongSwan traffic (captures/vpn), the nDPI corpus, and negative
//! controls that must never get a VPN verdict.

mod common;

use std::collections::{BTreeSet, HashMap};

use common::pcap::{Frame, PSH_ACK, SYN};
use common::*;

const VPN_PROTOS: [&str; 5] = ["openvpn", "wireguard", "ike", "esp", "ah"];

fn records(path: &str) -> Vec<serde_json::Value> {
    let out = sift(["analyze", "--format", "json", "-q", path]);
    assert!(out.status.success(), "{path}: {}", text(&out.stderr));
    eve(&out.stdout)
}

/// Every flow listed in captures/vpn/expected.csv gets its protocol, with
/// the mode details the recording used.
#[test]
fn recorded_vpn_captures() {
    let csv = std::fs::read_to_string(project_file("captures/vpn/expected.csv")).unwrap();
    let mut checked = 0;
    for line in csv.lines().skip(1) {
        let f: Vec<&str> = line.splitn(8, ',').collect();
        let (capture, transport, client_port, server_port, app, details) = (
            f[0],
            f[1],
            f[3].parse::<u64>().unwrap(),
            f[5].parse::<u64>().unwrap(),
            f[6],
            f[7],
        );
        let recs = records(
            project_file(&format!("captures/vpn/{capture}"))
                .to_str()
                .unwrap(),
        );
        let r = recs
            .iter()
            .find(|r| {
                r["proto"].as_str() == Some(&transport.to_uppercase())
                    && r["src_port"] == client_port
                    && r["dest_port"] == server_port
            })
            .unwrap_or_else(|| {
                panic!("{capture}: no {transport} flow {client_port} -> {server_port}")
            });
        assert_eq!(r["app_proto"], app, "{capture}: {r}");
        let vpn = &r["vpn"];
        assert_eq!(vpn["protocol"], app);
        let confidence = vpn["confidence"].as_str().unwrap();
        if details.contains("static") {
            assert_eq!(vpn["mode"], "static-key");
            assert_eq!(confidence, "low");
        } else {
            assert_eq!(confidence, "high", "{capture}: {vpn}");
        }
        for (needle, want) in [("hmac 20", "20"), ("hmac 32", "32"), ("hmac 64", "64")] {
            if details.contains(needle) {
                assert_eq!(vpn["hmac_bytes"], want, "{capture}: {vpn}");
            }
        }
        // The mode is in the recording's name.
        let mode = [
            ("tlscryptv2", "tls-crypt-v2"),
            ("tlscrypt", "tls-crypt"),
            ("tlsauth", "tls-auth"),
            ("static", "static-key"),
        ]
        .iter()
        .find(|(tag, _)| capture.contains(tag));
        if let Some((_, want)) = mode {
            assert_eq!(vpn["mode"], *want, "{capture}: {vpn}");
        }
        assert!(r["sift"]["evidence"]
            .as_array()
            .is_some_and(|e| !e.is_empty()));
        checked += 1;
    }
    assert_eq!(checked, 21);
}

/// nDPI's OpenVPN, WireGuard and IPSec flows found with the same family,
/// and no VPN verdict on a flow nDPI gives another known protocol, except
/// the flows listed (with the packet-level reason) in tests/ndpi/vpn_differences.csv.
#[test]
fn vpn_flows_agree_with_ndpi() {
    let corpus = ndpi_corpus();
    let mut args: Vec<String> = vec![
        "analyze".into(),
        "-q".into(),
        "--format".into(),
        "json".into(),
    ];
    args.extend(ndpi_captures().iter().map(|p| p.display().to_string()));
    let out = sift(&args);
    assert!(out.status.success());
    // Flow -> app protocols.
    let mut apps: HashMap<FlowKey, Vec<String>> = HashMap::new();
    for r in eve(&out.stdout) {
        apps.entry(eve_flow_key(&r))
            .or_default()
            .push(r["app_proto"].as_str().unwrap().to_string());
    }
    let family_apps = |family: &str| -> &'static [&'static str] {
        match family {
            "openvpn" => &["openvpn"],
            "wireguard" => &["wireguard"],
            "ipsec" => &["ike", "esp", "ah"],
            _ => &[],
        }
    };
    let csv = std::fs::read_to_string(corpus.join("expected.csv")).unwrap();
    let (mut total, mut found) = (0, 0);
    let mut differences = BTreeSet::new();
    for line in csv.lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        let got = apps
            .get(&expected_flow_key(&f))
            .cloned()
            .unwrap_or_default();
        let key = format!("{},{},{},{},{},{}", f[0], f[1], f[2], f[3], f[4], f[5]);
        let family = f[8];
        let want = family_apps(family);
        if !want.is_empty() {
            total += 1;
            if got.iter().any(|g| want.contains(&g.as_str())) {
                found += 1;
            } else {
                differences.insert(format!("{key},missed"));
            }
        } else if family != "unknown" && got.iter().any(|g| VPN_PROTOS.contains(&g.as_str())) {
            differences.insert(format!("{key},vpn verdict on nDPI {}", f[7]));
        }
    }
    eprintln!(
        "nDPI OpenVPN/WireGuard/IPSec flows found by sift with the same family: {found}/{total}"
    );
    assert_differences_listed("vpn_differences.csv", 7, &differences);
    assert!(
        found
            + differences
                .iter()
                .filter(|d| d.ends_with(",missed"))
                .count()
            == total
    );
}

/// Random payloads over UDP to 1194, 51820, 500 and 4500 and over TCP to
/// 443 and 1194, both ways, many flows: no VPN verdict.
#[test]
fn random_payloads_get_no_vpn_verdict() {
    let mut rng = Rng(0x5eed_1234_5678_9abc);
    let mut frames = Vec::new();
    for (k, &(port, tcp)) in [
        (1194u16, false),
        (51820, false),
        (500, false),
        (4500, false),
        (443, true),
        (1194, true),
    ]
    .iter()
    .enumerate()
    {
        for flow in 0..150u16 {
            let client = ([10, 77, k as u8, (flow % 250) as u8 + 1], 20_000 + flow);
            let server = ([10, 88, 0, 1], port);
            let mut seq = [rng.next() as u32, rng.next() as u32];
            if tcp {
                frames.push(Frame {
                    src: client,
                    dst: server,
                    tcp: Some((seq[0], SYN)),
                    payload: vec![],
                });
                seq[0] = seq[0].wrapping_add(1);
            }
            for i in 0..12 {
                // Sizes a VPN would use too: 32..1400 bytes, multiples of 16 half the time.
                let mut len = 32 + (rng.next() % 1368) as usize;
                if i % 2 == 0 {
                    len -= len % 16;
                }
                let payload = rng.bytes(len);
                let (src, dst, s) = if i % 3 == 2 {
                    (server, client, 1)
                } else {
                    (client, server, 0)
                };
                let tcp_hdr = tcp.then(|| (seq[s], PSH_ACK));
                seq[s] = seq[s].wrapping_add(len as u32);
                frames.push(Frame {
                    src,
                    dst,
                    tcp: tcp_hdr,
                    payload,
                });
            }
        }
    }
    let f = TempFile::new("random-vpn-ports.pcap", &pcap::file(&frames));
    let recs = records(f.path());
    assert_eq!(recs.len(), 900);
    let vpn: Vec<_> = recs
        .iter()
        .filter(|r| VPN_PROTOS.contains(&r["app_proto"].as_str().unwrap()))
        .collect();
    assert!(vpn.is_empty(), "random payloads taken as VPN: {vpn:#?}");
}

/// uTP (BitTorrent), DNS and STUN captures of the nDPI corpus: no VPN verdict.
#[test]
fn look_alike_captures_get_no_vpn_verdict() {
    let corpus = ndpi_corpus().join("pcap");
    let mut flows = 0;
    for name in [
        "bittorrent_utp.pcap",
        "bittorrent.pcap",
        "dns.pcap",
        "dns_ambiguous_names.pcap",
        "dns-tunnel-iodine.pcap",
        "stun.pcap",
        "stun_signal.pcapng",
        "quic.pcap",
        "dtls.pcap",
    ] {
        let path = corpus.join(name);
        if !path.exists() {
            panic!("{name} is not in the corpus");
        }
        for r in records(path.to_str().unwrap()) {
            flows += 1;
            let app = r["app_proto"].as_str().unwrap();
            assert!(!VPN_PROTOS.contains(&app), "{name}: {app} verdict on {r}");
        }
    }
    assert!(flows > 40, "{flows}");
}
