//! A one-line progress bar on stderr (the JSON results go to stdout, so they stay machine-readable).

use std::io::Write;
use std::time::Instant;

pub struct Bar {
    started: Instant,
    total_steps: usize,
    done: usize,
}

impl Bar {
    pub fn new(total_steps: usize) -> Self {
        Self { started: Instant::now(), total_steps: total_steps.max(1), done: 0 }
    }

    pub fn step(&mut self, epoch: usize, epochs: usize, loss: f64, batch: usize) {
        self.done += 1;
        let frac = self.done as f64 / self.total_steps as f64;
        let secs = self.started.elapsed().as_secs_f64();
        let eta = if self.done > 0 {
            secs / self.done as f64 * (self.total_steps - self.done.min(self.total_steps)) as f64
        } else {
            0.0
        };
        let width = 24;
        let filled = ((frac * width as f64).round() as usize).min(width);
        eprint!(
            "\r[{}{}] {:>3.0}% epoch {epoch}/{epochs} step {}/{} loss {loss:.4} {:.1} ex/s ETA {} ",
            "#".repeat(filled),
            "-".repeat(width - filled),
            frac * 100.0,
            self.done,
            self.total_steps,
            self.done as f64 * batch as f64 / secs.max(1e-9),
            clock(eta)
        );
        let _ = std::io::stderr().flush();
    }

    pub fn line_break(&self) {
        eprintln!();
    }
}

fn clock(secs: f64) -> String {
    let s = secs.round() as u64;
    format!("{}:{:02}", s / 60, s % 60)
}
