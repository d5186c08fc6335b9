//! Where a run's events go: the EVE writer (when JSON is asked for) and
//! the tally behind the summary. `analyze` and `live` record the same way.

use std::io::{self, Write};

use super::eve::EveWriter;
use super::record::Event;
use super::summary::FlowTally;

pub struct Recorder<W: Write> {
    pub eve: Option<EveWriter<W>>,
    pub tally: FlowTally,
}

impl<W: Write> Recorder<W> {
    pub fn new(eve: Option<EveWriter<W>>) -> Self {
        Recorder {
            eve,
            tally: FlowTally::default(),
        }
    }

    /// Counts the event and writes it: `line` is its EVE line when a
    /// worker rendered it ahead (with this writer's format).
    pub fn event(&mut self, ev: &Event, line: Option<&[u8]>) -> io::Result<()> {
        match ev {
            Event::Flow(r) => self.tally.add(r),
            Event::Alert(_) => self.tally.alerts += 1,
        }
        match (self.eve.as_mut(), line) {
            (Some(w), Some(line)) => w.rendered(line),
            (Some(w), None) => w.event(ev),
            (None, _) => Ok(()),
        }
    }

    pub fn flush(&mut self) -> io::Result<()> {
        match self.eve.as_mut() {
            Some(w) => w.flush(),
            None => Ok(()),
        }
    }
}
