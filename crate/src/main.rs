//! `lora-playground`: the calculator for course authors (`count`) and the playground's static server (`serve`).

mod cli;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    std::process::exit(cli::run(&args));
}
