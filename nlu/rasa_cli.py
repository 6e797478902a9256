"""Running the rasa CLI of the NLU environment (Python 3.10), and the model cache it fills."""

from __future__ import annotations

import fcntl
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from nlu.languages import DEFAULT, ROOT, lookup

ENGLISH = lookup(DEFAULT)
CONFIG = ENGLISH.config
TRAINING_DATA = ENGLISH.training_data
HELD_OUT = ENGLISH.held_out
HELD_OUT_SPEECH = ENGLISH.held_out_speech
EPOCH_RE = re.compile(r"Epochs:\s+(\d+)%.*?(\d+)/(\d+)")
COMPONENT_RE = re.compile(r"Finished training component '(\w+)'")
# Library chatter in Rasa's output that tells an admin nothing (kept out of training logs).
NOISE_RE = re.compile(
    r"Warning|warnings\.warn|declare_namespace|import pkg_resources|setuptools\.pypa\.io|"
    r"Implementing implicit namespace|from jax import|SQLALCHEMY|sqlalche\.me|^\s*Base: |"
    r"More info at|^\s+\S"
)

Log = Callable[[str], None]


def cache_dir() -> Path:
    """Where environments, models and Rasa's own cache live, outside any clone."""
    path = Path(os.environ.get("CIVICLINE_CACHE", Path.home() / ".cache" / "civicline"))
    path.mkdir(parents=True, exist_ok=True)
    return path


def rasa_bin() -> Path:
    """The rasa executable of the NLU environment (made by `make` through scripts/envs.sh)."""
    path = Path(os.environ.get("CIVICLINE_RASA_BIN", ROOT / ".venv-rasa" / "bin" / "rasa"))
    if not path.exists():
        raise FileNotFoundError(
            f"{path} is missing: build the Rasa environment first with `make envs` "
            "(it needs Python 3.10 from pyenv)."
        )
    return path


def rasa_env() -> dict[str, str]:
    """Environment for rasa subprocesses: quiet TensorFlow, no telemetry, a shared graph cache."""
    env = dict(os.environ)
    env.update(
        TF_CPP_MIN_LOG_LEVEL="2",
        RASA_TELEMETRY_ENABLED="false",
        SQLALCHEMY_SILENCE_UBER_WARNING="1",
        PYTHONWARNINGS="ignore",
        RASA_CACHE_DIRECTORY=str(cache_dir() / "rasa-graph-cache"),
    )
    return env


def fingerprint(config: Path, data: Iterable[Path], extra: str = "") -> str:
    """A short hash of the pipeline config, the training data and the Rasa version pin."""
    digest = hashlib.sha256()
    for path in (config, *data, ROOT / "requirements-rasa.txt"):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    digest.update(extra.encode())
    return digest.hexdigest()[:16]


def run_rasa(
    args: list[str],
    *,
    log: Log | None = None,
    cwd: Path | None = None,
    log_file: Path | None = None,
    on_progress: Callable[[int], None] | None = None,
    on_component: Callable[[str], None] | None = None,
) -> str:
    """Run `rasa ARGS`, streaming progress; returns the output, raises on failure.

    log gets a line per 10% of epochs and errors; log_file gets every line; on_progress gets
    the epoch percentage whenever it changes.
    """
    cmd = [str(rasa_bin()), *args]
    proc = subprocess.Popen(
        cmd,
        cwd=cwd or ROOT,
        env=rasa_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        bufsize=1,
    )
    lines: list[str] = []
    last_pct = -1
    last_logged = -1
    sink = log_file.open("a", encoding="utf-8") if log_file else None
    assert proc.stdout is not None
    try:
        for raw in iter(proc.stdout.readline, ""):
            for line in raw.replace("\r", "\n").splitlines():
                if not line.strip():
                    continue
                done = COMPONENT_RE.search(line)
                if done:  # every pipeline reports its components, with or without epochs
                    if sink:
                        sink.write(f"component {done.group(1)} trained\n")
                        sink.flush()
                    if on_component:
                        on_component(done.group(1))
                match = EPOCH_RE.search(line)
                if match:
                    pct = int(match.group(1))
                    if pct != last_pct:
                        last_pct = pct
                        if on_progress:
                            on_progress(pct)
                        if sink:
                            sink.write(f"epoch {match.group(2)}/{match.group(3)} ({pct}%)\n")
                    if log and pct >= last_logged + 10:
                        last_logged = pct
                        log(f"  training: epoch {match.group(2)}/{match.group(3)} ({pct}%)")
                    continue
                lines.append(line)
                if sink and not NOISE_RE.search(line):
                    sink.write(line + "\n")
                    sink.flush()
                if log and ("error" in line.lower() or "Finished training" in line):
                    log("  " + line.strip()[:200])
    finally:
        if sink:
            sink.close()
    if proc.wait() != 0:
        tail = "\n".join(lines[-40:])
        raise RuntimeError(f"rasa {' '.join(args[:2])} failed (exit {proc.returncode}):\n{tail}")
    return "\n".join(lines)


def train_nlu(
    config: Path,
    data: Path,
    out: Path,
    name: str,
    *,
    extra_args: list[str] | None = None,
    **run: Any,
) -> Path:
    """`rasa train nlu` into out/NAME.tar.gz (run in `out`, so Rasa's scratch files stay there)."""
    run_rasa(
        [
            "train",
            "nlu",
            "--config",
            str(config.resolve()),
            "--nlu",
            str(data.resolve()),
            "--out",
            str(out.resolve()),
            "--fixed-model-name",
            name,
            *(extra_args or []),
        ],
        cwd=out,
        **run,
    )
    return out / f"{name}.tar.gz"


def ensure_model(
    language: str = DEFAULT,
    *,
    config: Path | None = None,
    data: Path | None = None,
    log: Log = lambda s: print(s, file=sys.stderr, flush=True),
    extra_args: list[str] | None = None,
) -> Path:
    """A language's trained model for its config and data: from the cache, or trained now.

    Cached by fingerprint, so each language (and each config tried by `make compare`) keeps its
    own model; English names stay `nlu-<fp>` so existing caches still hit.
    """
    row = lookup(language)
    config, data = config or row.config, data or row.training_data
    models = cache_dir() / "models"
    models.mkdir(exist_ok=True)
    prefix = "nlu-" if row.code == DEFAULT else f"nlu-{row.code}-"
    name = f"{prefix}{fingerprint(config, [data], ' '.join(extra_args or []))}"
    target = models / f"{name}.tar.gz"
    with open(models / f".{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one training per fingerprint, even across processes
        if target.exists():
            log(f"NLU model {target.name} ({row.code}) is up to date (cached).")
            return target
        log(f"Training the {row.name} NLU model ({config.name} + {data.name} new or changed)...")
        started = time.monotonic()
        with tempfile.TemporaryDirectory(prefix="civicline-train-") as tmp:
            train_nlu(config, data, Path(tmp), name, log=log, extra_args=extra_args)
            shutil.move(str(Path(tmp) / f"{name}.tar.gz"), target)
        log(f"Trained {target.name} in {time.monotonic() - started:.0f}s.")
        return target


def model_fingerprint(model: Path) -> str:
    """The fingerprint in a cached model's file name (nlu-<fp> or nlu-<lang>-<fp>)."""
    return model.name.removesuffix(".tar.gz").rsplit("-", 1)[-1]
