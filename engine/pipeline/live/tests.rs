//! Tests of the parent module, with real packet bytes.

use super::*;

#[test]
fn control_reaches_every_worker_once_per_generation() {
    let control = Control::new(0u32);
    let done = AtomicBool::new(false);
    let applied: Vec<Mutex<Vec<u32>>> = (0..3).map(|_| Mutex::new(Vec::new())).collect();
    // Workers take the configuration when they start, before anything
    // is published.
    let started = std::sync::Barrier::new(applied.len() + 1);
    std::thread::scope(|s| {
        for a in &applied {
            let (control, done, started) = (&control, &done, &started);
            s.spawn(move || {
                let mut seen = 0;
                if let Some(c) = control.newer(&mut seen) {
                    a.lock().unwrap().push(*c);
                }
                started.wait();
                loop {
                    if let Some(c) = control.newer(&mut seen) {
                        a.lock().unwrap().push(*c);
                    }
                    if done.load(Ordering::Acquire) && seen == control.generation() {
                        break;
                    }
                    std::thread::yield_now();
                }
            });
        }
        started.wait();
        for v in 1..=5 {
            assert_eq!(control.publish(v), u64::from(v) + 1);
            std::thread::sleep(Duration::from_millis(2));
        }
        done.store(true, Ordering::Release);
    });
    for a in &applied {
        let got = a.lock().unwrap().clone();
        // The first and last always; none twice, never out of order.
        assert_eq!(got.first(), Some(&0));
        assert_eq!(got.last(), Some(&5));
        assert!(got.windows(2).all(|w| w[0] < w[1]), "{got:?}");
    }
}

#[test]
fn batches_copy_packets_out() {
    let mut b = PacketBatch::new(0, 2, LinkType::ETHERNET);
    let frames: [&[u8]; 3] = [b"abc", b"", b"defgh"];
    for (i, f) in frames.iter().enumerate() {
        b.push(&RawPacket {
            ts: i as u64,
            link: LinkType::ETHERNET,
            data: f,
            wire_len: 100,
        });
    }
    let got: Vec<(u64, Vec<u8>)> = b.iter().map(|p| (p.ts, p.data.to_vec())).collect();
    assert_eq!(
        got,
        vec![
            (0, b"abc".to_vec()),
            (1, Vec::new()),
            (2, b"defgh".to_vec())
        ]
    );
    assert!(!b.is_full());
    b.clear();
    assert_eq!(b.iter().count(), 0);
}

#[test]
fn stats_line_rates() {
    let a = Snapshot {
        elapsed: Duration::from_secs(10),
        packets: 1000,
        bytes: 1_000_000,
        per_worker: vec![600, 400],
        ..Snapshot::default()
    };
    let b = Snapshot {
        elapsed: Duration::from_secs(12),
        packets: 3000,
        bytes: 3_000_000,
        kernel_drops: 7,
        memory: Some(20_000_000),
        per_worker: vec![1600, 1400],
        ..Snapshot::default()
    };
    let l = b.line(Some(&a));
    assert!(
        l.starts_with("1,000 packets/s, 1.0 MB/s | packets 3000"),
        "{l}"
    );
    assert!(l.contains("kernel 7"), "{l}");
    assert!(l.contains("memory 20.0 MB"), "{l}");
    assert!(l.ends_with("per worker 1600/1400"), "{l}");
}
