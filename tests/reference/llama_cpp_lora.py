"""llama.cpp's side of the LoRA adapter export (issue 26).

1. `convert`: llama.cpp's own converter (`convert_lora_to_gguf.py`, from the llama.cpp sources inside
   llama-cpp-python's sdist: `pip download --no-binary :all: --no-deps llama-cpp-python==0.3.36`, unpack, then
   vendor/llama.cpp) on the tiny Llama's PEFT adapter (crate/tests/fixtures/decoder/llama/peft), float32 out:
   crate/tests/fixtures/decoder/llama/llama_cpp/adapter.gguf, the file `lora_gguf` is compared with.

       python3 tests/reference/llama_cpp_lora.py convert LLAMA_CPP_DIR

2. `generate`: llama.cpp itself (llama-cpp-python 0.3.36, built with
   CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON") runs a base GGUF with an adapter GGUF
   that `lora-playground export-gguf` wrote, greedy, and prints its tokens and top log-probabilities as one JSON line
   per prompt, for comparison with `lora-playground generate --adapter` (tools/check/llama_cpp.sh does both).

       python3 tests/reference/llama_cpp_lora.py generate BASE.gguf ADAPTER.gguf PROMPTS.txt [N_NEW]
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


def generate(base, adapter, prompts, n_new):
    from llama_cpp import Llama
    llm = Llama(model_path=base, lora_path=adapter, n_ctx=512, n_threads=os.cpu_count(), logits_all=True,
                verbose=False, seed=0)
    for prompt in open(prompts).read().splitlines():
        ids = llm.tokenize(prompt.encode(), add_bos=True, special=True)
        llm.reset()
        llm.eval(ids)
        out, top = [], []
        for _ in range(n_new):
            logits = llm.scores[llm.n_tokens - 1]
            import numpy as np
            lp = logits - np.log(np.exp(logits - logits.max()).sum()) - logits.max()
            t = int(np.argmax(lp))
            out.append(t)
            top.append(float(lp[t]))
            if t == llm.token_eos():
                break
            llm.eval([t])
        print(json.dumps({"prompt": prompt, "prompt_tokens": ids, "tokens": out, "logprobs": top}))


if __name__ == "__main__":
    if sys.argv[1] == "convert":
        convert(sys.argv[2])
    else:
        generate(sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]) if len(sys.argv) > 5 else 16)
