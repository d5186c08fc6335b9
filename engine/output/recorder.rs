//! Where a run's events go: the EVE writer (when JSON is asked for), the
//! tally behind the summary, and any other [`Sink`]s (Redis, IPFIX).
//! `analyze` and `live` record the same way.

use std::io::{self, Write};

use super::eve::{EveFormat, EveWriter};
use super::record::Event;
use super::sink::{Sink, SinkStats};
use super::summary::FlowTally;

pub struct Recorder<W: Write> {
    pub eve: Option<EveWriter<W>>,
    pub tally: FlowTally,
    /// Further sinks, each given every event.
    pub sinks: Vec<Box<dyn Sink>>,
    /// How to render lines for sinks that want them when no worker did
    /// and there is no EVE writer.
    format: Option<EveFormat>,
    line: Vec<u8>,
}

impl<W: Write> Recorder<W> {
    pub fn new(eve: Option<EveWriter<W>>) -> Self {
        Recorder {
            eve,
            tally: FlowTally::default(),
            sinks: Vec::new(),
            format: None,
            line: Vec::new(),
        }
    }

    /// Adds a sink; `format` renders its lines if it wants them.
    pub fn add_sink(&mut self, sink: Box<dyn Sink>, format: &EveFormat) {
        if sink.wants_lines() && self.format.is_none() {
            self.format = Some(format.clone());
        }
        self.sinks.push(sink);
    }

    /// Something reads the records themselves: the EVE writer or a sink
    /// (Redis, IPFIX, the report). Without, only the summary's tally is
    /// kept.
    pub fn keeps_records(&self) -> bool {
        self.eve.is_some() || !self.sinks.is_empty()
    }

    /// The format workers should render lines with: the EVE writer's, or
    /// the one a sink needs.
    pub fn render_format(&self) -> Option<EveFormat> {
        self.eve
            .as_ref()
            .map(|w| w.format().clone())
            .or_else(|| self.format.clone())
    }

    /// Counts the event and writes it: `line` is its EVE line when a
    /// worker rendered it ahead (with this writer's format).
    pub fn event(&mut self, ev: &Event, line: Option<&[u8]>) -> io::Result<()> {
        match ev {
            Event::Flow(r) => self.tally.add(r),
            Event::Alert(_) => self.tally.alerts += 1,
        }
        if self.sinks.is_empty() {
            return match (self.eve.as_mut(), line) {
                (Some(w), Some(line)) => w.rendered(line),
                (Some(w), None) => w.event(ev),
                (None, _) => Ok(()),
            };
        }
        let wanted = self.eve.is_some() || self.sinks.iter().any(|s| s.wants_lines());
        let format = self
            .eve
            .as_ref()
            .map(|w| w.format())
            .or(self.format.as_ref());
        let line = match (line, format) {
            (Some(l), _) => Some(l),
            (None, Some(format)) if wanted => {
                self.line.clear();
                format.event(ev, &mut self.line)?;
                Some(&self.line[..])
            }
            (None, _) => None,
        };
        if let (Some(w), Some(l)) = (self.eve.as_mut(), line) {
            w.rendered(l)?;
        }
        // Sinks take the line without its newline.
        let bare = line.map(|l| l.strip_suffix(b"\n").unwrap_or(l));
        for s in &mut self.sinks {
            s.event(ev, bare.filter(|_| s.wants_lines()))?;
        }
        Ok(())
    }

    pub fn flush(&mut self) -> io::Result<()> {
        for s in &mut self.sinks {
            s.flush()?;
        }
        match self.eve.as_mut() {
            Some(w) => w.flush(),
            None => Ok(()),
        }
    }

    /// Ends every sink (delivering what they still hold) and returns
    /// what each delivered.
    pub fn finish_sinks(&mut self) -> Vec<SinkStats> {
        self.sinks.iter_mut().map(|s| s.finish()).collect()
    }
}
