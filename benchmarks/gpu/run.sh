#!/bin/bash
# On the GPU machine (benchmarks/gpu/prepare.sh says how it gets there), as one run:
#   setup; FIM continued training of Qwen2.5-Coder 0.5B (GPU, in the background); the Qwen import
#   (CPU, beside it); the CUDA tests; then, once training is done, GPU latency against the CPU int8
#   path on the same machine.
# The import and the training run side by side (one on the CPUs, one on the GPU): what a run took
# is in its log (benchmarks/results/gpu/), to size TRAIN_S to the device time left.
# Env: TRAIN_S (training seconds), LATENCY (1 runs it), W (where the chunks were moved).
set -u
export PYTHONUNBUFFERED=1 TOKENIZERS_PARALLELISM=false
T0=$(date +%s)
say() { echo "[$(($(date +%s) - T0)) s] $*"; }
TRAIN_S=${TRAIN_S:-180}
LATENCY=${LATENCY:-1}
W=${W:-/root/nibw}
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir \
  $(ls "$W"/.whl/*.whl | grep -v -E "/(attrs|typing_extensions)-") 2>&1 | tail -3
python3 -c "import cattrs" 2>/dev/null ||
  python3 -m pip install -q --no-index --no-deps --no-compile "$W"/.whl/attrs-*.whl "$W"/.whl/typing_extensions-*.whl
python3 -m pip install -q --no-index --no-deps --no-build-isolation -e . 2>&1 | tail -3
python3 -c "import nib.server.cli, cattrs, pygls, pytest_lsp, tree_sitter_python, jedi, gguf, torch
print('imports ok', torch.__version__, torch.cuda.get_device_name())" || exit 1
mkdir -p ~/.cache/nib/wheels
cat "$W"/w0? | tar xf - -C ~/.cache/nib/wheels || exit 1
tar xJf "$W"/heldout.tar.xz -C ~/.cache/nib && tar xJf "$W"/corpus.tar.xz || exit 1
say "setup done"

timeout $((TRAIN_S + 240)) python3 -m nib.server.cli finetune qwen2.5-coder-0.5b --out "$OUT/fim_adapter.npz" \
  --report "$OUT/fim_report.json" --seconds "$TRAIN_S" --device cuda > /tmp/finetune.log 2>&1 &
TRAIN=$!

say "import"
time python3 -m nib.server.cli model import qwen2.5-coder-0.5b 2>&1 | tr '\r' '\n' | tail -4
say "CUDA tests"
timeout 300 python3 -m pytest -p no:cacheprovider -p no:hypothesispytest -q -rs tests/e2e/test_qwen.py -k "not adapter_is_merged" 2>&1 | tail -25
say "waiting for the training"
wait $TRAIN
say "training exit $?"
tr '\r' '\n' < /tmp/finetune.log | grep -v -E "Converting|^\s*$" | tail -40

if [ "$LATENCY" = 1 ]; then
  for dev in cuda cpu; do
    say "latency $dev"
    timeout 120 python3 benchmarks/latency.py --split fresh --seeds 0 --lines 0 --model qwen2.5-coder-0.5b --cps 8 \
      --no-jedi --no-cold --settings "{\"model\": {\"device\": \"$dev\"}}" --json "$OUT/latency_$dev.json" 2>&1 | tail -12
  done
fi
say "done"
