//! One case of the corpus: what it is, what must happen, and the call; and the runner that holds every call to a
//! time limit and catches panics, so one bad case cannot hide the others.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::mpsc;
use std::time::Duration;

use lora_playground::error::Error;

/// What a call gives back: the lines of rows it skipped (empty for non-datasets), or the error.
pub type Outcome = Result<Vec<usize>, Error>;

pub enum Expect {
    /// An error whose `field` is exactly this (a file name or a setting), with a message.
    Refused(&'static str),
    /// Read, with the row on this line skipped and named.
    Skipped(usize),
    /// Read (big or odd, but valid): no panic, no hang, that is all.
    Fine,
}

pub struct Case {
    pub what: String,
    pub expect: Expect,
    pub run: Box<dyn FnOnce() -> Outcome + Send>,
}

pub fn case(what: impl Into<String>, expect: Expect, run: impl FnOnce() -> Outcome + Send + 'static) -> Case {
    Case { what: what.into(), expect, run: Box::new(run) }
}

/// A call that takes longer than this has hung (the largest case reads 100,000 rows).
const LIMIT: Duration = Duration::from_secs(60);

/// Runs every case; returns a line for each that did not end as expected.
pub fn run_all(cases: Vec<Case>) -> Vec<String> {
    let mut failures = Vec::new();
    for Case { what, expect, run } in cases {
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let _ = tx.send(catch_unwind(AssertUnwindSafe(run)));
        });
        let verdict = match rx.recv_timeout(LIMIT) {
            Err(_) => Some(format!("hung for more than {LIMIT:?}")),
            Ok(Err(_)) => Some("panicked".to_string()),
            Ok(Ok(outcome)) => judge(&expect, &outcome),
        };
        if let Some(v) = verdict {
            failures.push(format!("  {what}: {v}"));
        }
    }
    failures
}

fn judge(expect: &Expect, outcome: &Outcome) -> Option<String> {
    match (expect, outcome) {
        (Expect::Refused(field), Err(e)) if e.field == *field && !e.message.trim().is_empty() => None,
        (Expect::Refused(field), Err(e)) => {
            Some(format!("refused naming '{}' (not '{field}'): {}", e.field, e.message))
        }
        (Expect::Refused(field), Ok(_)) => Some(format!("accepted; expected a refusal naming '{field}'")),
        (Expect::Skipped(line), Ok(lines)) if lines.contains(line) => None,
        (Expect::Skipped(line), Ok(lines)) => {
            Some(format!("read, but line {line} is not among the skipped rows {lines:?}"))
        }
        (Expect::Fine, Ok(_)) => None,
        (_, Err(e)) => Some(format!("refused: {e}")),
    }
}
