//! Command dispatch. Every failure becomes a message and an exit code, never a panic.

mod count;
mod serve;
mod table;

pub const USAGE: &str = "\
usage:
  lora-playground count --model <preset id | path to config.json> [options]
  lora-playground serve [--root DIR] [--port N]     (PORT env var also sets the port; default 8080)

count options (defaults follow PEFT's LoraConfig):
  --r N                 LoRA rank (default 8)
  --alpha X             lora_alpha (default 8)
  --targets a,b | all-linear
                        target_modules (default: PEFT's default for the model type)
  --rslora              use_rslora: scale by alpha/sqrt(r)
  --bias none|all|lora_only
  --layers 0,1,2        layers_to_transform
  --task base|seq-cls   (default seq-cls)
  --num-labels N        (default 2)
  --precision fp32|bf16|fp16|int8|nf4   storage of the frozen base (default fp32)
  --adapter-dtype fp32|bf16             dtype of the LoRA matrices (default fp32)
  --optimizer adamw|sgd_momentum|sgd    (default adamw)
  --batch-size N --seq-len N            for the activation estimate (default 16 x 128)
  --bottleneck N --virtual-tokens N     for the method comparison (default 64, 20)
  --json                one JSON object instead of a table
presets: all-MiniLM-L6-v2, bert-base-uncased, distilbert-base-uncased, roberta-base, ModernBERT-base,
         gpt2, gemma-3-270m, Llama-2-7b";

/// Runs a command line; returns the process exit code (0 ok, 1 bad model/config, 2 bad usage).
pub fn run(args: &[String]) -> i32 {
    match args.first().map(String::as_str) {
        Some("count") => count::run(&args[1..]),
        Some("serve") => serve::run(&args[1..]),
        Some("-h" | "--help" | "help") => {
            println!("{USAGE}");
            0
        }
        Some(other) => usage_error(&format!("unknown command '{other}'")),
        None => usage_error("no command given"),
    }
}

pub fn usage_error(message: &str) -> i32 {
    eprintln!("error: {message}\n\n{USAGE}");
    2
}
