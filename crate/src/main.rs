//! `lora-playground`: the calculator for course authors (`count`), training (`train`, `predict`, `compare`,
//! `bench`) and the playground's static server (`serve`). A native program: for wasm32 (where `cargo test
//! --target wasm32-unknown-unknown` builds every target of the package) it compiles to nothing.

#[cfg(not(target_arch = "wasm32"))]
mod cli;

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    std::process::exit(cli::run(&args));
}

#[cfg(target_arch = "wasm32")]
fn main() {}
