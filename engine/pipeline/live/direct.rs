//! Direct reading: each worker owns its handles (one per interface, in
//! an AF_PACKET fanout group) and reads them itself.

use super::*;

/// A worker that reads its own handles (one per interface).
pub(super) fn direct<C>(
    shared: &Shared<'_, C>,
    gauge: &Gauge,
    out: Sender<Out>,
    mut handles: Vec<LiveHandle>,
    hgauges: Vec<&HandleGauge>,
) {
    let mut d = Driven::new(shared, gauge, out);
    let fds: Vec<RawFd> = handles.iter().map(LiveHandle::fd).collect();
    let mut next_tick = Instant::now() + TICK;
    let mut failed = None;
    'run: while !shared.stop.load(Ordering::Relaxed) {
        d.reconfigure();
        let mut got = 0;
        for (iface, h) in handles.iter_mut().enumerate() {
            match burst(h, |p| d.packet(iface as u32, p), gauge) {
                Ok(n) => got += n,
                Err(e) => {
                    failed = Some(e);
                    break 'run;
                }
            }
        }
        let now = Instant::now();
        if now >= next_tick {
            d.tick();
            read_drops(&mut handles, &hgauges);
            next_tick = now + TICK;
        }
        d.publish();
        if got == 0 {
            let timeout = next_tick.saturating_duration_since(now).min(WAIT);
            if let Err(e) = live::wait(&fds, timeout) {
                failed = Some(e);
                break;
            }
        }
    }
    match failed {
        Some(e) => {
            shared.stop.store(true, Ordering::Relaxed);
            let _ = d.out.send(Out::Failed(e));
        }
        None => {
            // Process what the kernel already captured.
            let until = Instant::now() + drain_time(&handles);
            for (iface, h) in handles.iter_mut().enumerate() {
                drain(h, until, |p| d.packet(iface as u32, p), gauge);
            }
        }
    }
    read_drops(&mut handles, &hgauges);
    d.finish();
}
