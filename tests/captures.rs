//! The project's own recorded captures (captures/): sift's flow records
//! match what each capture's `.expected` file says it holds.

mod common;

use common::*;

fn records(capture: &str) -> Vec<serde_json::Value> {
    let out = sift([
        "analyze",
        "--format",
        "json",
        "-q",
        project_file(capture).to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let mut recs = eve(&out.stdout);
    recs.retain(|r| matches!(r["proto"].as_str(), Some("TCP" | "UDP")));
    recs.sort_by_key(|r| r["sift"]["first_packet"].as_u64());
    recs
}

fn expected(file: &str) -> Vec<Vec<String>> {
    std::fs::read_to_string(project_file(file))
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .skip(1)
        .map(|l| l.split(',').map(str::to_string).collect())
        .collect()
}

/// Every TCP/UDP flow of sample.pcap, in order: transport, IP version,
/// server port, application protocol and server name, as recorded.
#[test]
fn sample_capture_matches_expected() {
    let want: Vec<(String, u8, u64, String, String)> = expected("captures/sample.expected")
        .iter()
        .map(|f| {
            (
                f[0].clone(),
                f[1].parse().unwrap(),
                f[2].parse().unwrap(),
                f[3].clone(),
                f[4].clone(),
            )
        })
        .collect();
    assert_eq!(want.len(), 16);
    let got: Vec<(String, u8, u64, String, String)> = records("captures/sample.pcap")
        .iter()
        .map(|r| {
            let v = if r["src_ip"].as_str().unwrap().contains(':') {
                6
            } else {
                4
            };
            let app = match r["app_proto"].as_str().unwrap() {
                "unknown" => "-".to_string(),
                a => a.to_string(),
            };
            (
                r["proto"].as_str().unwrap().to_lowercase(),
                v,
                r["dest_port"].as_u64().unwrap(),
                app,
                server_name(r),
            )
        })
        .collect();
    assert_eq!(got, want);
}

/// tls-pq-chromium.pcap: Chromium's post-quantum ClientHello spans two TCP
/// segments in both connections; sift names both.
#[test]
fn post_quantum_client_hello_across_segments() {
    let recs = records("captures/tls-pq-chromium.pcap");
    assert_eq!(recs.len(), 2);
    let cap = std::fs::read(project_file("captures/tls-pq-chromium.pcap")).unwrap();
    for r in &recs {
        assert_eq!(
            (r["app_proto"].as_str(), r["dest_port"].as_u64()),
            (Some("tls"), Some(443))
        );
        assert_eq!(r["tls"]["sni"], "pq.example.test");
        assert_eq!(r["tls"]["version"], "TLS 1.3");
        // The hello's record is longer than the first segment that carries it.
        let segs = tcp_payloads_from(&cap, r["src_port"].as_u64().unwrap() as u16);
        let record_len = usize::from(u16::from_be_bytes([segs[0][3], segs[0][4]])) + 5;
        assert!(
            record_len > segs[0].len() && record_len <= segs[0].len() + segs[1].len(),
            "{record_len}"
        );
        let evidence = r["sift"]["evidence"][0]["what"].as_str().unwrap();
        assert!(
            evidence.starts_with(&format!("TLS ClientHello ({} bytes)", record_len - 5)),
            "{evidence}"
        );
    }
}
