#!/bin/bash
# On the GPU machine (benchmarks/gpu/prepare.sh says how it gets there), as one run:
#   setup; FIM continued training of Qwen2.5-Coder 0.5B (GPU, in the background); the Qwen import
#   (CPU, beside it); the CUDA tests; the CPU int8 path's latency while the GPU trains (one of 16
#   cores busy feeding it); once training is done, the CUDA path's latency alone.
# What a run took is in its log (benchmarks/results/gpu/): the training gets what END_S leaves
# after the model's load, the examples, the dev measures and the CUDA latency.
# Env: END_S (seconds this run may take), LAYOUTS, LR, EXAMPLES (nib finetune's), W (where the chunks were moved),
# CPU_LATENCY (0: not timed, as when an earlier lease timed it). The corpus's project_cuts.jsonl, where
# prepare.sh put it there, is trained on too (`nib project-cuts`).
set -u
export PYTHONUNBUFFERED=1 TOKENIZERS_PARALLELISM=false PYTORCH_CUDA_ALLOC_CONF=expandable_segments:True
T0=$(date +%s)
say() { echo "[$(($(date +%s) - T0)) s] $*"; }
END_S=${END_S:-540}
LAYOUTS=${LAYOUTS:-line}
LR=${LR:-3e-4}
EXAMPLES=${EXAMPLES:-70000}
W=${W:-/root/nibw}
CPU_LATENCY=${CPU_LATENCY:-1}
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

# the training's own time: END_S less the setup, about 240 s around it (load, examples, two dev
# measures) and 90 s for the CUDA latency after it
TRAIN_S=${TRAIN_S:-$((END_S - $(date +%s) + T0 - 330))}
say "training for $TRAIN_S s"
# in a session of its own, into /root/train (not $OUT, which is /root/out there: the tool empties it
# after each call, and the rest of a log written there is lost): a training longer than this call goes on into the next
# (`benchmarks/gpu/after.sh`), the machine being warm between them
mkdir -p /root/train
setsid timeout $((TRAIN_S + 300)) python3 -m nib.server.cli finetune qwen2.5-coder-0.5b --out /root/train/fim_adapter.npz \
  --report /root/train/fim_report.json --seconds "$TRAIN_S" --device cuda --layouts $LAYOUTS --lr "$LR" \
  --examples "$EXAMPLES" --dev-cuts 300 $([ -f data/corpus/project_cuts.jsonl ] && echo --project-cuts data/corpus/project_cuts.jsonl) \
  > /root/train/finetune.log 2>&1 &

say "import"
python3 -m nib.server.cli model import qwen2.5-coder-0.5b --no-adapter 2>&1 | tr '\r' '\n' | tail -3
say "CUDA tests"
timeout 200 python3 -m pytest -p no:cacheprovider -p no:hypothesispytest -q -rs tests/e2e/test_qwen.py \
  -k "torch_runs_the_same_model" 2>&1 | tail -8
latency() {  # $1 the device
  timeout "$2" python3 benchmarks/latency.py --split fresh --seeds 0 --lines 0 --model qwen2.5-coder-0.5b --cps 8 \
    --no-jedi --no-cold --settings "{\"model\": {\"device\": \"$1\"}}" --json "$OUT/latency_$1.json" 2>&1 | tail -6
}
if [ "$CPU_LATENCY" = 1 ]; then
  say "latency cpu (the GPU training beside it)"
  latency cpu 120
fi
tr '\r' '\n' < /root/train/finetune.log | grep -v -E "Converting|^\s*$" | tail -8
nvidia-smi --query-gpu=name,memory.used,memory.total --format=csv
say "done; the training goes on"
