#!/usr/bin/env bash
# The GPU recipes of issue #13 on Fashion, side by side on one GPU: text-only
# (smollm2-135m-gpu-fashion-mixtral.yaml) and hybrid (...-evidence-warm.yaml) students for the
# paper's K = 64/128/256 Mixtral rationales and all 896 (K=0), each early-stopped on 800 valid
# samples, then scored on the authors' 800 test samples through the transformers backend (fp32),
# with the prompt options each run's train_meta.json records (scoring.registry.run_options).
#   bash scripts/gpu_fashion_sweep.sh DATA_DIR [OUT_DIR] [K ...]
#   bash scripts/gpu_fashion_sweep.sh ../shared/data runs/gpu-fashion 0 256
# DATA_DIR: the data root (holds reasoningrec/fashion); OUT_DIR (default runs/gpu-fashion): one
# folder per run (adapter, train_meta.json, log.jsonl, auc.png) and its test report; K: the
# rationale counts (default 0 64 128 256). Each run's progress goes to OUT_DIR/<run>.log; a run
# that fails leaves its log and the others go on. At most JOBS runs at a time (default 4: eight
# side by side ran an H200's 140 GB out of memory, each process's allocator holding 10-35 GB).
# Env: SWEEP_EXTRA (more training.sft flags,
# e.g. "--max_steps 2 --val_samples 16" for a smoke test), EVAL_LIMIT (score only N test samples).
set -uo pipefail
DATA=${1:?usage: gpu_fashion_sweep.sh DATA_DIR [OUT_DIR] [K ...]}
OUT=${2:-runs/gpu-fashion}
shift $(( $# < 2 ? $# : 2 ))
KS=${*:-0 64 128 256}
PY=${PYTHON:-python3}
JOBS=${JOBS:-4}
export PYTORCH_CUDA_ALLOC_CONF=${PYTORCH_CUDA_ALLOC_CONF:-expandable_segments:True}
mkdir -p "$OUT"
TEACHER=$OUT/fashion-train-mixtral.jsonl
$PY -m training.import_teacher --dataset fashion --variant mixtral-8x7b --split train \
    --data-dir "$DATA" --out "$TEACHER" || exit 2
BASE=$($PY -c 'from reasoningrec.models.registry import smollm2_gguf; print(smollm2_gguf())') || exit 2

one_run() {   # one_run VARIANT K: train, then score the authors' 800 test samples
    local variant=$1 k=$2 recipe=training/recipes/smollm2-135m-gpu-fashion-mixtral.yaml
    [ "$variant" = text ] || recipe=training/recipes/smollm2-135m-gpu-fashion-mixtral-evidence-warm.yaml
    local name=$variant-k$k
    local run=$OUT/$name
    $PY -m training.sft --config "$recipe" --train_samples "$k" --output_dir "$run" \
        --data_dir "$DATA" --teacher_jsonl "$TEACHER" ${SWEEP_EXTRA:-} --json \
        > "$run.train.json" 2> "$run.log" || { echo "$name: training failed" >&2; return 1; }
    $PY -m reasoningrec eval --dataset fashion --data-dir "$DATA" --sample paper \
        --model "hf:$BASE+$run/adapter" \
        ${EVAL_LIMIT:+--limit $EVAL_LIMIT} --report-dir "$run/test-paper" --no-progress \
        --json > "$run.test.json" 2>> "$run.log" || { echo "$name: evaluation failed" >&2; return 1; }
    echo "$name: done $(date -u +%T)" >&2
}

start=$(date +%s)
for k in $KS; do
    for variant in hybrid text; do
        while [ "$(jobs -rp | wc -l)" -ge "$JOBS" ]; do wait -n; done
        one_run $variant "$k" &
    done
done
wait
echo "sweep finished in $(( $(date +%s) - start )) s" >&2
