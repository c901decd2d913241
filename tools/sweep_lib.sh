# Sourced by the sweep scripts (tools/evidence.sh, tools/block_sweep.sh): a queue of trainings run J at a time.
# Before sourcing, set: out (the sweep's directory), bin (the trainer), common (an array of flags every run gets),
# jobs (runs at once), and optionally only (method tags for row; empty = every row). Finished runs (with a
# summary.json) are skipped, so an interrupted sweep continues.
jobs_file="$out/jobs.txt"
: > "$jobs_file"
run() {  # run <name> <args...>: queues one training unless it already finished
  local name="$1"; shift
  if [[ -f "$out/$name/summary.json" ]]; then echo "skip $name (done)"; return; fi
  mkdir -p "$out/$name"
  echo "$name $bin ${common[*]} --out_dir=$out/$name $*" >> "$jobs_file"
}
row() {  # row <method tag> <name> <args...>: queues the run unless $only is set and leaves this tag out
  local method="$1"; shift
  if [[ -n "${only:-}" && " $only " != *" $method "* ]]; then return; fi
  run "$@"
}
run_queue() {  # runs every queued training; a failed run is reported and the sweep goes on
  echo "running $(wc -l < "$jobs_file") trainings, $jobs at a time"
  # Each line: <name> <command...>.
  xargs -P "$jobs" -L 1 bash -c 'name="$0"; if "$@" > "'"$out"'/$name/log.txt" 2>&1; then echo "done $name"; else echo "FAILED $name (see '"$out"'/$name/log.txt)"; fi' < "$jobs_file"
}
