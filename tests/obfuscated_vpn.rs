//! Obfuscated VPNs: AmneziaWG 1.0/1.5/2.0 and OpenVPN with the XOR patch
//! in its four modes, on the emulations in captures/emulated (rewritten
//! from the project's own WireGuard and OpenVPN recordings, see that
//! directory's README), and negative controls that must get no VPN
//! verdict.

mod common;

use std::collections::{BTreeMap, HashMap};

use common::pcap::{Frame, PSH_ACK, SYN};
use common::*;

fn records(path: &str) -> Vec<serde_json::Value> {
    let out = sift(["analyze", "--format", "json", "-q", path]);
    assert!(out.status.success(), "{path}: {}", text(&out.stderr));
    eve(&out.stdout)
        .into_iter()
        .filter(|r| r["event_type"] == "flow")
        .collect()
}

/// `key=value` items of an expected.csv `details` field.
fn detail<'a>(details: &'a str, key: &str) -> Option<&'a str> {
    details.split("; ").find_map(|item| {
        item.trim_matches('"')
            .strip_prefix(key)
            .and_then(|r| r.strip_prefix('='))
    })
}

/// Splits a CSV line whose last field may be quoted.
fn fields(line: &str) -> Vec<&str> {
    let mut f: Vec<&str> = line.splitn(8, ',').collect();
    if let Some(last) = f.last_mut() {
        *last = last.trim_matches('"');
    }
    f
}

/// Every emulated flow gets its verdict: AmneziaWG 1.0, 1.5 and 2.0 as
/// `amneziawg` with the S1 and S2 it used, each XOR mode as `openvpn` with
/// its scramble mode and the mask bytes it shows (static-key bases, which
/// have no opcode, as plain static-key OpenVPN); AmneziaWG 3.0 with header
/// protection and the random negatives get no VPN verdict, apart from the
/// random flows copying the static-key base's lengths (listed below).
#[test]
fn emulated_captures_recall() {
    let dir = "captures/emulated";
    let csv = std::fs::read_to_string(project_file(&format!("{dir}/expected.csv"))).unwrap();
    let mut by_capture: BTreeMap<&str, Vec<Vec<&str>>> = BTreeMap::new();
    for line in csv.lines().skip(1) {
        let f = fields(line);
        by_capture.entry(f[0]).or_default().push(f);
    }
    // label -> (flows, found)
    let mut recall: BTreeMap<String, (u32, u32)> = BTreeMap::new();
    let mut static_like = Vec::new();
    let mut full_masks = 0;
    for (capture, rows) in &by_capture {
        let recs = records(project_file(&format!("{dir}/{capture}")).to_str().unwrap());
        assert_eq!(recs.len(), rows.len(), "{capture}: one record per flow");
        let by_port: HashMap<(String, u64, u64), &serde_json::Value> = recs
            .iter()
            .map(|r| {
                (
                    (
                        r["proto"].as_str().unwrap().to_lowercase(),
                        r["src_port"].as_u64().unwrap(),
                        r["dest_port"].as_u64().unwrap(),
                    ),
                    r,
                )
            })
            .collect();
        for f in rows {
            let (transport, label, details) = (f[1], f[6], f[7]);
            let key = (
                transport.to_string(),
                f[3].parse().unwrap(),
                f[5].parse().unwrap(),
            );
            let r = by_port
                .get(&key)
                .unwrap_or_else(|| panic!("{capture}: no record for {key:?}"));
            let vpn = &r["vpn"];
            let entry = recall.entry(format!("{label} {transport}")).or_default();
            entry.0 += 1;
            let ok = match label {
                "amneziawg-1.0" | "amneziawg-1.5" | "amneziawg-2.0" => {
                    let hit = vpn["protocol"] == "amneziawg";
                    if hit {
                        assert_eq!(r["app_proto"], "wireguard", "{r}");
                        assert_eq!(vpn["confidence"], "high", "{r}");
                        assert_eq!(vpn["s1"].as_str(), detail(details, "S1"), "{r}");
                        assert_eq!(vpn["s2"].as_str(), detail(details, "S2"), "{r}");
                        if label == "amneziawg-2.0" {
                            let s4 = detail(details, "S4").unwrap();
                            assert_eq!(vpn["s4"].as_str(), Some(s4), "{r}");
                        }
                    }
                    hit
                }
                "amneziawg-3.0-hpk" | "random-udp" => {
                    assert!(vpn.is_null(), "{capture}: VPN verdict on {r}");
                    true
                }
                "random-openvpn-like" => {
                    if !vpn.is_null() {
                        // Static-key OpenVPN is random bytes of HMAC + IV +
                        // blocks lengths: random bytes of exactly those
                        // lengths read the same (module docs of openvpn).
                        assert!(details.contains("openvpn-udp-1194-static.pcap"), "{r}");
                        assert_eq!(vpn["mode"], "static-key", "{r}");
                        assert_eq!(vpn["confidence"], "low", "{r}");
                        static_like.push(r["src_port"].as_u64().unwrap());
                    }
                    true
                }
                xor => {
                    let mode = xor.strip_prefix("openvpn-xor-").unwrap();
                    let hit = r["app_proto"] == "openvpn" && vpn["protocol"] == "openvpn";
                    if hit && details.contains("static.pcap") {
                        // No opcode to unscramble: the plain reading of the
                        // lengths, without a scramble mode.
                        assert_eq!(vpn["mode"], "static-key", "{r}");
                        assert!(vpn["scramble"].is_null(), "{r}");
                    } else if hit {
                        assert_eq!(vpn["scramble"], mode, "{r}");
                        let mask = detail(details, "mask_hex").unwrap_or("");
                        let got = vpn["scramble_mask"].as_str().unwrap_or("");
                        match mode {
                            "xormask" => assert_eq!(got, &mask[..2], "{r}"),
                            "obfuscate" => {
                                // Whole bytes, `??` where not recovered.
                                let fits = got.len() <= mask.len()
                                    && got
                                        .as_bytes()
                                        .chunks(2)
                                        .zip(mask.as_bytes().chunks(2))
                                        .all(|(g, m)| g == b"??" || g == m);
                                assert!(fits && got.get(..2) == mask.get(..2), "{r}");
                                if let Some(len) = vpn["scramble_mask_len"].as_str() {
                                    assert_eq!(len, (mask.len() / 2).to_string(), "{r}");
                                    assert_eq!(got.len(), mask.len(), "{r}");
                                    full_masks += u32::from(got == mask);
                                } else {
                                    assert_eq!(got.len(), 2, "{r}");
                                }
                            }
                            _ => assert!(vpn["mode"].is_string(), "{r}"),
                        }
                    }
                    hit
                }
            };
            entry.1 += u32::from(ok);
        }
    }
    for (label, (n, found)) in &recall {
        eprintln!("{label}: {found}/{n}");
    }
    for (label, (n, found)) in &recall {
        assert!(*n >= 21, "{label}: only {n} flows");
        assert_eq!(found, n, "{label}: recall {found}/{n}");
    }
    assert_eq!(static_like.len(), 4, "{static_like:?}");
    eprintln!("obfuscate masks recovered whole: {full_masks}/95");
    assert!(full_masks >= 40, "{full_masks}");
}

