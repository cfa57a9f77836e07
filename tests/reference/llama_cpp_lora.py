"""llama.cpp's side of the LoRA adapter export (issue 26).

1. `convert`: llama.cpp's own converter (`convert_lora_to_gguf.py`, from the llama.cpp sources inside
   llama-cpp-python's sdist: `pip download --no-binary :all: --no-deps llama-cpp-python==0.3.36`, unpack, then
   vendor/llama.cpp) on the tiny Llama's PEFT adapter (crate/tests/fixtures/decoder/llama/peft), float32 out:
   crate/tests/fixtures/decoder/llama/llama_cpp/adapter.gguf, the file `lora_gguf` is compared with.

       python3 tests/reference/llama_cpp_lora.py convert LLAMA_CPP_DIR

2. `compare`: llama.cpp itself (llama-cpp-python 0.3.36, built with
   CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON") runs the base GGUF with the adapter
   GGUF that `lora-playground export-gguf` wrote, on the prompt tokens of each line `lora-playground generate
   --adapter` printed, greedy for as many tokens; prints, per prompt, how many leading tokens agree and the largest
   log-probability difference over them, then a JSON summary (tools/check/llama_cpp.sh does all of it).

       python3 tests/reference/llama_cpp_lora.py compare BASE.gguf ADAPTER.gguf OURS.jsonl
"""
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
TINY = os.path.join(HERE, "..", "..", "crate", "tests", "fixtures", "decoder", "llama")


def convert(llama_cpp):
    out = os.path.join(TINY, "llama_cpp", "adapter.gguf")
    os.makedirs(os.path.dirname(out), exist_ok=True)
    env = dict(os.environ, PYTHONPATH=os.path.join(llama_cpp, "gguf-py"))
    subprocess.run([sys.executable, os.path.join(llama_cpp, "convert_lora_to_gguf.py"), "--base", TINY,
                    "--outtype", "f32", "--outfile", out, os.path.join(TINY, "peft")], check=True, env=env)
    print(out)


def compare(base, adapter, ours_jsonl):
    import numpy as np
    from llama_cpp import Llama
    llm = Llama(model_path=base, lora_path=adapter, n_ctx=512, n_threads=os.cpu_count(), logits_all=True,
                verbose=False, seed=0)
    rows = []
    for line in open(ours_jsonl):
        ours = json.loads(line)
        llm.reset()
        llm.eval(ours["prompt_tokens"])
        tokens, logprobs = [], []
        for _ in range(len(ours["tokens"])):
            logits = np.asarray(llm.scores[llm.n_tokens - 1], dtype=np.float64)
            lp = logits - logits.max() - np.log(np.exp(logits - logits.max()).sum())
            t = int(np.argmax(lp))
            tokens.append(t)
            logprobs.append(float(lp[t]))
            llm.eval([t])
        agree = next((i for i, (a, b) in enumerate(zip(tokens, ours["tokens"])) if a != b), len(tokens))
        diff = max((abs(a - b) for a, b in zip(logprobs[:agree], ours["logprobs"][:agree])), default=0.0)
        rows.append({"prompt_tokens": len(ours["prompt_tokens"]), "new_tokens": len(tokens), "agree": agree,
                     "max_logprob_diff_over_agreeing": diff, "ours": ours["tokens"], "llama_cpp": tokens,
                     "ours_text": ours["text"], "llama_cpp_text": llm.detokenize(tokens).decode(errors="replace")})
        print(f"{agree}/{len(tokens)} tokens agree, log-probs within {diff:.4f} over them: {ours['text']!r}")
    print(json.dumps(rows))


if __name__ == "__main__":
    if sys.argv[1] == "convert":
        convert(sys.argv[2])
    else:
        compare(sys.argv[2], sys.argv[3], sys.argv[4])
