#!/bin/bash
# The call after run.sh's, the machine still warm: the training's end waited for, its files into
# $OUT, then the CUDA path's latency alone on the GPU.
set -u
export PYTHONUNBUFFERED=1
T0=$(date +%s)
say() { echo "[$(($(date +%s) - T0)) s] $*"; }
while pgrep -f "nib.server.cli finetune" > /dev/null; do sleep 2; done
say "training done"
tr '\r' '\n' < /root/train/finetune.log | grep -v -E "Converting|^\s*$" | tail -30
cp /root/train/* "$OUT"/
# the CUDA path loads the GGUF through transformers (about 70 s on the H200), past latency.py's 30 s a
# request: on 2026-12-04 the replay stopped at its first (latency_cuda_2026-12-04_failed.log); --warm-up's
# untimed request now waits for the load, hence the 180 s
say "latency cuda"
timeout "${LATENCY_S:-180}" python3 benchmarks/latency.py --split fresh --seeds 0 --lines 0 --model qwen2.5-coder-0.5b \
  --cps 8 --no-jedi --no-cold --warm-up --settings '{"model": {"device": "cuda"}}' --json "$OUT/latency_cuda.json" 2>&1 | tail -8
say "done"
