//! The command line and `serve`, run as the real binary.
//! One test binary per area (each links burn once); a file per subject inside it.

mod cli;
mod export_run_cli;
mod launches;
// The server's tests use symlinks and /proc: Unix (and Linux for the memory figure).
#[cfg(unix)]
mod serve;
mod train_cli;
