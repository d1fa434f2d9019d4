#!/usr/bin/env bash
# bench/scripts/published-runs.sh - `arplan step` beside published large training runs (README
# "Training steps", "Against published training runs"): for each run, the published figure, the
# same figure in the model's FLOP count, arplan's per-step MFU and step time, and the error.
#
# A published figure is either an MFU (kind mfu) or achieved TFLOP/s per GPU counted as
# Megatron-LM does with activation recomputation (kind tflops4: 96 B s l h^2 (1 + s/6h +
# V/16lh) per step, Narayanan et al. 2021, equation 3).  A tflops4 figure gives tokens/s, hence
# the published step time (global batch / tokens/s) and an MFU in the model's count (6 x params
# + 12 x layers x hidden x seq_len per token, at the catalog's peak).  Layers, hidden, seq_len
# and vocab are read from the workload file.  Per-step MFU leaves the checkpoint share out, as
# the published figures do.
#   usage: bench/scripts/published-runs.sh   (BUILD=build by default)
set -u
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
arplan=$BUILD/arplan
[ -x "$arplan" ] || { echo "published-runs: no $arplan (run make first)" >&2; exit 2; }

# name | topology | workload | kind | published value | source
runs=(
	"Llama 3 405B|fat-tree-16k-3tier|llama3-405b|mfu|41|Meta, The Llama 3 Herd of Models (2024), table 4"
	"Megatron-LM GPT 1T|selene-3072-a100|megatron-1t|tflops4|163|Narayanan et al., SC 2021, table 1"
	"BLOOM-176B|jean-zay-384-a100|bloom-176b|tflops4|150|BigScience 176B model training page"
)

# field KEY FILE: the number after "KEY": in arplan's JSON, or after KEY: in a workload file
field() { awk -v k="$1" '$1 == "\"" k "\":" || $1 == k ":" { gsub(/[,"]/, "", $2); print $2; exit }' "$2"; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
printf '# load %s\n' "$(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-20s %6s %-12s %-14s %9s %9s %8s %9s %9s %8s\n' run GPUs 'd x t x p' published \
	'pub MFU%' 'arplan%' 'err pts' 'pub step' 'arplan s' 'step err'
for r in "${runs[@]}"; do
	IFS='|' read -r name topo wl kind value source <<<"$r"
	w=configs/workloads/$wl.yaml
	"$arplan" step --json --topo "configs/topologies/$topo.yaml" --workload "$w" >"$tmp/s.json" ||
		{ echo "published-runs: arplan step failed on $topo / $wl" >&2; exit 2; }
	awk -v name="$name" -v kind="$kind" -v val="$value" \
		-v gpus="$(field gpus "$tmp/s.json")" -v d="$(field data "$tmp/s.json")" \
		-v t="$(field tensor "$tmp/s.json")" -v p="$(field pipeline "$tmp/s.json")" \
		-v peak="$(field peak_tflops "$tmp/s.json")" -v fpt="$(field flops_per_token "$tmp/s.json")" \
		-v mfu="$(field mfu "$tmp/s.json")" -v ck="$(field checkpoint_share "$tmp/s.json")" \
		-v step="$(field step_s "$tmp/s.json")" -v batch="$(field global_batch_tokens "$w")" \
		-v l="$(field layers "$w")" -v h="$(field hidden "$w")" -v s="$(field seq_len "$w")" \
		-v V="$(field vocab "$w")" '
	BEGIN {
		per_step = mfu / (1 - ck) * 100
		if (kind == "mfu") {
			pub = val; pub_s = "-"; err_s = "-"; label = val "% MFU"
		} else {
			meg = 96 * l * h * h * (1 + s / (6 * h) + V / (16 * l * h))   # FLOP per token
			tps = val * 1e12 / meg                                          # tokens/s per GPU
			pub = tps * fpt / (peak * 1e12) * 100
			ps = batch / (tps * gpus)
			pub_s = sprintf("%.1f", ps); err_s = sprintf("%+.1f%%", (step - ps) / ps * 100)
			label = val " TFLOP/s"
		}
		printf "%-20s %6d %-12s %-14s %9.1f %9.1f %+8.1f %9s %9.1f %8s\n", name, gpus,
			d "x" t "x" p, label, pub, per_step, per_step - pub, pub_s, step, err_s
	}'
done
for r in "${runs[@]}"; do
	IFS='|' read -r name topo wl kind value source <<<"$r"
	printf '# %s: %s; arplan step --topo configs/topologies/%s.yaml --workload configs/workloads/%s.yaml\n' \
		"$name" "$source" "$topo" "$wl"
done
