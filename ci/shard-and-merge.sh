#!/usr/bin/env bash
# The CI pipeline's steps, runnable on one machine: set up, run the suite in N shards, merge them into one
# signed submission. ci/github-actions.yml and ci/gitlab-ci.yml call these same steps, one shard per job.
#
#   bash ci/shard-and-merge.sh all   [N]   set up, run shards 1..N one after another, merge (the local rehearsal)
#   bash ci/shard-and-merge.sh setup       install as the README says (bash scripts/quickstart setup)
#   bash ci/shard-and-merge.sh shard K N   run shard K of N headless into $KIEMTHU_CI_OUT/shard-K
#   bash ci/shard-and-merge.sh merge       merge $KIEMTHU_CI_OUT/shard-* into $KIEMTHU_CI_OUT/merged, then verify it
#
# Settings (environment):
#   KIEMTHU_TARGET            target file of the system under test; unset: the demo (reference system + mock)
#   KIEMTHU_CI_OUT            where shards and the merge go (default reports/out/ci)
#   KIEMTHU_WORKERS           services side by side within a job (default auto: one per core)
#   KIEMTHU_TREND_FROM        the previous merged run folder (e.g. the last pipeline's artefact): the Allure trend
#                             goes on from it
#   KIEMTHU_SIGNING_KEY_PEM   the bundle-signing key (a CI secret): every shard and the merge must sign with
#                             one key, or the merge refuses the shards as signed by an untrusted key
#   KIEMTHU_BROWSER_WS        a Playwright browser server to use instead of a local Chromium
#
# Exit: 0 every service passed; 1 a service did not pass (the reports are still built and merged);
# 2 or more: the run could not be made (bad configuration, a refused merge).
set -euo pipefail

cd "$(dirname "$0")/.."
OUT="${KIEMTHU_CI_OUT:-reports/out/ci}"
KIEMTHU="${KIEMTHU:-.venv/bin/kiemthu}"

install_signing_key() {
  # the key comes from a CI secret; it is written where kiemthu looks for it, never into the run folders
  if [ -n "${KIEMTHU_SIGNING_KEY_PEM:-}" ]; then
    local key="${KIEMTHU_SIGNING_KEY:-${XDG_CONFIG_HOME:-$HOME/.config}/kiemthu/signing-key.pem}"
    mkdir -p "$(dirname "$key")"
    (umask 077 && printf '%s\n' "$KIEMTHU_SIGNING_KEY_PEM" > "$key")
  fi
}

step_setup() {
  bash scripts/quickstart setup
}

step_shard() {
  local k="$1" n="$2"
  install_signing_key
  mkdir -p "$OUT"
  # services side by side within the job too (auto: one per core; 0 for a target whose officer works by hand)
  local workers="${KIEMTHU_WORKERS:-auto}"
  if [ -n "${KIEMTHU_TARGET:-}" ]; then
    "$KIEMTHU" run --target "$KIEMTHU_TARGET" --shard "$k/$n" --workers "$workers" --output "$OUT/shard-$k"
  else
    "$KIEMTHU" demo --shard "$k/$n" --workers "$workers" --output "$OUT/shard-$k"
  fi
}

step_merge() {
  install_signing_key
  shopt -s nullglob
  local shards=("$OUT"/shard-*)
  if [ "${#shards[@]}" -eq 0 ]; then
    echo "no shard run directories in $OUT (chưa có phân đoạn nào)" >&2
    return 2
  fi
  rm -rf "$OUT/merged"
  local trend=()
  [ -n "${KIEMTHU_TREND_FROM:-}" ] && trend=(--trend-from "$KIEMTHU_TREND_FROM")
  "$KIEMTHU" report --merge "${shards[@]}" --output "$OUT/merged" "${trend[@]}"
  "$KIEMTHU" report --verify "$OUT/merged"
}

step_all() {
  local n="${1:-2}" worst=0 code
  step_setup
  rm -rf "$OUT"
  for k in $(seq 1 "$n"); do
    code=0
    step_shard "$k" "$n" || code=$?
    if [ "$code" -ge 2 ]; then
      echo "shard $k/$n could not run (exit $code)" >&2
      return "$code"
    fi
    [ "$code" -gt "$worst" ] && worst=$code
  done
  step_merge
  return "$worst"
}

case "${1:-}" in
  setup) step_setup ;;
  shard) step_shard "${2:?shard K N}" "${3:?shard K N}" ;;
  merge) step_merge ;;
  all) step_all "${2:-2}" ;;
  *) sed -n '2,20p' "$0" >&2; exit 2 ;;
esac
