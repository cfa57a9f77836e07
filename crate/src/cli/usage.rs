//! What every command shares: the usage text, a bad command line's message and exit code (2), and a
//! command's outcome as its exit code (0, or 1 with the message). A leaf: commands import it, it imports none.

#[cfg(feature = "train")]
use lora_playground::error::{Error, ErrorKind};

pub const USAGE: &str = "\
usage:
  lora-playground count --model <preset id | path to config.json | hf:ORG/NAME> [--hub URL] [options]
  lora-playground serve [--root DIR] [--port N] [--host IP]   (PORT env var also sets the port; default 8080;
                        --host 0.0.0.0 serves a classroom's network, default 127.0.0.1)
  lora-playground train --data <file | builtin:NAME> --out DIR [options]
  lora-playground predict --adapter DIR --input <file | -> [--model M] [--device cpu|wgpu]
  lora-playground logprobs --input <file | -> [--model LM] [--base float32|float16|nf4|as-stored] [--adapter DIR]
                        (a language model's log-probability of each token of each text, one JSON line per text)
  lora-playground generate --input <file | -> [--model LM] [--base float32|float16|nf4|as-stored] [--adapter DIR] [--chat] [--system TEXT]
                        [--max-new-tokens 64] [--temperature 0] [--top-k K] [--top-p P] [--seed 0] [--no-cache]
                        (continues each prompt; greedy unless --temperature > 0; one JSON line per prompt)
  lora-playground merge --adapter DIR --data <file | builtin:NAME> --out DIR [--model M] [--batch-size 1] [--repeats 3] [--json]
                        (folds the adapter into the base weights, checks it on the validation texts, times both,
                        saves a transformers model folder)
  lora-playground quantize --to nf4 --out DIR [--model LM]
                        (the language model as transformers + bitsandbytes save it in 4 bits: NF4, double quantization)
  lora-playground export-gguf --adapter DIR --out FILE.gguf [--model LM]
                        (a language model's LoRA adapter as llama.cpp's LoRA GGUF: llama-cli --lora, Ollama, LM Studio)
  lora-playground export-run --run DIR [--to notebook|script|both] [--out DIR] [--model M] [--data FILE]
  lora-playground export-run --data <file | builtin:NAME> --out DIR [--model M] [train options]
                        (a saved run, or a plan not yet trained, as a Hugging Face PEFT notebook (run.ipynb) and script
                        (run.py) with its data beside them: the same model, LoraConfig and training settings, for a
                        GPU or accelerate launch)
  lora-playground adapters --adapters DIR,DIR,... [--model M] [--text T] [--rounds 5] [--json]
                        (several adapters on one base: memory of 1 base + N adapters vs N copies, switch time)
  lora-playground inspect --adapter DIR [--compare DIR] [--full DIR] [--model M]
                        (inside a LoRA adapter, as JSON: each update's norm and singular values; with --full, the
                        spectrum of a full fine-tuning run's change; with --compare, the subspace similarity of two adapters)
  lora-playground compare --data <file | builtin:NAME> --out DIR [--methods lora,full,head,bitfit] [--full-lr X] [train options] [--json]
  lora-playground sweep --data <file | builtin:NAME> --out DIR [--ranks 1,2,4,8,16,32,64] [--target-sets 'query,value;all-linear']
                        [--methods lora,full,head,bitfit] [--fixed-alpha] [--full-lr X] [train options] [--json]
                        (one run per setting, the rest fixed; DIR/sweep.md, sweep.csv and sweep.json of every run)
  lora-playground tiny-model --out DIR   (writes the tiny random BERT the page offers as a model folder)
  lora-playground float16 MODEL_DIR      (writes MODEL_DIR/model.f16.safetensors, the float16 copy the page downloads,
                        and model.f16.json, the largest change rounding made)
  lora-playground lesson build [SRC_DIR] [--out DIR] [--strict]   (lessons: SRC_DIR/*.md, default lessons/, to pages
                        with live figures; warnings name the file and line; docs/LESSONS.md)
  lora-playground bench [--model M] [--steps N] [--batch-size 16] [--seq-len 64] [--methods lora,full,head,bitfit,inference] [--targets q_lin,v_lin] [--json]

train options:
  --model <folder | all-MiniLM-L6-v2 | tiny | hf:ORG/NAME[@REVISION]>   (default all-MiniLM-L6-v2)
  --hub URL                             where hf: ids are fetched from (default $LP_HUB, else https://huggingface.co)
  --method lora|full|head|bitfit        (default lora)
  --r 8 --alpha 16 --targets query,value [--rslora] [--layers 0,1] --bias none|all|lora_only --lora-dropout 0.1
  --epochs 3 --batch-size 16 --weight-decay 0.01 --warmup-ratio 0.1 --max-grad-norm 1.0
  --lr X                                (default: the method's usual: lora 3e-3, full 1e-4, head 3e-2, bitfit 3e-3)
  --max-len 64 --seed 0 --val-fraction 0.2 --device cpu|wgpu --quiet
  --base float32|nf4                    a classifier's frozen base: nf4 is QLoRA's (bitsandbytes' NF4, the task
                                        layers float); lora, head and bitfit train on it (bench takes it too)
  --base float32|float16|nf4|as-stored  a language model's frozen base: float16 stores it in half the bytes; nf4 is
                                        QLoRA's (bitsandbytes' NF4, double quantization); as-stored keeps a GGUF
                                        file's blocks (Q4_K, Q8_0, ...), the embeddings and output head too;
                                        logprobs, generate, bench and merge take it
  --gradient-checkpointing              a language model keeps only each block's input for the backward pass and
                                        runs the block again there: less memory, one more forward pass (bench too)
  built-in datasets: builtin:complaints, builtin:sentiment, builtin:topics

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
  --gradient-checkpointing              the activation estimate with each layer's input kept and one layer recomputed
  --bottleneck N --virtual-tokens N     for the method comparison (default 64, 20)
  --json                one JSON object instead of a table
language models (LM): smollm2 (SmolLM2-135M-Instruct, fetched by the set-up), gemma-3-270m
         (tools/fetch_gguf.sh gemma-3-270m), a .gguf file, a model folder, hf:ORG/NAME
presets: all-MiniLM-L6-v2, bert-base-uncased, distilbert-base-uncased, roberta-base, ModernBERT-base,
         gpt2, gemma-3-270m, Llama-2-7b";

pub fn usage_error(message: &str) -> i32 {
    eprintln!("error: {message}\n\n{USAGE}");
    2
}

/// A command's outcome as its exit code: 0, or the message on stderr and the code of its kind: 1 bad input (a
/// model, a file, a setting), 3 a lost GPU, 4 busy, 5 a bug (2 is a bad command line: `usage_error`).
#[cfg(feature = "train")]
pub fn exit_code(outcome: Result<(), Error>) -> i32 {
    match outcome {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("error: {e}");
            match e.kind {
                ErrorKind::BadInput => 1,
                ErrorKind::DeviceLost => 3,
                ErrorKind::Busy => 4,
                ErrorKind::Internal => 5,
            }
        }
    }
}