/// 10,000 flows of random payloads, UDP and TCP, to ports 443, 53, 1194,
/// 51820, 8388 and random ones, both ways, in AmneziaWG- and OpenVPN-like
/// sizes: no VPN verdict.
#[test]
fn random_payloads_get_no_vpn_verdict() {
    let mut rng = Rng(0x0bf5_ca7e_d00d_f00d);
    let ports = [443u16, 53, 1194, 51820, 8388, 0];
    let mut frames = Vec::new();
    let flows = 10_000u32;
    for flow in 0..flows {
        let tcp = flow % 2 == 1;
        let port = match ports[(flow / 2) as usize % ports.len()] {
            0 => 1024 + (rng.next() % 60_000) as u16,
            p => p,
        };
        let client = (
            [
                10,
                60 + (flow / 60_000) as u8,
                (flow / 250) as u8,
                (flow % 250) as u8 + 1,
            ],
            20_000 + (flow % 40_000) as u16,
        );
        let server = ([10, 99, (flow % 7) as u8, 1], port);
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
        let packets = 4 + rng.next() % 10;
        for i in 0..packets {
            let len = match rng.next() % 4 {
                // A handshake-sized datagram with a random prefix.
                0 => 148 + (rng.next() % 151) as usize,
                1 => 92 + (rng.next() % 151) as usize,
                2 => 32 + 16 * (rng.next() % 40) as usize,
                _ => 14 + (rng.next() % 1300) as usize,
            };
            let mut payload = rng.bytes(len);
            if tcp {
                // OpenVPN's framing: a valid 2-byte length.
                let n = (len - 2) as u16;
                payload[..2].copy_from_slice(&n.to_be_bytes());
            }
            let (src, dst, s) = if i % 3 == 1 {
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
    let f = TempFile::new("random-obfuscated-vpn.pcap", &pcap::file(&frames));
    let recs = records(f.path());
    assert_eq!(recs.len(), flows as usize);
    let vpn: Vec<_> = recs.iter().filter(|r| !r["vpn"].is_null()).collect();
    assert!(vpn.is_empty(), "random payloads taken as VPN: {vpn:#?}");
    let mut apps: BTreeMap<&str, u32> = BTreeMap::new();
    for r in &recs {
        *apps.entry(r["app_proto"].as_str().unwrap()).or_default() += 1;
    }
    eprintln!("random payloads: {apps:?}");
    for app in ["openvpn", "wireguard", "ike", "esp", "ah"] {
        assert!(!apps.contains_key(app), "{apps:?}");
    }
}
