#!/bin/bash
# The call after run.sh's, the machine still warm: the training's end waited for, its files into
# $OUT, then the CUDA path's latency alone on the GPU.
set -u
export PYTHONUNBUFFERED=1
T0=$(date +%s)
say() { echo "[$(($(date +%s) - T0)) s] $*"; }
while pgrep -f "nib.server.cli finetune" > /dev/null; do sleep 2; done
say "training done"
tr '\r' '\n' < /root/out/finetune.log | grep -v -E "Converting|^\s*$" | tail -30
cp /root/out/* "$OUT"/
say "latency cuda"
timeout "${LATENCY_S:-100}" python3 benchmarks/latency.py --split fresh --seeds 0 --lines 0 --model qwen2.5-coder-0.5b \
  --cps 8 --no-jedi --no-cold --settings '{"model": {"device": "cuda"}}' --json "$OUT/latency_cuda.json" 2>&1 | tail -6
say "done"
